package coverage

import (
	"errors"
	"iter"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// ruleIndex indexes the parsed PromQL rules of an inventory.
type ruleIndex struct {
	// alerts are the alerting rules whose expression parsed and that evaluate: a rule whose
	// health is "err" fails every evaluation, never fires and covers nothing.
	alerts []*analyze.Rule
	// failing are the alerting rules left out of alerts for their health. They still read the
	// jobs their selectors name (JobsOf), which routing needs to say where they would go.
	failing []*analyze.Rule
	// recordings maps a recorded metric name to the rules that produce it; failing recording
	// rules produce nothing and are left out.
	recordings map[string][]*analyze.Rule
	// starved are the metric names only failing recording rules produce: no series has them.
	starved map[string]bool
	// alertsByMetric maps a metric name to the alerting rules whose selectors name it, directly
	// or through the recording rules they read (expanded transitively).
	alertsByMetric map[string][]*analyze.Rule
}

// maxRecordingDepth bounds the expansion of recording rules that read recording rules.
const maxRecordingDepth = 8

func newRuleIndex(inv *analyze.Inventory) *ruleIndex {
	idx := &ruleIndex{recordings: map[string][]*analyze.Rule{}, alertsByMetric: map[string][]*analyze.Rule{}, starved: map[string]bool{}}
	for gi := range inv.RuleGroups {
		g := &inv.RuleGroups[gi]
		if g.Language != "promql" {
			continue
		}
		for ri := range g.Rules {
			r := &g.Rules[ri]
			if r.Parsed == nil {
				continue
			}
			switch {
			case r.Kind == analyze.RuleAlerting && failing(r):
				idx.failing = append(idx.failing, r)
			case r.Kind == analyze.RuleAlerting:
				idx.alerts = append(idx.alerts, r)
			case r.Kind == analyze.RuleRecording && failing(r):
				idx.starved[r.Name] = true
			case r.Kind == analyze.RuleRecording:
				idx.recordings[r.Name] = append(idx.recordings[r.Name], r)
			}
		}
	}
	for name := range idx.starved {
		if len(idx.recordings[name]) > 0 {
			delete(idx.starved, name) // a healthy rule records it as well
		}
	}
	for _, a := range idx.alerts {
		seen := map[string]bool{}
		idx.walkMetrics(a.Parsed, 0, func(name string) {
			if !seen[name] {
				seen[name] = true
				idx.alertsByMetric[name] = append(idx.alertsByMetric[name], a)
			}
		})
	}
	return idx
}

// failing says whether the server reported that a rule fails to evaluate (rules/broken).
// Rules read from files carry no health and are taken to work.
func failing(r *analyze.Rule) bool { return r.Health == "err" }

// walkMetrics calls f with every metric name expr selects, following recording rules.
func (idx *ruleIndex) walkMetrics(expr parser.Expr, depth int, f func(string)) {
	for _, name := range namedSelectors(expr) {
		f(name)
		if depth < maxRecordingDepth {
			for _, rec := range idx.recordings[name] {
				idx.walkMetrics(rec.Parsed, depth+1, f)
			}
		}
	}
}

// errStopInspect stops parser.Inspect.
var errStopInspect = errors.New("stop")

// namedSelectors yields the vector selectors of expr that name their metric (MetricName), in
// the order parser.Inspect visits them, each with the name.
func namedSelectors(expr parser.Expr) iter.Seq2[*parser.VectorSelector, string] {
	return func(yield func(*parser.VectorSelector, string) bool) {
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			if name := MetricName(vs); name != "" && !yield(vs, name) {
				return errStopInspect
			}
			return nil
		})
	}
}

// MetricName is the metric a selector names with an equality matcher, or "".
func MetricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// RulesUnknownMetricName is the ID of the RulesUnknownMetric check.
const RulesUnknownMetricName = "rules/unknown-metric"

// RulesUnknownMetric reports rules that read a metric no target exposes and no recording rule
// produces: a typo, a renamed metric or a decommissioned service, and an alert that can never
// fire.
type RulesUnknownMetric struct{}

// alertSeries are the series Prometheus writes for alerts; they only exist while an alert is
// pending or firing, so their absence from the metric names says nothing.
var alertSeries = []string{"ALERTS", "ALERTS_FOR_STATE"}

func (RulesUnknownMetric) Meta() Meta {
	return Meta{ID: RulesUnknownMetricName, Severity: analyze.Warning, Scope: ScopeRule,
		Requires: []analyze.Part{analyze.PartRules, analyze.PartMetricNames}, SubjectKeys: []string{"rule", "metric"},
		SubjectDoc: "`rule`, `metric` (and `job` when the selector names one)",
		Summary:    "a rule reads a metric nothing exposes: it can never fire",
		Finds:      "a rule reading a metric no target exposes and no recording rule records. Details: `rule_kind`, `selector`",
	}
}

func (c RulesUnknownMetric) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	recorded := map[string]bool{}
	for _, g := range inv.RuleGroups {
		for _, r := range g.Rules {
			if r.Kind == analyze.RuleRecording {
				recorded[r.Name] = true
			}
		}
	}
	known := func(name string) bool {
		_, ok := slices.BinarySearch(inv.MetricNames, name)
		return ok || recorded[name] || slices.Contains(alertSeries, name)
	}

	var out findingBuffer
	var seen []string // the findings of the current rule; a rule reads a handful of metrics
	for _, g := range inv.RuleGroups {
		if g.Language != "promql" {
			continue
		}
		for _, r := range g.Rules {
			if r.Parsed == nil {
				continue
			}
			seen = seen[:0]
			parser.Inspect(r.Parsed, func(n parser.Node, path []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				name := coverage.MetricName(vs)
				if name == "" || known(name) || insideAbsent(path) {
					return nil
				}
				subject := map[string]string{"rule": r.Name, "metric": name}
				if job := jobOf(vs); job != "" {
					subject["job"] = job
				}
				f := c.Meta().finding(subject, unknownMetricMessage(r, name),
					map[string]string{"rule_kind": string(r.Kind), "selector": vs.String()})
				if slices.Contains(seen, f.ID) {
					return nil
				}
				seen = append(seen, f.ID)
				f.File, f.Group = r.File, r.Group
				f.Fix = "blindspot generate does not rewrite existing rules: correct the metric name, or delete the rule if what it watched is gone"
				if strings.HasPrefix(name, gapMetricPrefix) {
					f.Fix = gapMetricFix
				}
				out.add(f)
				return nil
			})
		}
	}
	return out.findings()
}

// gapMetricPrefix starts the names of the gap metrics `blindspot check` writes, which the
// generated self-watch rules read: until a check writes them where the server scrapes, they
// are unknown, and the fix is to run the check, not to rename anything.
const gapMetricPrefix = "blindspot_"

const gapMetricFix = "the metric is one of blindspot check's gap metrics: run the nightly `blindspot check` " +
	"with --pushgateway URL or --metrics-file PATH (node exporter's textfile collector) where this Prometheus scrapes it (docs/ci.md)"

func unknownMetricMessage(r analyze.Rule, metric string) string {
	consequence := "it can never fire"
	if r.Kind == analyze.RuleRecording {
		consequence = "it records nothing from it"
	}
	return fmt.Sprintf("rule %s reads metric %s, which no target exposes and no recording rule records: %s",
		strconv.Quote(r.Name), strconv.Quote(metric), consequence)
}

// insideAbsent reports whether a node under path is an argument of absent() or
// absent_over_time(), where a missing metric is what the rule is waiting for.
func insideAbsent(path []parser.Node) bool {
	return slices.ContainsFunc(path, func(n parser.Node) bool {
		call, ok := n.(*parser.Call)
		return ok && call.Func != nil && (call.Func.Name == "absent" || call.Func.Name == "absent_over_time")
	})
}

// jobOf returns the job a selector names with an equality matcher, or "".
func jobOf(vs *parser.VectorSelector) string {
	for _, m := range vs.LabelMatchers {
		if m.Name == "job" && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

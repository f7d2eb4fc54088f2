// Package routing decides where the notifications of every alerting rule would go, with
// Alertmanager's own routing tree (dispatch.NewRoute and Route.Match) over the configuration
// the Alertmanager has loaded. It is pure: it reads an inventory and does no HTTP.
package routing

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// Options say what counts as critical, as paging and as an owner.
type Options struct {
	// SeverityLabel holds an alert's severity (default severity); CriticalValues are the
	// values that mean "wake someone up" (default critical).
	SeverityLabel  string
	CriticalValues []string
	// PagingKinds are the integration kinds that page a person, named as in the receiver's
	// <kind>_configs key (default pagerduty, opsgenie, victorops, webhook).
	PagingKinds []string
	// OwnerLabels name an alert's owner (default team, owner).
	OwnerLabels []string
	// SilenceHorizon is how far ahead a silence may end before it counts as long-lived
	// (default 7 days).
	SilenceHorizon time.Duration
}

// Defaults of Options.
var (
	DefaultCriticalValues = []string{"critical"}
	DefaultPagingKinds    = []string{"pagerduty", "opsgenie", "victorops", "webhook"}
	DefaultOwnerLabels    = []string{"team", "owner"}
)

// DefaultSilenceHorizon is the default Options.SilenceHorizon.
const DefaultSilenceHorizon = 7 * 24 * time.Hour

// WithDefaults fills the zero fields.
func (o Options) WithDefaults() Options {
	if o.SeverityLabel == "" {
		o.SeverityLabel = "severity"
	}
	if len(o.CriticalValues) == 0 {
		o.CriticalValues = DefaultCriticalValues
	}
	if len(o.PagingKinds) == 0 {
		o.PagingKinds = DefaultPagingKinds
	}
	if len(o.OwnerLabels) == 0 {
		o.OwnerLabels = DefaultOwnerLabels
	}
	if o.SilenceHorizon <= 0 {
		o.SilenceHorizon = DefaultSilenceHorizon
	}
	return o
}

// Tree is a loaded Alertmanager configuration, ready to route label sets.
type Tree struct {
	root      *dispatch.Route
	receivers map[string][]string // receiver name → its integration kinds, sorted
	opts      Options
}

// NewTree builds the routing tree of cfg.
func NewTree(cfg *amconfig.Config, o Options) *Tree {
	t := &Tree{root: dispatch.NewRoute(cfg.Route, nil), receivers: map[string][]string{}, opts: o.WithDefaults()}
	for _, r := range cfg.Receivers {
		t.receivers[r.Name] = IntegrationKinds(r)
	}
	return t
}

// IntegrationKinds lists the kinds of integration a receiver has ("webhook", "slack", …),
// read from its <kind>_configs fields so that kinds added to Alertmanager are seen too. A
// receiver with none is a null receiver: what reaches it goes nowhere.
func IntegrationKinds(r amconfig.Receiver) []string {
	var kinds []string
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		kind, ok := strings.CutSuffix(name, "_configs")
		if ok && f.Type.Kind() == reflect.Slice && v.Field(i).Len() > 0 {
			kinds = append(kinds, kind)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// Route is where one label set goes.
type Route struct {
	// Receivers are the receivers reached, in routing order, without repeats.
	Receivers []string
	// Default is true when only the root route matched: the alert reaches the default
	// receiver because no route was written for it.
	Default bool
}

// Match routes a label set.
func (t *Tree) Match(ls model.LabelSet) Route {
	var out Route
	matched := t.root.Match(ls)
	out.Default = len(matched) == 1 && matched[0] == t.root
	for _, m := range matched {
		if !slices.Contains(out.Receivers, m.RouteOpts.Receiver) {
			out.Receivers = append(out.Receivers, m.RouteOpts.Receiver)
		}
	}
	return out
}

// Kinds returns the integration kinds of a receiver.
func (t *Tree) Kinds(receiver string) []string { return t.receivers[receiver] }

// Pages reports whether a receiver has an integration of a paging kind.
func (t *Tree) Pages(receiver string) bool {
	return slices.ContainsFunc(t.receivers[receiver], func(k string) bool { return slices.Contains(t.opts.PagingKinds, k) })
}

// Paging returns the receivers of r that page.
func (t *Tree) Paging(r Route) []string {
	var out []string
	for _, name := range r.Receivers {
		if t.Pages(name) {
			out = append(out, name)
		}
	}
	return out
}

// Null reports whether a receiver has no integration at all.
func (t *Tree) Null(receiver string) bool { return len(t.receivers[receiver]) == 0 }

// Alert is an alerting rule with the label sets its alerts would carry: one per job whose
// series it reads, or one without job labels when it reads none known.
type Alert struct {
	Rule      *analyze.Rule
	Group     *analyze.RuleGroup
	LabelSets []LabelSet
}

// LabelSet is the labels of an alert of a rule for one job ("" for none).
type LabelSet struct {
	Job    string
	Labels model.LabelSet
}

// Alerts builds the label sets of every alerting rule of inv, in rule order.
func Alerts(inv *analyze.Inventory, cov *coverage.Analysis) []Alert {
	var out []Alert
	for gi := range inv.RuleGroups {
		g := &inv.RuleGroups[gi]
		for ri := range g.Rules {
			r := &g.Rules[ri]
			if r.Kind != analyze.RuleAlerting {
				continue
			}
			a := Alert{Rule: r, Group: g}
			jobs := cov.JobsOf(r)
			if len(jobs) == 0 {
				a.LabelSets = append(a.LabelSets, LabelSet{Labels: ruleLabels(r, nil)})
			}
			for _, job := range jobs {
				a.LabelSets = append(a.LabelSets, LabelSet{Job: job, Labels: ruleLabels(r, JobLabels(inv, job))})
			}
			out = append(out, a)
		}
	}
	return out
}

// ruleLabels is what an alert of r carries: the series' labels, overridden by the rule's
// static labels, and alertname (as Prometheus sets them).
func ruleLabels(r *analyze.Rule, series map[string]string) model.LabelSet {
	ls := model.LabelSet{}
	for k, v := range series {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	for k, v := range r.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	ls[model.AlertNameLabel] = model.LabelValue(r.Name)
	return ls
}

// JobLabels are the labels every target of a job carries with the same value (job,
// namespace, cluster, …; not instance), which every alert on the job's series carries too.
func JobLabels(inv *analyze.Inventory, job string) map[string]string {
	out := map[string]string{"job": job}
	targets := inv.TargetsOf(job)
	if len(targets) == 0 {
		return out
	}
	common := maps.Clone(targets[0].Labels)
	for _, t := range targets[1:] {
		for k, v := range common {
			if t.Labels[k] != v {
				delete(common, k)
			}
		}
	}
	for k, v := range common {
		if k == "instance" || strings.HasPrefix(k, "__") {
			continue
		}
		out[k] = v
	}
	out["job"] = job
	return out
}

// Critical reports whether r is critical under o.
func Critical(r *analyze.Rule, o Options) bool {
	o = o.WithDefaults()
	return slices.Contains(o.CriticalValues, r.Labels[o.SeverityLabel])
}

// AlwaysFiring reports whether a rule is a heartbeat: its expression is vector(N), perhaps in
// parentheses, so it fires on every evaluation.
func AlwaysFiring(r *analyze.Rule) bool {
	e := r.Parsed
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	call, ok := e.(*parser.Call)
	if !ok || call.Func == nil || call.Func.Name != "vector" || len(call.Args) != 1 {
		return false
	}
	_, ok = call.Args[0].(*parser.NumberLiteral)
	return ok
}

// Silenced returns the silences of inv that are active and mute ls.
func Silenced(inv *analyze.Inventory, ls model.LabelSet) []*analyze.Silence {
	var out []*analyze.Silence
	for i := range inv.Alerting.Silences {
		s := &inv.Alerting.Silences[i]
		if s.State != "active" {
			continue
		}
		ms, ok := matchers(s)
		if ok && ms.Matches(ls) {
			out = append(out, s)
		}
	}
	return out
}

// BroadSilence reports whether a silence names nothing narrower than a job: its matchers
// constrain no label but job, so it mutes every alert of the jobs it matches.
func BroadSilence(s *analyze.Silence) bool {
	ms, ok := matchers(s)
	if !ok {
		return false
	}
	for _, m := range ms {
		if m.Name != "job" && !m.Matches("") {
			return false
		}
	}
	return true
}

func matchers(s *analyze.Silence) (amlabels.Matchers, bool) {
	var out amlabels.Matchers
	for _, m := range s.Matchers {
		t := amlabels.MatchEqual
		switch {
		case m.IsRegex && m.IsEqual:
			t = amlabels.MatchRegexp
		case m.IsRegex:
			t = amlabels.MatchNotRegexp
		case !m.IsEqual:
			t = amlabels.MatchNotEqual
		}
		lm, err := amlabels.NewMatcher(t, m.Name, m.Value)
		if err != nil {
			return nil, false
		}
		out = append(out, lm)
	}
	return out, true
}

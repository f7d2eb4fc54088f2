package prometheus

import (
	"cmp"
	"context"
	"slices"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// The series the alert history reads: ALERTS, which the rule manager writes for every pending
// or firing alert, and the rule manager's own gauge of the rules of each group, present while
// the group is loaded (when the server scrapes itself).
const (
	alertsMetric     = "ALERTS"
	ruleGroupMetric  = "prometheus_rule_group_rules"
	alertNameLabel   = "alertname"
	ruleGroupLabel   = "rule_group"
	alertStateLabel  = "alertstate"
	alertStateFiring = "firing"
)

// firingSelector is `ALERTS{alertstate="firing"}`, offset by offset.
func firingSelector(offset time.Duration) parser.Expr {
	return &parser.VectorSelector{Name: alertsMetric, OriginalOffset: offset, LabelMatchers: []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, alertStateLabel, alertStateFiring),
		labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, alertsMetric),
	}}
}

// ruleGroupSelector is `prometheus_rule_group_rules`, offset by offset.
func ruleGroupSelector(offset time.Duration) parser.Expr {
	return nameSelector(ruleGroupMetric, offset)
}

// countBy is `count by (label) (expr)`.
func countBy(label string, expr parser.Expr) parser.Expr {
	return &parser.AggregateExpr{Op: parser.COUNT, Grouping: []string{label}, Expr: expr}
}

// presenceEventsQuery is, for a selector s and a label l,
//
//	label_replace(count by (l) (s offset step) unless on (l) count by (l) (s), "event", "stopped", "", "")
//	or
//	label_replace(count by (l) (s) unless on (l) count by (l) (s offset step), "event", "started", "", "")
//
// which has a point only at the steps where the series of a value of l stopped or started: one
// present (or absent) all along gives none, whatever the number of steps.
func presenceEventsQuery(s func(offset time.Duration) parser.Expr, l string, step time.Duration) parser.Expr {
	event := func(name string, was, is parser.Expr) parser.Expr {
		return labelReplace(&parser.BinaryExpr{Op: parser.LUNLESS, LHS: was, RHS: is,
			VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, MatchingLabels: []string{l}, On: true}},
			eventLabel, name, "", "")
	}
	before, now := countBy(l, s(step)), countBy(l, s(0))
	return or(event(eventStopped, before, now), event(eventStarted, now, before))
}

// or is `lhs or rhs`, or with labels `lhs or on (labels) rhs` (a plain or matches series
// without their metric name).
func or(lhs, rhs parser.Expr, on ...string) parser.Expr {
	return &parser.BinaryExpr{Op: parser.LOR, LHS: lhs, RHS: rhs,
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, MatchingLabels: on, On: len(on) > 0}}
}

// alertHistoryQuery is the range query of the alert history: the steps at which an alert name
// began or stopped firing, and at which a rule group appeared or disappeared.
func alertHistoryQuery(step time.Duration) parser.Expr {
	return or(presenceEventsQuery(firingSelector, alertNameLabel, step), presenceEventsQuery(ruleGroupSelector, ruleGroupLabel, step))
}

// alertsNowQuery is the instant query at the end of the lookback that tells what fires, and
// which groups are loaded, when the range query saw no change:
//
//	count by (alertname) (ALERTS{alertstate="firing"}) or count by (rule_group) (prometheus_rule_group_rules)
func alertsNowQuery() parser.Expr {
	return or(countBy(alertNameLabel, firingSelector(0)), countBy(ruleGroupLabel, ruleGroupSelector(0)))
}

// collectAlertHistory reads which alerts fired during r, how often and how long, and since when
// the rule groups were loaded: one range query answering only where something changed, one
// instant query at r's end, and the server's start time (runtimeinfo; zero when it does not
// say).
func collectAlertHistory(ctx context.Context, api promv1.API, r promv1.Range) (analyze.AlertsHistory, error) {
	out := analyze.AlertsHistory{Read: true}
	if info, err := api.Runtimeinfo(ctx); err == nil && !info.StartTime.IsZero() {
		out.ServerStart = info.StartTime.UTC()
	}
	m, err := queryMatrix(ctx, api, alertHistoryQuery(r.Step).String(), r)
	if err != nil {
		return out, err
	}
	v, _, _, err := api.Query(ctx, alertsNowQuery().String(), r.End)
	if err != nil {
		return out, err
	}
	now, err := vectorOf(v)
	if err != nil {
		return out, err
	}
	alerts, groups := newPresence(r), newPresence(r)
	for _, s := range m {
		event := string(s.Metric[eventLabel])
		for _, p := range s.Values {
			if name, ok := s.Metric[alertNameLabel]; ok {
				alerts.event(string(name), p.Timestamp.Time(), event == eventStarted)
			} else if g, ok := s.Metric[ruleGroupLabel]; ok {
				groups.event(string(g), p.Timestamp.Time(), event == eventStarted)
			}
		}
	}
	for _, s := range now {
		if name, ok := s.Metric[alertNameLabel]; ok {
			alerts.present(string(name))
		} else if g, ok := s.Metric[ruleGroupLabel]; ok {
			groups.present(string(g))
		}
	}
	for name, spans := range alerts.spans() {
		h := analyze.AlertHistory{Name: name, Episodes: len(spans)}
		for _, sp := range spans {
			h.Firing += sp.to.Sub(sp.from)
		}
		h.FiringNow = alerts.now[name]
		out.Alerts = append(out.Alerts, h)
	}
	for key, spans := range groups.spans() {
		g := analyze.RuleGroupHistory{Key: key}
		if from := spans[0].from; from.After(r.Start) {
			g.Since = from.UTC()
		}
		out.Groups = append(out.Groups, g)
	}
	slices.SortFunc(out.Alerts, func(a, b analyze.AlertHistory) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(out.Groups, func(a, b analyze.RuleGroupHistory) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

// presence rebuilds, from the steps at which something started or stopped being present and
// whether it is present at the end, the spans over which it was.
type presence struct {
	start, end time.Time
	events     map[string][]presenceEvent
	now        map[string]bool
}

type presenceEvent struct {
	at      time.Time
	started bool
}

// span is [from, to): present from the step from to the step before to, or through to when to
// is the end.
type span struct{ from, to time.Time }

func newPresence(r promv1.Range) *presence {
	return &presence{start: r.Start, end: r.End, events: map[string][]presenceEvent{}, now: map[string]bool{}}
}

func (p *presence) event(key string, at time.Time, started bool) {
	p.events[key] = append(p.events[key], presenceEvent{at: at.UTC(), started: started})
}

func (p *presence) present(key string) { p.now[key] = true }

// spans are the spans of each key present at some point: present from the start when its
// first event is a stop (or it has none and is present at the end), until the end when its last
// is a start.
func (p *presence) spans() map[string][]span {
	out := map[string][]span{}
	for key, present := range p.now {
		if present && len(p.events[key]) == 0 {
			out[key] = []span{{p.start, p.end}}
		}
	}
	for key, events := range p.events {
		slices.SortStableFunc(events, func(a, b presenceEvent) int { return a.at.Compare(b.at) })
		var spans []span
		var from time.Time
		open := !events[0].started
		if open {
			from = p.start
		}
		for _, e := range events {
			switch {
			case e.started && !open:
				from, open = e.at, true
			case !e.started && open:
				spans = append(spans, span{from, e.at})
				open = false
			}
		}
		if open {
			spans = append(spans, span{from, p.end})
		}
		if len(spans) > 0 {
			out[key] = spans
		}
	}
	return out
}

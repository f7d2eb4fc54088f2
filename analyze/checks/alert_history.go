package checks

import (
	"iter"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// observedRule is an alerting rule the server evaluates, with how its alert fired and over
// which part of the lookback.
type observedRule struct {
	group *analyze.RuleGroup
	rule  *analyze.Rule
	alert analyze.AlertHistory
	// since is since when the rule was loaded, no earlier than the start of the lookback;
	// known is false when nothing says.
	since time.Time
	known bool
}

// observed is the part of the lookback over which the rule was loaded: from since to the end;
// the whole lookback when since is unknown.
func (o observedRule) observed(h analyze.History) time.Duration {
	if !o.known {
		return h.Lookback
	}
	return h.End.Sub(o.since)
}

// wholeLookback is whether the rule was loaded over the whole lookback.
func (o observedRule) wholeLookback(h analyze.History) bool {
	return o.known && !o.since.After(h.Start)
}

// observedRules yields the alerting rules the server itself loaded (read from its rules API:
// rule files given with --rules never write ALERTS there), when the history read ALERTS.
func observedRules(inv *analyze.Inventory) iter.Seq[observedRule] {
	return func(yield func(observedRule) bool) {
		h := inv.History
		if !h.Alerts.Read || h.End.IsZero() || !h.End.After(h.Start) {
			return
		}
		fired := make(map[string]analyze.AlertHistory, len(h.Alerts.Alerts))
		for _, a := range h.Alerts.Alerts {
			fired[a.Name] = a
		}
		for g, r := range eachAlertingRule(inv) {
			if r.Health == "" || r.Name == "" {
				continue
			}
			since, known := h.Alerts.LoadedSince(g.File, g.Name, h.Start)
			o := observedRule{group: g, rule: r, alert: fired[r.Name], since: since, known: known}
			if !yield(o) {
				return
			}
		}
	}
}

// percent writes a share from 0 to 1 as a whole percentage, never rounding a share below 1
// up to 100%.
func percent(share float64) string {
	p := int(share * 100)
	if share > 0 && p == 0 {
		return "<1%"
	}
	return strconv.Itoa(p) + "%"
}

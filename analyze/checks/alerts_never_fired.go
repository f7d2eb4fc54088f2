package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// AlertsNeverFiredName is the ID of the AlertsNeverFired check.
const AlertsNeverFiredName = "alerts/never-fired"

// AlertsNeverFired reports the alerting rules that did not fire once during the lookback
// although the server had them loaded all along: either what they watch never broke, or they
// cannot fire (a metric renamed, a label that never matches, a threshold out of reach), and
// only a test or a backtest tells which.
type AlertsNeverFired struct{}

var alertsNeverFiredMeta = Meta{
	ID:          AlertsNeverFiredName,
	Severity:    analyze.Info,
	Requires:    []analyze.Part{analyze.PartRules, analyze.PartHistory},
	SubjectKeys: []string{"rule"},
	Scope:       ScopeRule,
	Summary:     "an alert that did not fire once during the history's lookback",
	Finds:       "an alerting rule the server had loaded during the whole lookback (`history.lookback`) whose `ALERTS` series never had `alertstate=\"firing\"`. Details: `observed`, `since`",
}

func (AlertsNeverFired) Meta() Meta { return alertsNeverFiredMeta }

func (AlertsNeverFired) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	h := inv.History
	var out findingBuffer
	for o := range observedRules(inv) {
		// A rule whose evaluation fails cannot fire either, and rules/broken says why.
		if o.alert.Episodes > 0 || o.alert.FiringNow || !o.wholeLookback(h) || o.rule.Health == "err" {
			continue
		}
		observed := inDays(h.Lookback)
		msg := fmt.Sprintf("alert %s did not fire once in the %s observed (since %s): either what it watches never broke, or it cannot fire",
			strconv.Quote(o.rule.Name), observed, h.Start.UTC().Format(historyTime))
		out.add(findingAboutRule(alertsNeverFiredMeta, o.group, o.rule, msg,
			"test it: a promtool test (blindspot generate writes them for its own rules) or a query_range of its expression over a past incident shows whether it can fire",
			map[string]string{"observed": observed, "since": h.Start.UTC().Format(time.RFC3339)}))
	}
	return out.findings()
}

package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// AlertsAlwaysFiringName is the ID of the AlertsAlwaysFiring check.
const AlertsAlwaysFiringName = "alerts/always-firing"

// AlwaysFiringShare is the share of the observed time an alert must have fired to be always
// firing.
const AlwaysFiringShare = 0.95

// minAlwaysObserved is the shortest observation that can tell an alert always fires.
const minAlwaysObserved = time.Hour

// AlertsAlwaysFiring reports the alerts that fired during at least AlwaysFiringShare of the
// time they were observed: an alert that never stops is noise everyone learns to ignore, and
// hides the next real firing of the same name. Heartbeats (vector(1)) are meant to and are
// left alone.
type AlertsAlwaysFiring struct{}

var alertsAlwaysFiringMeta = Meta{
	ID:          AlertsAlwaysFiringName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartRules, analyze.PartHistory},
	SubjectKeys: []string{"rule"},
	Scope:       ScopeRule,
	Summary:     "an alert firing during at least 95 % of the history's lookback",
	Finds:       "an alerting rule (not a `vector(1)` heartbeat) whose `ALERTS` series fired during at least 95 % of the time it was loaded in the lookback (`history.lookback`). Details: `firing_for`, `observed`, `firing_share`, `firing_now`",
}

func (AlertsAlwaysFiring) Meta() Meta { return alertsAlwaysFiringMeta }

func (AlertsAlwaysFiring) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	h := inv.History
	var out findingBuffer
	for o := range observedRules(inv) {
		observed := o.observed(h)
		if o.alert.Firing <= 0 || observed < minAlwaysObserved || routing.AlwaysFiring(o.rule) {
			continue
		}
		share := min(float64(o.alert.Firing)/float64(observed), 1)
		if share < AlwaysFiringShare {
			continue
		}
		now := "and fires now"
		if !o.alert.FiringNow {
			now = "and does not fire now"
		}
		msg := fmt.Sprintf("alert %s fired during %s of the %s observed (%s) %s: an alert that never stops is ignored, and hides its next real firing",
			strconv.Quote(o.rule.Name), percent(share), inDays(observed), inDays(o.alert.Firing), now)
		out.add(findingAboutRule(alertsAlwaysFiringMeta, o.group, o.rule, msg,
			"fix its condition or threshold so that it fires only when someone must act; a heartbeat is an expression of vector(1) routed to a dead man's switch",
			map[string]string{
				"firing_for":   inDays(o.alert.Firing),
				"observed":     inDays(observed),
				"firing_share": strconv.FormatFloat(share, 'f', 3, 64),
				"firing_now":   strconv.FormatBool(o.alert.FiringNow),
			}))
	}
	return out.findings()
}

package checks

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// AlertsFlappingName is the ID of the AlertsFlapping check.
const AlertsFlappingName = "alerts/flapping"

// DefaultFlapEpisodes is history.flap_episodes's default: how many times a day, on average, an
// alert may begin to fire before it flaps.
const DefaultFlapEpisodes = 3

// AlertsFlapping reports the alerts that began to fire more than history.flap_episodes times a
// day on average during the time they were observed: each episode is a notification, and an
// alert that comes and goes all day trains whoever is paged to ignore it.
type AlertsFlapping struct {
	perDay int
}

// NewAlertsFlapping returns the check with o's history.flap_episodes.
func NewAlertsFlapping(o Options) Check {
	return AlertsFlapping{perDay: o.withDefaults().History.FlapEpisodes}
}

var alertsFlappingMeta = Meta{
	ID:          AlertsFlappingName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartRules, analyze.PartHistory},
	SubjectKeys: []string{"rule"},
	Scope:       ScopeRule,
	Summary:     "an alert that began to fire more than `history.flap_episodes` times a day",
	Finds:       "an alerting rule whose `ALERTS` series began to fire more than `history.flap_episodes` (default 3) times a day on average over the time it was loaded in the lookback (at least a day). Details: `episodes`, `per_day`, `observed`, `firing_for`",
}

func (AlertsFlapping) Meta() Meta { return alertsFlappingMeta }

func (c AlertsFlapping) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	h := inv.History
	perDay := cmp.Or(c.perDay, DefaultFlapEpisodes)
	var out findingBuffer
	for o := range observedRules(inv) {
		observed := o.observed(h)
		days := max(observed, 24*time.Hour).Hours() / 24
		rate := float64(o.alert.Episodes) / days
		if o.alert.Episodes == 0 || rate <= float64(perDay) {
			continue
		}
		msg := fmt.Sprintf("alert %s began to fire %d times in the %s observed (%s a day, more than %d): each time is a notification whoever is paged learns to ignore",
			strconv.Quote(o.rule.Name), o.alert.Episodes, inDays(observed), strconv.FormatFloat(rate, 'f', 1, 64), perDay)
		out.add(findingAboutRule(alertsFlappingMeta, o.group, o.rule, msg,
			"give it a longer for: (and keep_firing_for: on Prometheus 2.42 and later), or a longer range in its expression, so that one incident is one notification",
			map[string]string{
				"episodes":   strconv.Itoa(o.alert.Episodes),
				"per_day":    strconv.FormatFloat(rate, 'f', 1, 64),
				"observed":   inDays(observed),
				"firing_for": inDays(o.alert.Firing),
			}))
	}
	return out.findings()
}

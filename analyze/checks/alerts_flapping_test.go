package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsFlapping(t *testing.T) {
	id := checks.AlertsFlappingName
	rules := ruleGroup("app",
		loaded("app", "LatencyHigh", `latency_seconds > 1`),
		loaded("app", "ErrorsHigh", `errors > 1`),
		loaded("app", "Rare", `z > 1`),
	)
	fired := []analyze.AlertHistory{
		{Name: "LatencyHigh", Episodes: 70, Firing: 20 * time.Hour},
		{Name: "ErrorsHigh", Episodes: 21, Firing: 3 * time.Hour},
		{Name: "Rare", Episodes: 2, Firing: time.Hour},
	}
	runTests(t, id, []checkTest{
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "An alert that began to fire 70 times in a week is reported; 21 times (3 a day) is not more than the default.",
			inv: withRules(alertHistory(collectedAt.Add(-30*24*time.Hour), nil, fired...), rules),
			want: []string{
				`rule=LatencyHigh: alert "LatencyHigh" began to fire 70 times in the 7d observed (10.0 a day, more than 3): each time is a notification whoever is paged learns to ignore`,
			}},
		{description: "history.flap_episodes lowers the bar.",
			opts: checks.Options{History: checks.History{FlapEpisodes: 2}},
			inv:  withRules(alertHistory(collectedAt.Add(-30*24*time.Hour), nil, fired...), rules),
			want: []string{
				`rule=ErrorsHigh: alert "ErrorsHigh" began to fire 21 times in the 7d observed (3.0 a day, more than 2): each time is a notification whoever is paged learns to ignore`,
				`rule=LatencyHigh: alert "LatencyHigh" began to fire 70 times in the 7d observed (10.0 a day, more than 2): each time is a notification whoever is paged learns to ignore`,
			}},
		{description: "On a server started two hours ago, the episodes are averaged over a day at least: three are not 36 a day.",
			inv: withRules(alertHistory(collectedAt.Add(-2*time.Hour), nil, analyze.AlertHistory{Name: "Rare", Episodes: 3, Firing: time.Hour}), rules)},
	})
}

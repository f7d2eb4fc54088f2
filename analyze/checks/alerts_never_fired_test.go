package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// loaded is an alerting rule as the rules API of the server lists it: loaded and evaluated.
func loaded(group, name, expr string) analyze.Rule {
	r := alerting(group, name, expr)
	r.Health = "ok"
	return r
}

// alertHistory is a week's history in which the alerts fired as given, the server having
// started at serverStart (zero: unknown) and its own metrics showing the groups given.
func alertHistory(serverStart time.Time, groups []analyze.RuleGroupHistory, alerts ...analyze.AlertHistory) analyze.History {
	h := week(nil, nil)
	h.Alerts = analyze.AlertsHistory{Read: true, ServerStart: serverStart, Groups: groups, Alerts: alerts}
	return h
}

// withRules is an inventory holding the rules part with groups, and history h.
func withRules(h analyze.History, groups ...analyze.RuleGroup) func(*testing.T) *analyze.Inventory {
	return withHistory(func(*testing.T) *analyze.Inventory {
		b := newBuilder(analyze.PartRules)
		for _, g := range groups {
			b.AddRuleGroup(g)
		}
		return b.Build()
	}, h)
}

func TestCheckAlertsNeverFired(t *testing.T) {
	id := checks.AlertsNeverFiredName
	start := collectedAt.Add(-7 * 24 * time.Hour)
	longAgo := start.Add(-30 * 24 * time.Hour)
	rules := ruleGroup("app",
		loaded("app", "DiskFull", `node_filesystem_avail_bytes == 0`),
		loaded("app", "ApiDown", `up{job="api"} == 0`),
		alerting("app", "FromAFile", `up == 0`),
	)
	runTests(t, id, []checkTest{
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "A history read before ALERTS was: nothing is reported, whatever the rules.",
			inv: withRules(week(nil, nil), rules)},
		{description: "A loaded alert that did not fire in a week is reported, with the time it was observed; one that fired, or fires now, is not; a rule read from a file is not judged.",
			inv: withRules(alertHistory(longAgo, nil,
				analyze.AlertHistory{Name: "ApiDown", Episodes: 1, Firing: time.Hour},
				analyze.AlertHistory{Name: "Other", Episodes: 3, Firing: time.Hour}), rules),
			want: []string{
				`rule=DiskFull: alert "DiskFull" did not fire once in the 7d observed (since 2026-11-19 03:00 UTC): either what it watches never broke, or it cannot fire`,
			}},
		{description: "A rule whose evaluation fails is left to rules/broken.",
			inv: withRules(alertHistory(longAgo, nil), ruleGroup("app", func() analyze.Rule {
				r := loaded("app", "Failing", `rate(x[5m]) > 1`)
				r.Health, r.LastError = "err", "many-to-many matching not allowed"
				return r
			}()))},
		{description: "A server that started two days ago, without its own rule metrics, cannot say a rule never fired in a week.",
			inv: withRules(alertHistory(collectedAt.Add(-48*time.Hour), nil), rules)},
		{description: "A server whose start is unknown and that does not scrape itself says nothing either.",
			inv: withRules(alertHistory(time.Time{}, nil), rules)},
		{description: "The group's own metrics decide over the server's start: a group loaded all week on a server restarted yesterday is judged; one that appeared three days ago, or that its metrics do not show, is not.",
			inv: withRules(alertHistory(collectedAt.Add(-24*time.Hour), []analyze.RuleGroupHistory{
				{Key: analyze.RuleGroupKey(rulesFile, "app")},
				{Key: analyze.RuleGroupKey(rulesFile, "new"), Since: collectedAt.Add(-72 * time.Hour)},
			}), rules, ruleGroup("new", loaded("new", "QueueStuck", `queue_depth > 100`)), ruleGroup("unseen", loaded("unseen", "Unseen", `x > 1`))),
			want: []string{
				`rule=ApiDown: alert "ApiDown" did not fire once in the 7d observed (since 2026-11-19 03:00 UTC): either what it watches never broke, or it cannot fire`,
				`rule=DiskFull: alert "DiskFull" did not fire once in the 7d observed (since 2026-11-19 03:00 UTC): either what it watches never broke, or it cannot fire`,
			}},
	})
}

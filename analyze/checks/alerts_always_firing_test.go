package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsAlwaysFiring(t *testing.T) {
	id := checks.AlertsAlwaysFiringName
	week := 7 * 24 * time.Hour
	rules := ruleGroup("app",
		loaded("app", "CertExpiring", `probe_ssl_earliest_cert_expiry - time() < 30 * 86400`),
		loaded("app", "Watchdog", `vector(1)`),
		loaded("app", "MostlyFiring", `x > 1`),
		loaded("app", "Recovered", `y > 1`),
	)
	runTests(t, id, []checkTest{
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "An alert firing all week is reported, one firing 95 % of it too; one firing 94 % is not, nor the vector(1) heartbeat.",
			inv: withRules(alertHistory(collectedAt.Add(-30*24*time.Hour), nil,
				analyze.AlertHistory{Name: "CertExpiring", Episodes: 1, Firing: week, FiringNow: true},
				analyze.AlertHistory{Name: "Watchdog", Episodes: 1, Firing: week, FiringNow: true},
				analyze.AlertHistory{Name: "MostlyFiring", Episodes: 2, Firing: week * 94 / 100},
				analyze.AlertHistory{Name: "Recovered", Episodes: 1, Firing: week * 95 / 100},
			), rules),
			want: []string{
				`rule=CertExpiring: alert "CertExpiring" fired during 100% of the 7d observed (7d) and fires now: an alert that never stops is ignored, and hides its next real firing`,
				`rule=Recovered: alert "Recovered" fired during 95% of the 7d observed (6d16h) and does not fire now: an alert that never stops is ignored, and hides its next real firing`,
			}},
		{description: "An alert whose group was loaded two days ago and fired since is judged over those two days.",
			inv: withRules(alertHistory(time.Time{}, []analyze.RuleGroupHistory{{Key: analyze.RuleGroupKey(rulesFile, "app"), Since: collectedAt.Add(-48 * time.Hour)}},
				analyze.AlertHistory{Name: "MostlyFiring", Episodes: 1, Firing: 48 * time.Hour, FiringNow: true},
			), rules),
			want: []string{
				`rule=MostlyFiring: alert "MostlyFiring" fired during 100% of the 2d observed (2d) and fires now: an alert that never stops is ignored, and hides its next real firing`,
			}},
	})
}

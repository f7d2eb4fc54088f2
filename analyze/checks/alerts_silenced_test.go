package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsSilenced(t *testing.T) {
	id := checks.AlertsSilencedName
	runTests(t, id, []checkTest{
		onHoled(`rule=Broken: alert "Broken" is silenced: silence s1 mutes every alert of the job`),
		{description: "The Alertmanager configuration part without a configuration: nothing is reported.", inv: configlessInventory},
		{description: "An alert an active silence mutes is reported; one it does not match is not.", inv: func(t *testing.T) *analyze.Inventory {
			return routingInventory(t, amConfig, []analyze.Rule{
				rule("BatchFailed", `up{job="batch"} == 0`, map[string]string{"severity": "critical"}),
				rule("PaymentsDown", `up{job="api"} == 0`, map[string]string{"severity": "critical", "team": "payments"}),
			}, []analyze.Silence{{ID: "s1", State: "active", StartsAt: collectedAt.Add(-time.Hour), EndsAt: collectedAt.Add(time.Hour),
				Matchers: []analyze.SilenceMatcher{{Name: "job", Value: "batch", IsEqual: true}}}})
		}, want: []string{
			`rule=BatchFailed: alert "BatchFailed" is silenced: silence s1 mutes every alert of the job`,
		}},
	})
}

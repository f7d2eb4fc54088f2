package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsNoOwner(t *testing.T) {
	id := checks.AlertsNoOwnerName
	runTests(t, id, []checkTest{
		{description: "The Alertmanager configuration part without a configuration: nothing is reported.", inv: configlessInventory},
		{description: "An alert without an owner label that only reaches the default receiver is reported; a routed one is not.", inv: func(t *testing.T) *analyze.Inventory {
			return routingInventory(t, amConfig, []analyze.Rule{
				rule("PaymentsDown", `up{job="api"} == 0`, map[string]string{"severity": "critical", "team": "payments"}),
				rule("Orphan", `up{job="api"} == 0`, map[string]string{"severity": "warning"}),
			}, nil)
		}, want: []string{
			`rule=Orphan: alert "Orphan" has no team or owner label and only reaches the default receiver blackhole`,
		}},
	})
}

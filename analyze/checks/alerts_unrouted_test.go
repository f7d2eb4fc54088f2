package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsUnrouted(t *testing.T) {
	id := checks.AlertsUnroutedName
	runTests(t, id, []checkTest{
		onHoled(`rule=Broken: critical alert "Broken" pages nobody: it reaches default (no integration)`),
		{description: "The Alertmanager configuration part without a configuration: nothing is reported.", inv: configlessInventory},
		{description: "A critical alert that reaches no paging receiver is reported; one routed to a pager is not.", inv: func(t *testing.T) *analyze.Inventory {
			return routingInventory(t, amConfig, []analyze.Rule{
				rule("PaymentsDown", `up{job="api"} == 0`, map[string]string{"severity": "critical", "team": "payments"}),
				rule("OrphanCritical", `up{job="api"} == 0`, map[string]string{"severity": "critical"}),
			}, nil)
		}, want: []string{
			`rule=OrphanCritical: critical alert "OrphanCritical" pages nobody: it reaches blackhole (no integration)`,
		}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsUnrouted(t *testing.T) {
	id := checks.AlertsUnroutedName
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part read and empty: nothing is reported.", inv: hollowInventory},
		{description: "Every part read with holes in the data: only what the data shows is reported.", inv: holedInventory,
			want: []string{`rule=Broken: critical alert "Broken" pages nobody: it reaches default (no integration)`}},
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

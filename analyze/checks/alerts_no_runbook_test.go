package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsNoRunbook(t *testing.T) {
	id := checks.AlertsNoRunbookName
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part read and empty: nothing is reported.", inv: hollowInventory},
		{description: "Every part read with holes in the data: nothing is reported.", inv: holedInventory},
		{description: "An alert without a runbook annotation is reported; a complete one is not.", inv: func(*testing.T) *analyze.Inventory {
			return ruleInventory(alert("NoRunbook", map[string]string{"severity": "critical"}, nil), complete("Fine"))
		}, want: []string{
			`rule=NoRunbook: alert "NoRunbook" has no runbook_url annotation`,
		}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsNoRunbook(t *testing.T) {
	id := checks.AlertsNoRunbookName
	runTests(t, id, []checkTest{
		{description: "An alert without a runbook annotation is reported; a complete one is not.", inv: func(*testing.T) *analyze.Inventory {
			return ruleInventory(alert("NoRunbook", map[string]string{"severity": "critical"}, nil), complete("Fine"))
		}, want: []string{
			`rule=NoRunbook: alert "NoRunbook" has no runbook_url annotation`,
		}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsNoSeverity(t *testing.T) {
	id := checks.AlertsNoSeverityName
	runTests(t, id, []checkTest{
		{description: "An alert without a severity label is reported; a complete one is not.", inv: func(*testing.T) *analyze.Inventory {
			return ruleInventory(alert("NoSeverity", nil, map[string]string{"runbook_url": "https://runbooks.example/x"}), complete("Fine"))
		}, want: []string{
			`rule=NoSeverity: alert "NoSeverity" has no severity label`,
		}},
	})
}

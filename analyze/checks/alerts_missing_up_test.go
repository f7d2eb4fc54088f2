package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsMissingUp(t *testing.T) {
	id := checks.AlertsMissingUpName
	runTests(t, id, []checkTest{
		{description: "Every job without an up alert is reported; a job with one is not.", inv: func(*testing.T) *analyze.Inventory {
			return coverageInventory(alerting("availability", "NodeDown", `up{job="node"} == 0`))
		}, want: []string{
			`job=blackbox: no alert fires when the targets of job "blackbox" are down`,
			`job=payments-api: no alert fires when the targets of job "payments-api" are down`,
		}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsMissingUp(t *testing.T) {
	id := checks.AlertsMissingUpName
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part read and empty: nothing is reported.", inv: hollowInventory},
		{description: "Every part read with holes in the data: nothing is reported.", inv: holedInventory},
		{description: "Every job without an up alert is reported; a job with one is not.", inv: func(*testing.T) *analyze.Inventory {
			return coverageInventory(alerting("availability", "NodeDown", `up{job="node"} == 0`))
		}, want: []string{
			`job=blackbox: no alert fires when the targets of job "blackbox" are down`,
			`job=payments-api: no alert fires when the targets of job "payments-api" are down`,
		}},
	})
}

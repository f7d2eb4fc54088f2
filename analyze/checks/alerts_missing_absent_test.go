package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsMissingAbsent(t *testing.T) {
	id := checks.AlertsMissingAbsentName
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part read and empty: nothing is reported.", inv: hollowInventory},
		{description: "Every part read with holes in the data: nothing is reported.", inv: holedInventory},
		{description: "A job whose disappearance no absent() alert watches is reported; a watched one is not.", inv: func(*testing.T) *analyze.Inventory {
			return coverageInventory(alerting("availability", "NodeAbsent", `absent(up{job="node"})`))
		}, want: []string{
			`job=blackbox: no alert fires when job "blackbox" vanishes and leaves no up series to compare`,
			`job=payments-api: no alert fires when job "payments-api" vanishes and leaves no up series to compare`,
		}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsMissingAbsent(t *testing.T) {
	id := checks.AlertsMissingAbsentName
	runTests(t, id, []checkTest{
		{description: "A job whose disappearance no absent() alert watches is reported; a watched one is not.", inv: func(*testing.T) *analyze.Inventory {
			return coverageInventory(alerting("availability", "NodeAbsent", `absent(up{job="node"})`))
		}, want: []string{
			`job=blackbox: no alert fires when job "blackbox" vanishes and leaves no up series to compare`,
			`job=payments-api: no alert fires when job "payments-api" vanishes and leaves no up series to compare`,
		}},
	})
}

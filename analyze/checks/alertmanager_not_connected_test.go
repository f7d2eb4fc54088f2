package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertmanagerNotConnected(t *testing.T) {
	id := checks.AlertmanagerNotConnectedName
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part read and empty: only what the empty parts show is reported.", inv: hollowInventory,
			want: []string{`prometheus=http://prometheus:9090: Prometheus sends its alerts to no Alertmanager: every alert goes nowhere`}},
		{description: "Every part read with holes in the data: nothing is reported.", inv: holedInventory},
		{description: "A Prometheus whose only Alertmanager relabeling dropped is reported.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartAlertmanagers)
			b.AddSource(prometheusSource)
			b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts", Active: false})
			return b.Build()
		}, want: []string{
			`prometheus=http://prometheus:9090: all 1 Alertmanagers of Prometheus are dropped by relabeling: every alert goes nowhere`,
		}},
		{description: "A Prometheus with an active Alertmanager is not reported.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartAlertmanagers)
			b.AddSource(prometheusSource)
			b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts", Active: true})
			return b.Build()
		}},
	})
}

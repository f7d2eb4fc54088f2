package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertmanagerNotConnected(t *testing.T) {
	id := checks.AlertmanagerNotConnectedName
	runTests(t, id, []checkTest{
		onHollow(`prometheus=http://prometheus:9090: Prometheus sends its alerts to no Alertmanager: every alert goes nowhere`),
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

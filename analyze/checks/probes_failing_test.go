package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckProbesFailing(t *testing.T) {
	id := checks.ProbesFailingName
	probes := func(ps ...analyze.ProbeHistory) func(*testing.T) *analyze.Inventory {
		h := week(nil, nil)
		h.Probes = ps
		return withHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() }, h)
	}
	runTests(t, id, []checkTest{
		{description: "Every part a Prometheus gives without its history: the check does not run.",
			inv: func(*testing.T) *analyze.Inventory { return newBuilder(analyze.AllPrometheusParts...).Build() }, lacksAll: true},
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "Probes without a job or an instance: nothing is reported.",
			inv: probes(analyze.ProbeHistory{Instance: "https://shop.example"}, analyze.ProbeHistory{Job: "blackbox"})},
		{description: "A probe failing for two hours is reported with since when; one failing throughout the lookback says so.",
			inv: probes(
				analyze.ProbeHistory{Job: "blackbox", Instance: "https://shop.example", Since: collectedAt.Add(-2 * time.Hour)},
				analyze.ProbeHistory{Job: "blackbox", Instance: "https://old.example"},
			),
			want: []string{
				`instance=https://old.example job=blackbox: probe "https://old.example" of job "blackbox" fails (probe_success 0) and has failed throughout the lookback of 7d: what it probes is down or unreachable`,
				`instance=https://shop.example job=blackbox: probe "https://shop.example" of job "blackbox" fails (probe_success 0) since 2026-11-26 01:00 UTC (2h): what it probes is down or unreachable`,
			}},
	})
}

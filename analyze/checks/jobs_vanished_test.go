package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// withHistory is inv with the history part and h: the harness's inventories hold every part
// a Prometheus gives without its history.
func withHistory(inv func(*testing.T) *analyze.Inventory, h analyze.History) func(*testing.T) *analyze.Inventory {
	return func(t *testing.T) *analyze.Inventory {
		out := inv(t)
		out.Parts = append(out.Parts, analyze.PartHistory)
		out.History = h
		return out
	}
}

// week is a history of a week read at one-minute steps up to collectedAt.
func week(jobs []analyze.JobHistory, counters []analyze.CounterHistory) analyze.History {
	return analyze.History{
		Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour,
		Start: collectedAt.Add(-7 * 24 * time.Hour), End: collectedAt, Step: time.Minute,
		Jobs: jobs, Counters: counters,
	}
}

func TestCheckJobsVanished(t *testing.T) {
	id := checks.JobsVanishedName
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part a Prometheus gives without its history: the check does not run.", inv: func(*testing.T) *analyze.Inventory { return newBuilder(analyze.AllPrometheusParts...).Build() }, lacksAll: true},
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "Every part read with holes in the data and a history of jobs without names or times: nothing is reported.",
			inv: withHistory(holedInventory, week([]analyze.JobHistory{{Name: ""}, {Name: "x"}}, nil))},
		{description: "A job last seen three days ago is reported; one seen at the last step, or a minute before, is not.",
			inv: withHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() }, week([]analyze.JobHistory{
				{Name: "legacy", LastSeen: collectedAt.Add(-72 * time.Hour)},
				{Name: "api", LastSeen: collectedAt},
				{Name: "flaky", LastSeen: collectedAt.Add(-time.Minute)},
			}, nil)),
			want: []string{
				`job=legacy: job "legacy" had up series until 2026-11-23 03:00 UTC (3d ago) and has none now: its service discovery or configuration lost it, and no alert on up can fire for it`,
			}},
		{description: "A job the range query lost whose targets the targets API lists now has not vanished.",
			inv: withHistory(func(*testing.T) *analyze.Inventory {
				b := newBuilder(analyze.PartTargets)
				b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthDown, "connection refused"))
				return b.Build()
			}, week([]analyze.JobHistory{{Name: "api", LastSeen: collectedAt.Add(-time.Hour)}}, nil))},
	})
}

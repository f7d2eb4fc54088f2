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
		{description: "A job that lost three of its four targets two days ago is reported with how many it had and has; one that lost one of four, or lost three a minute ago, is not.",
			inv: withHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() }, targetCounts(
				analyze.TargetCountHistory{Job: "web", Most: 4, MostUntil: collectedAt.Add(-48 * time.Hour), Now: 1},
				analyze.TargetCountHistory{Job: "api", Most: 4, MostUntil: collectedAt.Add(-48 * time.Hour), Now: 3},
				analyze.TargetCountHistory{Job: "db", Most: 4, MostUntil: collectedAt.Add(-time.Minute), Now: 1},
			)),
			want: []string{
				`job=web: job "web" had 4 targets with up series until 2026-11-24 03:00 UTC (2d ago) and has 1 now: 3 vanished (more than 50% of them), and an alert on up cannot fire for a target that is gone`,
			}},
		{description: "history.vanished_target_share sets the share: at 0.2 a job that lost one of four is reported, and one that lost exactly the share is not.",
			opts: checks.Options{History: checks.History{VanishedTargetShare: 0.2}},
			inv: withHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() }, targetCounts(
				analyze.TargetCountHistory{Job: "api", Most: 4, MostUntil: collectedAt.Add(-48 * time.Hour), Now: 3},
				analyze.TargetCountHistory{Job: "db", Most: 5, MostUntil: collectedAt.Add(-48 * time.Hour), Now: 4},
			)),
			want: []string{
				`job=api: job "api" had 4 targets with up series until 2026-11-24 03:00 UTC (2d ago) and has 3 now: 1 vanished (more than 20% of them), and an alert on up cannot fire for a target that is gone`,
			}},
		{description: "A job whose targets the targets API lists now as many as it had, or that has none left, is not reported as having lost targets.",
			inv: withHistory(func(*testing.T) *analyze.Inventory {
				b := newBuilder(analyze.PartTargets)
				for _, instance := range []string{"10.0.0.1:8080", "10.0.0.2:8080"} {
					b.AddTarget(target("api", "api", instance, analyze.HealthUp, ""))
				}
				return b.Build()
			}, targetCounts(
				analyze.TargetCountHistory{Job: "api", Most: 2, MostUntil: collectedAt.Add(-48 * time.Hour), Now: 0},
				analyze.TargetCountHistory{Job: "api", Most: 2, MostUntil: collectedAt.Add(-48 * time.Hour), Now: 1},
				analyze.TargetCountHistory{Job: "", Most: 2, Now: 1},
			))},
	})
}

// targetCounts is a week of history holding the jobs that lost up series.
func targetCounts(tcs ...analyze.TargetCountHistory) analyze.History {
	h := week(nil, nil)
	h.TargetCounts = tcs
	return h
}

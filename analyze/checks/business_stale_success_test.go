package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

func TestCheckBusinessStaleSuccess(t *testing.T) {
	id := checks.BusinessStaleSuccessName
	// sixHourly advanced every six hours and last did 51 hours ago.
	sixHourly := analyze.SuccessHistory{Job: "backup", Instance: "backup-1", Metric: "backup_last_success_timestamp_seconds",
		Last: collectedAt.Add(-51 * time.Hour), Advances: 19, LongestInterval: 6 * time.Hour}
	// hourly advanced every hour and last did 40 minutes ago.
	hourly := analyze.SuccessHistory{Job: "export", Metric: "export_last_success_timestamp_seconds",
		Last: collectedAt.Add(-40 * time.Minute), Advances: 167, LongestInterval: time.Hour}
	successes := func(ss ...analyze.SuccessHistory) analyze.History {
		h := week(nil, nil)
		h.Successes = ss
		return h
	}
	inventory := func(h analyze.History, groups ...analyze.RuleGroup) func(*testing.T) *analyze.Inventory {
		return withHistory(func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartJobMetrics, analyze.PartRules)
			b.AddJobMetric("backup", "backup_last_success_timestamp_seconds")
			b.AddJobMetric("export", "export_last_success_timestamp_seconds")
			b.AddJobMetric("report", "report_last_success_timestamp_seconds")
			b.AddJobMetric("report", "report_rows_total")
			for _, g := range groups {
				b.AddRuleGroup(g)
			}
			return b.Build()
		}, h)
	}
	runTests(t, id, []checkTest{
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "Every part read with holes in the data and gauges without names or times: nothing is reported.",
			inv: withHistory(holedInventory, successes(analyze.SuccessHistory{Job: "x"}, analyze.SuccessHistory{Metric: "x_last_success_timestamp_seconds"},
				analyze.SuccessHistory{Job: "x", Metric: "x_last_success_timestamp_seconds"}))},
		{description: "A gauge that advanced every six hours and is 51 hours old is reported with its age, usual interval and since when it is overdue; one that advanced hourly and is fresh is not.",
			inv: inventory(successes(sixHourly, hourly)),
			want: []string{
				`instance=backup-1 job=backup metric=backup_last_success_timestamp_seconds: the last-success gauge "backup_last_success_timestamp_seconds" of job "backup" (instance "backup-1") says the last success was at 2026-11-24 00:00 UTC (2d3h ago); during the lookback it advanced 19 times, never more than 6h apart, so it is overdue since 2026-11-24 12:00 UTC; no alert covers it`,
			}},
		{description: "The alert that covers a stale gauge is named: it did not fire, or nobody heard it.",
			inv: inventory(successes(sixHourly), ruleGroup("backup", alerting("backup", "BackupStale", `time() - backup_last_success_timestamp_seconds > 86400`))),
			want: []string{
				`instance=backup-1 job=backup metric=backup_last_success_timestamp_seconds: the last-success gauge "backup_last_success_timestamp_seconds" of job "backup" (instance "backup-1") says the last success was at 2026-11-24 00:00 UTC (2d3h ago); during the lookback it advanced 19 times, never more than 6h apart, so it is overdue since 2026-11-24 12:00 UTC; "BackupStale" covers it and should be firing`,
			}},
		{description: "The margin is twice the longest interval, or the interval and an hour: a ten-minute job is overdue after 1h10m, not before.",
			inv: inventory(successes(
				analyze.SuccessHistory{Job: "export", Metric: "export_last_success_timestamp_seconds", Last: collectedAt.Add(-69 * time.Minute), Advances: 900, LongestInterval: 10 * time.Minute},
				analyze.SuccessHistory{Job: "backup", Metric: "backup_last_success_timestamp_seconds", Last: collectedAt.Add(-71 * time.Minute), Advances: 900, LongestInterval: 10 * time.Minute},
			)),
			want: []string{
				`job=backup metric=backup_last_success_timestamp_seconds: the last-success gauge "backup_last_success_timestamp_seconds" of job "backup" says the last success was at 2026-11-26 01:49 UTC (1h11m ago); during the lookback it advanced 900 times, never more than 10m apart, so it is overdue since 2026-11-26 02:59 UTC; no alert covers it`,
			}},
		{description: "A gauge that never advanced during the lookback has no learnt interval and says so; one that advanced once is not judged.",
			inv: inventory(successes(
				analyze.SuccessHistory{Job: "report", Metric: "report_last_success_timestamp_seconds", Last: collectedAt.Add(-9 * 24 * time.Hour)},
				analyze.SuccessHistory{Job: "export", Metric: "export_last_success_timestamp_seconds", Last: collectedAt.Add(-5 * 24 * time.Hour), Advances: 1},
			)),
			want: []string{
				`job=report metric=report_last_success_timestamp_seconds: the last-success gauge "report_last_success_timestamp_seconds" of job "report" says the last success was at 2026-11-17 03:00 UTC (9d ago); it did not advance during the lookback of 7d, so no usual interval could be learnt: a job that runs less often than that is not stale (lengthen history.lookback), any other stopped succeeding; no alert covers it`,
			}},
		{description: "A gauge that is no business candidate (a counter's history, an unknown job) or that business_metrics.exclude drops is not judged.",
			opts: checks.Options{Business: coverage.BusinessOptions{Exclude: []string{"export_*"}}},
			inv: inventory(successes(
				analyze.SuccessHistory{Job: "report", Metric: "report_rows_total", Last: collectedAt.Add(-9 * 24 * time.Hour)},
				analyze.SuccessHistory{Job: "gone", Metric: "backup_last_success_timestamp_seconds", Last: collectedAt.Add(-9 * 24 * time.Hour)},
				analyze.SuccessHistory{Job: "export", Metric: "export_last_success_timestamp_seconds", Last: collectedAt.Add(-9 * 24 * time.Hour)},
			))},
	})
}

package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// withLogHistory is inv with the log history part and a week of log history of jobs, read at
// ten-minute steps up to collectedAt with a silence of an hour.
func withLogHistory(inv func(*testing.T) *analyze.Inventory, jobs ...analyze.JobLogHistory) func(*testing.T) *analyze.Inventory {
	return func(t *testing.T) *analyze.Inventory {
		out := inv(t)
		out.Parts = append(out.Parts, analyze.PartLogHistory)
		out.LogHistory = analyze.LogHistory{
			Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Silence: time.Hour,
			Start: collectedAt.Add(-7 * 24 * time.Hour), End: collectedAt, Step: 10 * time.Minute, Jobs: jobs,
		}
		return out
	}
}

func TestCheckLogsStopped(t *testing.T) {
	id := checks.LogsStoppedName
	stopped := analyze.JobLogHistory{Job: "api", LastLine: collectedAt.Add(-70 * time.Minute), Lines: 1200}
	writing := analyze.JobLogHistory{Job: "node", LastLine: collectedAt, Lines: 500, Recent: 12}
	runTests(t, id, []checkTest{
		{description: "Without Prometheus targets every stopped job is reported, saying its targets are unknown; one still writing is not.",
			inv: withLogHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() }, stopped, writing),
			want: []string{
				`job=api: the Loki streams of job "api" had 1200 lines during the lookback, the last at 2026-11-26 01:50 UTC (1h10m ago), and none in the last 1h (whether its targets are up is unknown: no Prometheus targets were read): the process stopped logging, or its logs stopped being shipped`,
			}},
		{description: "With Prometheus targets a stopped job is reported only while its targets are up.",
			inv: withLogHistory(func(*testing.T) *analyze.Inventory {
				b := newBuilder(analyze.PartTargets)
				b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
				b.AddTarget(target("api", "api", "10.0.0.2:8080", analyze.HealthUp, ""))
				b.AddTarget(target("batch", "batch", "10.0.0.3:8080", analyze.HealthDown, "connection refused"))
				b.AddTarget(target("node", "node", "10.0.0.4:9100", analyze.HealthUp, ""))
				return b.Build()
			}, stopped, writing,
				analyze.JobLogHistory{Job: "batch", LastLine: collectedAt.Add(-5 * time.Hour), Lines: 3},
				analyze.JobLogHistory{Job: "retired", LastLine: collectedAt.Add(-50 * time.Hour), Lines: 1}),
			want: []string{
				`job=api: the Loki streams of job "api" had 1200 lines during the lookback, the last at 2026-11-26 01:50 UTC (1h10m ago), and none in the last 1h, while its 2 targets are up: the process stopped logging, or its logs stopped being shipped`,
			}},
		{description: "A job read from Loki's index is reported by the size of its chunks and the step of its last one, never by lines it did not count; one the index still places in the silence is not.",
			inv: withLogHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() },
				analyze.JobLogHistory{Job: "api", LastLine: collectedAt.Add(-70 * time.Minute), Indexed: true, Bytes: 3 << 19},
				analyze.JobLogHistory{Job: "tiny", LastLine: collectedAt.Add(-3 * time.Hour), Indexed: true},
				analyze.JobLogHistory{Job: "node", LastLine: collectedAt, Indexed: true, Bytes: 4096, Active: true}),
			want: []string{
				`job=api: the Loki streams of job "api" had chunks during the lookback (1.5 MiB by Loki's index), the last in the step ending at 2026-11-26 01:50 UTC (1h10m ago), and none in the last 1h (whether its targets are up is unknown: no Prometheus targets were read): the process stopped logging, or its logs stopped being shipped`,
				`job=tiny: the Loki streams of job "tiny" had chunks during the lookback (0 B by Loki's index), the last in the step ending at 2026-11-26 00:00 UTC (3h ago), and none in the last 1h (whether its targets are up is unknown: no Prometheus targets were read): the process stopped logging, or its logs stopped being shipped`,
			}},
		{description: "A job without lines in the lookback, or without a last line, is not reported.",
			inv: withLogHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() },
				analyze.JobLogHistory{Job: "empty"}, analyze.JobLogHistory{Job: "odd", Lines: 4})},
	})
}

func TestLogsStoppedDetailsSayWhatWasMeasured(t *testing.T) {
	inv := withLogHistory(func(*testing.T) *analyze.Inventory { return newBuilder().Build() },
		analyze.JobLogHistory{Job: "counted", LastLine: collectedAt.Add(-2 * time.Hour), Lines: 12},
		analyze.JobLogHistory{Job: "indexed", LastLine: collectedAt.Add(-2 * time.Hour), Indexed: true, Bytes: 2048})(t)
	got := checks.LogsStopped{}.Run(inv, nil)
	if len(got) != 2 {
		t.Fatalf("findings %+v", got)
	}
	if d := got[0].Details; d["lines"] != "12" || d["bytes"] != "" {
		t.Errorf("counted job's details %v, want lines and no bytes", d)
	}
	if d := got[1].Details; d["bytes"] != "2048" || d["lines"] != "" || d["last_line"] != "2026-11-26T01:00:00Z" {
		t.Errorf("indexed job's details %v, want bytes and no lines", d)
	}
}

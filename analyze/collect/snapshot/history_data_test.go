package snapshot_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestHistoryData(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	want := prometheus.HistoryResult{
		OK: true,
		History: analyze.History{
			Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute,
			Successes: []analyze.SuccessHistory{
				{Job: "backup", Instance: "backup-1", Metric: "backup_last_success_timestamp_seconds", Last: end.Add(-51 * time.Hour), Advances: 20, LongestInterval: 6 * time.Hour},
				{Job: "report", Metric: "report_last_success_timestamp_seconds", Last: end.Add(-8 * 24 * time.Hour)},
			},
			TargetCounts: []analyze.TargetCountHistory{{Job: "web", Most: 4, MostUntil: end.Add(-48 * time.Hour), Now: 1}},
		},
	}

	t.Run("The last-success gauges and the jobs that lost targets are stored compactly and read back equal.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		m.Sources[0].History = &want
		write(t, dir, m)
		src := read(t, dir).Manifest.Sources[0]
		if src.History == nil || !reflect.DeepEqual(*src.History, want) {
			t.Fatalf("history read back %+v, want %+v", src.History, want)
		}
		file, err := os.ReadFile(filepath.Join(dir, "prometheus", "history.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{`"longest_interval": "6h0m0s"`, `"target_counts": [`, `"most_until": "2026-11-24T03:00:00Z"`} {
			if !strings.Contains(string(file), s) {
				t.Errorf("history.json lacks %s:\n%s", s, file)
			}
		}
		if strings.Count(string(file), `"longest_interval"`) != 1 || strings.Contains(string(file), `"instance": ""`) {
			t.Errorf("a gauge without an interval or an instance stores them:\n%s", file)
		}
	})

	t.Run("A history file written before the gauges and target counts were read reads back without them.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		old := want
		old.History.Successes, old.History.TargetCounts = nil, nil
		m.Sources[0].History = &old
		write(t, dir, m)
		file, err := os.ReadFile(filepath.Join(dir, "prometheus", "history.json"))
		if err != nil || strings.Contains(string(file), "successes") || strings.Contains(string(file), "target_counts") {
			t.Fatalf("history.json %s (%v)", file, err)
		}
		if h := read(t, dir).Manifest.Sources[0].History; h == nil || h.History.Successes != nil || h.History.TargetCounts != nil {
			t.Errorf("history read back %+v", h)
		}
	})
}

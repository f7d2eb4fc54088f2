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
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

func TestHistory(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	want := prometheus.HistoryResult{
		OK: true,
		History: analyze.History{
			Requested: 7 * 24 * time.Hour, Lookback: 24 * time.Hour, Start: end.Add(-24 * time.Hour), End: end, Step: time.Minute,
			Jobs: []analyze.JobHistory{{Name: "legacy", LastSeen: end.Add(-3 * time.Hour), Series: []float64{2, 2, 1, 0}}},
			Counters: []analyze.CounterHistory{{Job: "billing", Metric: "invoices_generated_total", FirstIncrease: end.Add(-20 * time.Hour),
				LastIncrease: end.Add(-2 * time.Hour), Increases: 1080, LongestGap: time.Minute, Rise: 32400.5,
				Series: []float64{0, 16200.25, 16200.25, 0}}},
			Probes:     []analyze.ProbeHistory{{Job: "blackbox", Instance: "https://shop.example", Since: end.Add(-time.Hour)}, {Job: "blackbox", Instance: "https://old.example"}},
			SeriesStep: 6 * time.Hour,
		},
		Notes: []string{"history: the lookback of 7d is clipped to the server's retention of 1d"},
	}

	t.Run("A Prometheus source's history is stored in its own file, and reads back equal with its note.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		m.Sources[0].History = &want
		write(t, dir, m)
		src := read(t, dir).Manifest.Sources[0]
		if src.HistoryFile != "prometheus/history.json" || src.History == nil || !reflect.DeepEqual(*src.History, want) {
			t.Fatalf("file %q, history read back %+v, want %+v", src.HistoryFile, src.History, want)
		}
		// The series are stored as one line each, their values exact.
		file, err := os.ReadFile(filepath.Join(dir, "prometheus", "history.json"))
		for _, line := range []string{`"series_step": "6h0m0s"`, `"series": "2 2 1 0"`, `"series": "0 16200.25 16200.25 0"`} {
			if err != nil || !strings.Contains(string(file), line) {
				t.Errorf("history file lacks %s: %s (%v)", line, file, err)
			}
		}
		manifest, err := os.ReadFile(filepath.Join(dir, snapshot.ManifestFile))
		if err != nil || !strings.Contains(string(manifest), `"history": "prometheus/history.json"`) {
			t.Errorf("manifest %s, err %v", manifest, err)
		}
	})

	t.Run("A history that could not be read is stored with its error, redacted, and reads back as not read.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		m.Sources[0].History = &prometheus.HistoryResult{Errors: []analyze.SourceError{{Part: analyze.PartHistory,
			Err: `reading which jobs had up series: Post "http://admin:hunter2@prom:9090/api/v1/query_range": EOF`}}}
		write(t, dir, m)
		h := read(t, dir).Manifest.Sources[0].History
		if h == nil || h.OK || len(h.Errors) != 1 || h.Errors[0].Part != analyze.PartHistory || strings.Contains(h.Errors[0].Err, "hunter2") {
			t.Errorf("history read back %+v", h)
		}
	})

	t.Run("A snapshot without a history reads back without one.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, manifest("3.5.0"))
		if _, err := os.Stat(filepath.Join(dir, "prometheus", "history.json")); !os.IsNotExist(err) {
			t.Errorf("history file: %v", err)
		}
		if src := read(t, dir).Manifest.Sources[0]; src.History != nil || src.HistoryFile != "" {
			t.Errorf("history %+v in %q", src.History, src.HistoryFile)
		}
	})

	t.Run("A history file that is missing or invalid is named.", func(t *testing.T) {
		t.Parallel()
		for file, want := range map[string]string{"": "is incomplete: prometheus/history.json", `{"step": "a minute"}`: "invalid prometheus/history.json"} {
			dir := t.TempDir()
			m := manifest("3.5.0")
			m.Sources[0].History = &prometheus.HistoryResult{OK: true}
			write(t, dir, m)
			path := filepath.Join(dir, "prometheus", "history.json")
			if file == "" {
				os.Remove(path)
			} else if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := snapshot.Read(os.DirFS(dir), dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("file %q: error %v, want one containing %q", file, err, want)
			}
		}
	})
}

package snapshot_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

func TestLogHistoryAndRunbookLinks(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	history := loki.HistoryResult{
		OK: true,
		History: analyze.LogHistory{
			Requested: 7 * 24 * time.Hour, Lookback: 24 * time.Hour, Silence: time.Hour,
			Start: end.Add(-24 * time.Hour), End: end, Step: 2 * time.Minute,
			Jobs: []analyze.JobLogHistory{{Job: "api", LastLine: end.Add(-70 * time.Minute), Lines: 1200}, {Job: "node", LastLine: end, Lines: 40, Recent: 3}},
		},
		Notes: []string{"log history: the lookback of 1w is clipped to Loki's max_query_length of 1d"},
	}
	lokiManifest := func(h *loki.HistoryResult) snapshot.Manifest {
		m := manifest("3.5.0")
		m.Sources = append(m.Sources, snapshot.Source{Name: "loki", Kind: snapshot.KindLoki, URL: "http://loki:3100",
			Loki: &loki.Result{Logs: analyze.Logs{Window: time.Hour}, Parts: []analyze.Part{analyze.PartLogStreams}, History: h}})
		return m
	}

	t.Run("A Loki source's log history is stored in its own file, and reads back equal with its note.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		h := history
		write(t, dir, lokiManifest(&h))
		src := read(t, dir).Manifest.Sources[1]
		if src.HistoryFile != "loki/history.json" || src.Loki == nil || src.Loki.History == nil || !reflect.DeepEqual(*src.Loki.History, history) {
			t.Fatalf("file %q, log history read back %+v, want %+v", src.HistoryFile, src.Loki, history)
		}
	})

	t.Run("A log history read from Loki's index keeps, per job, that it was indexed, its bytes and whether it is active.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		h := history
		h.History.Jobs = []analyze.JobLogHistory{
			{Job: "api", LastLine: end.Add(-70 * time.Minute), Indexed: true, Bytes: 1 << 20},
			{Job: "tiny", LastLine: end, Indexed: true, Active: true}, // a chunk too small to weigh a KiB
		}
		want := h
		write(t, dir, lokiManifest(&h))
		got := read(t, dir).Manifest.Sources[1].Loki.History
		if got == nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("log history read back %+v, want %+v", got, want)
		}
		if !got.History.Jobs[0].Stopped() || got.History.Jobs[1].Stopped() {
			t.Errorf("jobs read back %+v: want api stopped and tiny not", got.History.Jobs)
		}
	})

	t.Run("A log history that could not be read is stored with its error, redacted; none is stored when it was not read.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		write(t, dir, lokiManifest(&loki.HistoryResult{Errors: []analyze.SourceError{{Part: analyze.PartLogHistory,
			Err: `reading which jobs' streams had lines: Get "http://admin:hunter2@loki:3100/loki/api/v1/query_range": EOF`}}}))
		h := read(t, dir).Manifest.Sources[1].Loki.History
		if h == nil || h.OK || len(h.Errors) != 1 || h.Errors[0].Part != analyze.PartLogHistory || strings.Contains(h.Errors[0].Err, "hunter2") {
			t.Errorf("log history read back %+v", h)
		}

		dir = t.TempDir()
		write(t, dir, lokiManifest(nil))
		if src := read(t, dir).Manifest.Sources[1]; src.Loki.History != nil || src.HistoryFile != "" {
			t.Errorf("log history %+v in %q", src.Loki.History, src.HistoryFile)
		}
	})

	t.Run("What the runbook links answered is stored in one file, without credentials, and reads back equal; none when they were not checked.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		m.RunbookLinks = []analyze.RunbookLink{
			{Link: "https://wiki.example/gone", URL: "https://wiki.example/gone", Status: 404},
			{Link: "https://wiki.example/x?token=xxxxx", URL: "https://wiki.example/x?token=xxxxx", Err: `Get "https://bob:hunter2@wiki.example/x": EOF`},
			{Link: "runbooks/A.md", Skipped: "a relative link, and generate.runbook_base_url is not set"},
		}
		write(t, dir, m)
		data, err := os.ReadFile(filepath.Join(dir, snapshot.RunbookLinksFileName))
		if err != nil || strings.Contains(string(data), "hunter2") {
			t.Fatalf("runbook links file %s, %v", data, err)
		}
		got := read(t, dir).Manifest
		want := m.RunbookLinks
		want[1].Err = `Get "https://wiki.example/x": EOF`
		if got.RunbookLinksFile != snapshot.RunbookLinksFileName || !reflect.DeepEqual(got.RunbookLinks, want) {
			t.Errorf("runbook links read back %+v from %q, want %+v", got.RunbookLinks, got.RunbookLinksFile, want)
		}

		dir = t.TempDir()
		write(t, dir, manifest("3.5.0"))
		if got := read(t, dir).Manifest; got.RunbookLinks != nil || got.RunbookLinksFile != "" {
			t.Errorf("runbook links %+v in %q, want none", got.RunbookLinks, got.RunbookLinksFile)
		}
	})
}

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

func TestHistoryAlerts(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	week := func(a analyze.AlertsHistory) prometheus.HistoryResult {
		return prometheus.HistoryResult{OK: true, History: analyze.History{
			Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute, Alerts: a,
		}}
	}

	t.Run("What was read of ALERTS reads back equal: the server's start, the groups with since when, and each alert's episodes, firing time and whether it fires now.", func(t *testing.T) {
		t.Parallel()
		for _, a := range []analyze.AlertsHistory{
			{Read: true, ServerStart: end.Add(-48 * time.Hour),
				Groups: []analyze.RuleGroupHistory{{Key: "/etc/prometheus/rules.yml;app"}, {Key: "/etc/prometheus/rules.yml;new", Since: end.Add(-72 * time.Hour)}},
				Alerts: []analyze.AlertHistory{{Name: "CertExpiring", Episodes: 1, Firing: 7 * 24 * time.Hour, FiringNow: true}, {Name: "LatencyHigh", Episodes: 70, Firing: 20*time.Hour + 3*time.Minute}}},
			{Read: true},
		} {
			dir := t.TempDir()
			m := manifest("3.5.0")
			want := week(a)
			m.Sources[0].History = &want
			write(t, dir, m)
			src := read(t, dir).Manifest.Sources[0]
			if src.History == nil || !reflect.DeepEqual(src.History.History.Alerts, a) {
				t.Fatalf("alerts read back %+v, want %+v", src.History, a)
			}
		}
	})

	t.Run("A history file written before ALERTS was read reads back as ALERTS not read, so that no alert is said never to have fired.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		h := week(analyze.AlertsHistory{})
		m.Sources[0].History = &h
		write(t, dir, m)
		data, err := os.ReadFile(filepath.Join(dir, "prometheus", "history.json"))
		if err != nil || strings.Contains(string(data), `"alerts"`) {
			t.Fatalf("history file %s (%v)", data, err)
		}
		if a := read(t, dir).Manifest.Sources[0].History.History.Alerts; a.Read {
			t.Errorf("alerts read back %+v", a)
		}
	})

	t.Run("An alert's firing time that is no duration is named.", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		m := manifest("3.5.0")
		h := week(analyze.AlertsHistory{Read: true})
		m.Sources[0].History = &h
		write(t, dir, m)
		path := filepath.Join(dir, "prometheus", "history.json")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		broken := strings.Replace(string(data), `"alerts": []`, `"alerts": [{"name": "X", "episodes": 1, "firing": "an hour"}]`, 1)
		if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := snapshot.Read(os.DirFS(dir), dir); err == nil || !strings.Contains(err.Error(), `invalid prometheus/history.json: alerts: firing of alert "X"`) {
			t.Errorf("error %v", err)
		}
	})
}

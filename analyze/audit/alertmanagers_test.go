package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

// withAlertmanager is a fleet server of a snapshot with the Alertmanager it sent to at url,
// which routes every alert to a receiver without an integration.
func withAlertmanager(t *testing.T, name, job, url string) []snapshot.Source {
	t.Helper()
	status, err := json.Marshal(map[string]any{
		"cluster": map[string]any{"peers": []any{}, "status": "disabled"},
		"config":  map[string]string{"original": "route:\n  receiver: blackhole\nreceivers:\n- name: blackhole\n"},
		"uptime":  "2026-11-26T00:00:00.000Z", "versionInfo": map[string]string{"version": "0.27.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	src := member(name, job)
	src.Fleet.Alertmanager = name + ".alertmanager"
	am := collect.SnapshotAlertmanager(src.Fleet.Alertmanager, &collect.AlertmanagerAnswers{URL: url, Responses: []prometheus.Response{
		{Part: analyze.PartAlertmanagerConfig, Path: "/api/v2/status", Status: 200, ContentType: "application/json", Body: status},
		{Part: analyze.PartSilences, Path: "/api/v2/silences", Status: 200, ContentType: "application/json", Body: []byte("[]")},
	}})
	return []snapshot.Source{src, am}
}

func TestTheAlertmanagersOfAFleet(t *testing.T) {
	audited := func(t *testing.T, urlA, urlB string) (sources, unrouted []string) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "snap")
		m := snapshot.Manifest{
			CreatedAt: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC),
			Sources:   slices.Concat(withAlertmanager(t, "a", "api", urlA), withAlertmanager(t, "b", "db", urlB)),
		}
		if err := snapshot.Write(dir, m); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Report(context.Background(), audit.Request{Sources: collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir, SnapshotKind: "snapshot"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Sources {
			sources = append(sources, s.Name+" "+s.URL)
		}
		for _, f := range rep.Findings {
			if f.Check == "alerts/unrouted" {
				unrouted = append(unrouted, f.Subject["source"]+" "+f.Subject["rule"])
			}
		}
		slices.Sort(unrouted)
		return sources, unrouted
	}

	t.Run("Each member is judged against its own Alertmanager, which the report names after the member.", func(t *testing.T) {
		sources, unrouted := audited(t, "http://am-a:9093", "http://am-b:9093")
		if want := []string{"a http://a:9090", "alertmanager (source=a) http://am-a:9093", "b http://b:9090", "alertmanager (source=b) http://am-b:9093"}; !slices.Equal(sources, want) {
			t.Errorf("sources %q, want %q", sources, want)
		}
		if want := []string{"a Down", "b Down"}; !slices.Equal(unrouted, want) {
			t.Errorf("alerts/unrouted %q, want %q", unrouted, want)
		}
	})

	t.Run("An Alertmanager the members share is named once, as a single server's.", func(t *testing.T) {
		sources, _ := audited(t, "http://am:9093", "http://am:9093")
		if want := []string{"a http://a:9090", "alertmanager http://am:9093", "b http://b:9090"}; !slices.Equal(sources, want) {
			t.Errorf("sources %q, want %q", sources, want)
		}
	})
}

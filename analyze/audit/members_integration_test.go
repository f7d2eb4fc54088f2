package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// findingsOf returns "source rule-or-pool" of every finding of check, sorted.
func findingsOf(r report.Report, check string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Check == check {
			out = append(out, f.Subject["source"]+" "+f.Subject["rule"]+f.Subject["scrape_pool"])
		}
	}
	slices.Sort(out)
	return out
}

// TestFleetMembersAreJudgedLikeASingleServer audits a fleet of two members (the same real
// Prometheus, named twice) as a single server is audited: each member reads the Alertmanager
// its Prometheus sends to, so the routing checks run for it, and each is judged against the
// scrape configuration given with --prometheus-config. Every finding carries its member.
func TestFleetMembersAreJudgedLikeASingleServer(t *testing.T) {
	am := servers.FindAlertmanager(t)
	bins := servers.Find(t)
	sc := servers.StartAlertingScenario(t, bins.Prometheus2, am)
	promConfig := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(promConfig, []byte("scrape_configs:\n  - job_name: ghost\n    static_configs:\n      - targets: [127.0.0.1:1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	req := audit.Request{
		Servers: []collect.FleetSource{
			{Name: "a", Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: sc.PrometheusURL, Timeout: 10 * time.Second}},
			{Name: "b", Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: sc.PrometheusURL, Timeout: 10 * time.Second}},
		},
		// The Alertmanager of each member is the one its Prometheus reports: no URL.
		Sources: collect.Options{Alertmanager: &httpconfig.Options{Timeout: 5 * time.Second}, PrometheusConfigFile: promConfig},
		Checks:  checks.Options{},
		// One member at a time: both are the same server, which a loaded machine answers slowly.
		Concurrency: 1,
	}
	var rep report.Report
	// Prometheus discovers its Alertmanager a few seconds after it starts; a loaded machine
	// may leave an audit without answers, which the next one retries.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var err error
		if rep, err = audit.Report(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if len(findingsOf(rep, "alerts/unrouted")) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no member read the Alertmanager its Prometheus sends to: sources %+v", rep.Sources)
		}
	}
	if got, want := findingsOf(rep, "alerts/unrouted"), []string{
		"a " + servers.AlertBatchDown, "a " + servers.AlertOrphanDown, "b " + servers.AlertBatchDown, "b " + servers.AlertOrphanDown,
	}; !slices.Equal(got, want) {
		t.Errorf("alerts/unrouted %v, want %v", got, want)
	}
	if got, want := findingsOf(rep, "alerts/silenced"), []string{"a " + servers.AlertSilencedDown, "b " + servers.AlertSilencedDown}; !slices.Equal(got, want) {
		t.Errorf("alerts/silenced %v, want %v", got, want)
	}
	if got := findingsOf(rep, "jobs/no-targets"); !slices.Contains(got, "a ghost") || !slices.Contains(got, "b ghost") {
		t.Errorf("jobs/no-targets %v, want the pool of the scrape configuration missing from each member", got)
	}
	// A snapshot of the fleet holds each member's Alertmanager: the offline audit finds the same.
	rec, err := audit.Record(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := snapshot.Write(dir, rec.Manifest); err != nil {
		t.Fatal(err)
	}
	offline, err := audit.Report(context.Background(), audit.Request{
		Sources: collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir, SnapshotKind: "snapshot"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, check := range []string{"alerts/unrouted", "alerts/silenced"} {
		if got, want := findingsOf(offline, check), findingsOf(rep, check); !slices.Equal(got, want) {
			t.Errorf("offline %s %v, live %v", check, got, want)
		}
	}

	var names []string
	for _, s := range rep.Sources {
		if !s.OK {
			t.Errorf("source %s %s not read: %s", s.Name, s.URL, s.Error)
		}
		names = append(names, s.Name)
	}
	if want := []string{"a", "alertmanager", "prometheus-config", "b"}; !slices.Equal(names, want) {
		t.Errorf("sources %v, want %v: the Alertmanager and the scrape configuration named once", names, want)
	}
}

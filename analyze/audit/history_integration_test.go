package audit_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// vanishedOf returns "source job message" of every jobs/vanished finding, sorted.
func vanishedOf(r report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Check == checks.JobsVanishedName {
			out = append(out, f.Subject["source"]+" "+f.Subject["job"]+" "+f.Message)
		}
	}
	slices.Sort(out)
	return out
}

// TestFleetMembersReadTheirHistory audits a fleet of two real Prometheus 3 servers with a
// history section: the member whose job vanished three days ago reports it, in its scope, and
// the other does not; a snapshot of the fleet gives the same findings offline.
func TestFleetMembersReadTheirHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	end := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
	start := end.Add(-7 * 24 * time.Hour)
	var om strings.Builder
	om.WriteString("# TYPE up gauge\n")
	for at := start; !at.After(end.Add(-3 * 24 * time.Hour)); at = at.Add(time.Minute) {
		fmt.Fprintf(&om, "up{job=\"legacy\",instance=\"legacy-1\"} 1 %d\n", at.Unix())
	}
	om.WriteString("# EOF\n")
	a := servers.StartPrometheusWithHistory(t, bins.Prometheus3, servers.HistoryPrometheusOptions{OpenMetrics: om.String()})
	b := servers.StartPrometheusWithHistory(t, bins.Prometheus3, servers.HistoryPrometheusOptions{})
	req := audit.Request{
		Servers: []collect.FleetSource{
			{Name: "a", Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: a.URL}},
			{Name: "b", Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: b.URL}},
		},
		Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour}},
	}
	rep, err := audit.Report(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := vanishedOf(rep)
	if len(got) != 1 || !strings.HasPrefix(got[0], "a legacy ") || !strings.Contains(got[0], "(3d ago)") {
		t.Fatalf("jobs/vanished %q, want the legacy job of member a only", got)
	}

	rec, err := audit.Record(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := snapshot.Write(dir, rec.Manifest); err != nil {
		t.Fatal(err)
	}
	offline, err := audit.Report(context.Background(), audit.Request{Sources: collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if back := vanishedOf(offline); !slices.Equal(back, got) {
		t.Errorf("jobs/vanished of the fleet's snapshot %q, want %q", back, got)
	}
}

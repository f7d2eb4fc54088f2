package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// TestDemoSnapshot checks what the embedded demo must hold whenever it is re-recorded.
func TestDemoSnapshot(t *testing.T) {
	t.Run("No file of the demo snapshot holds the password its logs leaked.", func(t *testing.T) {
		assertNoDemoSecret(t, blindspot.DemoSnapshot())
	})
}

// startDemoAlertmanager starts the demo's Alertmanager: everything goes to a receiver with no
// integration unless it is a critical alert of node or prometheus, which pages through a
// webhook; the node up alert is muted by a 30-day silence, and there is no Watchdog.
func startDemoAlertmanager(t *testing.T, bins servers.AlertmanagerBinaries) *servers.Alertmanager {
	pager := servers.StartWebhookRecorder(t)
	am := servers.StartAlertmanager(t, bins.Alertmanager, servers.AMConfig{
		Route: servers.AMRoute{
			Receiver: "blackhole", GroupBy: []string{"alertname", "job"},
			Routes: []servers.AMRoute{
				{Matchers: []string{`severity="critical"`, `job=~"node|prometheus"`}, Receiver: "pager"},
			},
		},
		Receivers: []servers.AMReceiver{
			{Name: "blackhole"},
			{Name: "pager", WebhookConfigs: []servers.AMWebhook{{URL: pager.URL + servers.PathPager}}},
		},
	})
	am.Silence(t, bins.Amtool, 30*24*time.Hour, "node maintenance, never lifted", "alertname="+servers.AlertInstanceDown)
	return am
}

// demoLogs are the demo's Loki streams: prometheus and node ship their logs, pushgateway does
// not, and a cron job on the node host prints a password into the node's syslog.
func demoLogs(now time.Time) []servers.LogStream {
	return []servers.LogStream{
		{Labels: map[string]string{"job": servers.JobPrometheus}, Entries: []servers.LogEntry{
			{Time: now.Add(-2 * time.Minute), Line: `time=2026-11-26T06:00:00Z level=INFO source=main.go:1396 msg="Server is ready to receive web requests."`},
			{Time: now.Add(-time.Minute), Line: `time=2026-11-26T06:01:00Z level=INFO source=head.go:1422 msg="Head GC completed" component=tsdb`},
		}},
		{Labels: map[string]string{"job": servers.JobNode, "filename": "/var/log/syslog"}, Entries: []servers.LogEntry{
			{Time: now.Add(-2 * time.Minute), Line: `Nov 26 06:00:00 host1 node_exporter[812]: level=info msg="Listening on" address=[::]:9100`},
			{Time: now.Add(-time.Minute), Line: `Nov 26 06:01:00 host1 billing-cron[4121]: connecting with DB_PASSWORD=` + servers.FakeDBPassword},
		}},
	}
}

// assertNoDemoSecret fails when a file of the snapshot holds the demo's password in clear.
func assertNoDemoSecret(t *testing.T, snap fs.FS) {
	t.Helper()
	err := fs.WalkDir(snap, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(snap, p)
		if strings.Contains(string(data), servers.FakeDBPassword) {
			t.Errorf("%s holds the password in clear", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// demoDashboard is the one dashboard of the demo's Grafana: a real one (dotdc's Kubernetes nodes
// view, Apache-2.0, see testdata/demo/README.md) that queries node exporter metrics only.
var demoDashboard = testcorpus.Copied("dashboards/k8s-views-nodes.json")

// recordDemoSnapshot replaces testdata/demo (keeping its README and license) with a snapshot of
// the scenario without the hostile job, which belongs in tests rather than in the demo, together
// with a real Loki, a real Alertmanager and the fake Grafana (Grafana itself cannot run in the
// tests) so that every column of the matrix has a verdict.
func recordDemoSnapshot(t *testing.T, bins servers.Binaries) {
	am := servers.FindAlertmanager(t)
	alertmanager := startDemoAlertmanager(t, am)
	sc := servers.StartScenario(t, bins.Prometheus3, servers.WithAlertmanager(alertmanager.URL))
	l := servers.StartLoki(t, bins.Loki)
	l.Push(t, demoLogs(time.Now())...)
	grafana := fakegrafana.New()
	if err := grafana.AddDashboardFiles("", demoDashboard); err != nil {
		t.Fatal(err)
	}
	grafanaSrv := grafana.Start()
	t.Cleanup(grafanaSrv.Close)

	snap := filepath.Join(t.TempDir(), "demo")
	code, out, stderr := cli(t, "snapshot", "--prometheus-url", sc.PrometheusURL, "--loki-url", l.URL, "--grafana-url", grafanaSrv.URL, "--out", snap)
	if code != exitOK {
		t.Fatalf("snapshot exited %d: %s", code, stderr)
	}
	for _, want := range []string{"with Loki", "with Grafana", "(1 dashboards, 0 errors)", "with Alertmanager"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the demo snapshot lacks %q:\n%s", want, out)
		}
	}
	assertNoDemoSecret(t, os.DirFS(snap))
	demo := filepath.Join("..", "..", "testdata", "demo")
	for _, p := range []string{"manifest.json", "prometheus", "loki", "alertmanager", "grafana"} {
		if err := os.RemoveAll(filepath.Join(demo, p)); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(snap, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(snap, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(demo, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded the demo snapshot into %s", demo)
}

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot"
	"github.com/blindspot-dev/blindspot/analyze"
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

// demoLogs are the demo's Loki streams: prometheus and node ship their logs, pushgateway's
// stopped 70 minutes before now (so it has no stream in the last hour), and a cron job on the
// node host prints a password into the node's syslog.
func demoLogs(now time.Time) []servers.LogStream {
	return []servers.LogStream{
		{Labels: map[string]string{"job": servers.JobPushgateway}, Entries: []servers.LogEntry{
			{Time: now.Add(-3 * time.Hour), Line: `time=2026-11-26T03:00:00.000Z level=INFO source=main.go:88 msg="starting pushgateway"`},
			{Time: now.Add(-2 * time.Hour), Line: `time=2026-11-26T04:00:00.000Z level=INFO source=main.go:201 msg="Listening on" address=[::]:9091`},
			{Time: now.Add(-70 * time.Minute), Line: `time=2026-11-26T04:50:00.000Z level=INFO source=diskmetricstore.go:132 msg="metric group pushed" job=billing`},
		}},
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
	// The history ends before the head begins (ten minutes before the Prometheus starts).
	end := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
	sc := servers.StartScenario(t, bins.Prometheus3, servers.WithAlertmanager(alertmanager.URL),
		servers.WithHistory(func(s *servers.Scenario) string { return demoHistory(s, end) }))
	l := servers.StartLoki(t, bins.Loki)
	l.Push(t, demoLogs(time.Now())...)
	grafana := fakegrafana.New()
	if err := grafana.AddDashboardFiles("", demoDashboard); err != nil {
		t.Fatal(err)
	}
	grafanaSrv := grafana.Start()
	t.Cleanup(grafanaSrv.Close)

	waitForHistoryEnd()
	// The runbook links are fetched, as an audit does by default: runbooks.example.com does
	// not resolve, which is what the demo shows.
	t.Setenv("BLINDSPOT_CHECKS_RUNBOOK_LINKS", "true")
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

// demoHistory is the demo Prometheus's week before end, one sample a minute (each family once,
// in one block, ending with # EOF, as promtool's create-blocks-from openmetrics wants):
//   - billing's invoices_created_total rose steadily for five days to its pushed value, then
//     stayed flat for two (business/flatlined);
//   - checkout's orders_placed_total moved every four hours, ending at its pushed value
//     (moving, so not flatlined);
//   - a job reports had an up series until three days before end (jobs/vanished);
//   - ALERTS: InstanceDown fired all week (the node maintenance its silence is about:
//     alerts/always-firing); OrdersStopped, whose 10m rate is zero between the four-hourly
//     orders, fired from 25 minutes after each order to the next (alerts/flapping);
//   - the rule manager's own gauge has every group of the scenario's rule file loaded all week,
//     so the alerts that never fired are alerts/never-fired.
func demoHistory(s *servers.Scenario, end time.Time) string {
	const week = 7 * 24 * 60
	start := end.Add(-week * time.Minute)
	at := func(i int) int64 { return start.Add(time.Duration(i) * time.Minute).Unix() }
	invoices, orders := 1234, 42
	var b strings.Builder
	b.WriteString("# TYPE invoices_created_total counter\n")
	for i := 0; i <= week; i++ {
		fmt.Fprintf(&b, "invoices_created_total{job=\"billing\"} %d %d\n", min(i, 5*24*60)*invoices/(5*24*60), at(i))
	}
	b.WriteString("# TYPE orders_placed_total counter\n")
	for i := 0; i <= week; i++ {
		fmt.Fprintf(&b, "orders_placed_total{job=\"checkout\"} %d %d\n", orders-(week-i+239)/240, at(i))
	}
	b.WriteString("# TYPE up gauge\n")
	for i := 0; i <= week-3*24*60; i++ {
		fmt.Fprintf(&b, "up{job=\"reports\",instance=\"reports-1:9100\"} 1 %d\n", at(i))
	}
	b.WriteString("# TYPE ALERTS gauge\n")
	for i := 0; i <= week; i++ {
		fmt.Fprintf(&b, "ALERTS{alertname=%q,alertstate=\"firing\",instance=%q,job=%q,severity=\"critical\"} 1 %d\n",
			servers.AlertInstanceDown, s.Instances[servers.JobNode], servers.JobNode, at(i))
	}
	for i := 0; i <= week; i++ {
		if (week-i)%240 != 0 && (i-week%240+240)%240 >= 25 {
			fmt.Fprintf(&b, "ALERTS{alertname=%q,alertstate=\"firing\",job=\"checkout\",severity=\"critical\"} 1 %d\n",
				servers.AlertOrdersStopped, at(i))
		}
	}
	b.WriteString("# TYPE prometheus_rule_group_rules gauge\n")
	for _, g := range []struct {
		name  string
		rules int
	}{{servers.GroupAvailability, 2}, {servers.GroupRecording, 1}, {servers.GroupCoverage, 6}} {
		for i := 0; i <= week; i++ {
			fmt.Fprintf(&b, "prometheus_rule_group_rules{instance=%q,job=%q,rule_group=%q} %d %d\n",
				s.Instances[servers.JobPrometheus], servers.JobPrometheus, analyze.RuleGroupKey(s.RuleFile, g.name), g.rules, at(i))
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// waitForHistoryEnd waits until the history's end, the last whole minute, is past the first
// scrapes of a server that just started, so that the live values (the pushed last-success
// gauge among them) are in the answers at the end of the history: an audit of a server
// younger than that sees none of them, and the next one would.
func waitForHistoryEnd() {
	time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + 5*time.Second)))
}

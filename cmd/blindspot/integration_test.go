package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

var recordDemo = flag.Bool("record-demo", false, "re-record testdata/demo from the Prometheus 3 scenario (review the diff!)")

// cli runs blindspot in-process and returns its exit code, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func decodeReport(t *testing.T, data []byte) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decoding the JSON report: %v\n%s", err, data)
	}
	return r
}

// findingKey identifies a finding by check and subject, readable in failure messages.
type findingKey string

func keyOf(check string, subject map[string]string) findingKey {
	parts := []string{check}
	for _, k := range slices.Sorted(maps.Keys(subject)) {
		parts = append(parts, k+"="+subject[k])
	}
	return findingKey(strings.Join(parts, " "))
}

func keys(r report.Report) map[findingKey]string {
	out := map[findingKey]string{}
	for _, f := range r.Findings {
		out[keyOf(f.Check, f.Subject)] = f.ID
	}
	return out
}

// wantExactly checks that r holds a finding of each key of want and no other, and returns
// r's findings by key.
func wantExactly(t *testing.T, r report.Report, want []findingKey) map[findingKey]string {
	t.Helper()
	got := keys(r)
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("missing finding %s", k)
		}
	}
	for k := range got {
		if !slices.Contains(want, k) {
			t.Errorf("unexpected finding %s", k)
		}
	}
	return got
}

// expectedFindings are exactly the gaps of the scenario (with its hostile job).
func expectedFindings(sc *servers.Scenario) []findingKey {
	job := func(j string) map[string]string { return map[string]string{"job": j} }
	rule := func(r string) map[string]string { return map[string]string{"rule": r} }
	pool := func(p string) map[string]string { return map[string]string{"scrape_pool": p} }
	want := []findingKey{
		keyOf("targets/down", map[string]string{"job": servers.JobPaymentsAPI, "instance": sc.DownInstance}),
		keyOf("targets/down", map[string]string{"job": servers.HostileJob, "instance": sc.Instances[servers.HostileJob]}),
		// jobs/no-targets is about scrape pools.
		keyOf("jobs/no-targets", pool(servers.JobBatchJobs)),
		keyOf("jobs/no-targets", pool(servers.JobLegacyApp)),
		// Covered: node (equality), prometheus (equality), pushgateway (regex), legacy-app
		// and batch-jobs (aggregation by job).
		keyOf("alerts/missing-up", job(servers.JobPaymentsAPI)),
		keyOf("alerts/missing-up", job(servers.HostileJob)),
		keyOf("rules/broken", rule(servers.RecordBroken)),
		keyOf("rules/unknown-metric", map[string]string{"rule": servers.AlertInvoicesStalled, "metric": servers.MisspeltMetric}),
		keyOf("alerts/missing-business", map[string]string{"job": "billing", "metric": "invoices_created_total"}),
		keyOf("alerts/missing-business", map[string]string{"job": "billing", "metric": "billing_last_success_timestamp_seconds"}),
		keyOf("alerts/no-severity", rule(servers.AlertNodeVanished)),
		// The scenario's Prometheus has no alerting section.
		keyOf("alertmanager/not-connected", map[string]string{"prometheus": sc.PrometheusURL}),
	}
	// Only node has an absence alert. batch-jobs (file_sd, which may set any job label) is a
	// pool without targets and without a known job; legacy-app's configuration fixes its job.
	for _, j := range []string{servers.JobPrometheus, servers.JobPushgateway, servers.JobPaymentsAPI, servers.JobLegacyApp, servers.HostileJob} {
		want = append(want, keyOf("alerts/missing-absent", job(j)))
	}
	want = append(want, keyOf("alerts/missing-absent", pool(servers.JobBatchJobs)))
	for _, a := range sc.AlertsWithoutRunbook {
		want = append(want, keyOf("alerts/no-runbook", rule(a)))
	}
	return want
}

// TestIntegration audits a real Prometheus of each major with a scenario of typical gaps:
// live, through a snapshot, and offline from that snapshot.
func TestIntegration(t *testing.T) {
	bins := servers.Find(t)
	for _, tc := range []struct {
		name, binary string
		// version is what the server reports of itself: Debian's 2.x says, a 3.x built
		// from the Go module does not.
		version *regexp.Regexp
	}{
		{"prometheus2", bins.Prometheus2, regexp.MustCompile(`^2\.\d+\.\d+`)},
		{"prometheus3", bins.Prometheus3, regexp.MustCompile(`^$`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := servers.StartScenario(t, tc.binary, servers.WithHostileJob())

			code, out, stderr := cli(t, "audit", "--prometheus-url", sc.PrometheusURL, "--format", "json")
			if code != exitOK {
				t.Fatalf("live audit exited %d: %s", code, stderr)
			}
			live := decodeReport(t, []byte(out))

			if len(live.Sources) != 1 || !live.Sources[0].OK || live.Sources[0].Kind != "live" {
				t.Errorf("sources = %+v, want one live source read completely", live.Sources)
			}
			if v := live.Sources[0].Version; !tc.version.MatchString(v) {
				t.Errorf("source version %q, want one matching %s", v, tc.version)
			}
			got := wantExactly(t, live, expectedFindings(sc))
			for _, f := range live.Findings {
				if f.Check != "jobs/no-targets" {
					continue
				}
				wantCause := map[string]string{servers.JobBatchJobs: "discovery", servers.JobLegacyApp: "relabeling"}[f.Subject["scrape_pool"]]
				if f.Details["cause"] != wantCause {
					t.Errorf("%s: cause %q, want %q (%s)", f.Subject["scrape_pool"], f.Details["cause"], wantCause, f.Message)
				}
			}
			if live.Summary.Targets.Up != len(sc.UpJobs) || live.Summary.Targets.Down != len(sc.DownJobs) {
				t.Errorf("targets summary %+v, want %d up and %d down", live.Summary.Targets, len(sc.UpJobs), len(sc.DownJobs))
			}
			if live.Summary.Rules.Alerting != len(sc.Alerts) || live.Summary.Rules.Recording != len(sc.RecordingRules) {
				t.Errorf("rules summary %+v, want %d alerting and %d recording", live.Summary.Rules, len(sc.Alerts), len(sc.RecordingRules))
			}
			// Every Prometheus check runs; without a Loki, dashboards and an Alertmanager (the
			// scenario's Prometheus sends to none), the log, dashboard and routing checks are
			// skipped, with the runbook links not fetched (as in every test) alerts/broken-runbook,
			// and without kube-state-metrics the Kubernetes checks; the history is read by default,
			// and its checks run.
			var skipped []string
			for _, s := range live.Summary.ChecksSkipped {
				skipped = append(skipped, s.Check)
			}
			if live.Summary.MetricNames == 0 || !slices.Equal(skipped, []string{"alerts/broken-runbook", "logs/unaggregated", "logs/secrets", "logs/stopped", "dashboards/missing", "alerts/unrouted", "alerts/silenced", "alertmanager/no-watchdog", "alerts/no-owner",
				"workloads/unscraped", "services/unscraped", "namespaces/unmonitored", "pods/not-ready-unalerted", "pods/crashloop-unalerted", "pods/not-ready", "pods/crashlooping"}) {
				t.Errorf("summary %+v: want metric names and every Prometheus check run", live.Summary)
			}

			// Snapshot, then audit offline: same findings, same ids.
			snap := filepath.Join(t.TempDir(), "snap")
			if code, _, stderr := cli(t, "snapshot", "--prometheus-url", sc.PrometheusURL, "--out", snap); code != exitOK {
				t.Fatalf("snapshot exited %d: %s", code, stderr)
			}
			code, out, stderr = cli(t, "audit", "--from", snap, "--format", "json")
			if code != exitOK {
				t.Fatalf("offline audit exited %d: %s", code, stderr)
			}
			offline := decodeReport(t, []byte(out))
			if g, w := keys(offline), got; !maps.Equal(g, w) {
				t.Errorf("offline findings differ from live ones:\n offline %v\n live    %v", g, w)
			}
			if offline.Sources[0].Kind != "snapshot" || offline.Sources[0].URL != live.Sources[0].URL {
				t.Errorf("offline source %+v, want kind snapshot and the live URL", offline.Sources[0])
			}

			// The text report shows hostile names as quoted text on one line.
			code, text, _ := cli(t, "audit", "--from", snap)
			if code != exitOK || !bytes.Contains([]byte(text), []byte(`job "evil\"} # <script>alert(1)</script>"`)) {
				t.Errorf("text report (exit %d) does not show the hostile job quoted:\n%s", code, text)
			}

			// A server that goes away mid-life yields a partial report and exit code 3.
			sc.Prometheus.Stop()
			code, out, _ = cli(t, "audit", "--prometheus-url", sc.PrometheusURL, "--format", "json")
			if code != exitSource {
				t.Errorf("audit of a stopped server exited %d, want %d", code, exitSource)
			}
			if r := decodeReport(t, []byte(out)); r.Sources[0].OK || r.Sources[0].Error == "" {
				t.Errorf("stopped server: source %+v, want ok=false with an error", r.Sources[0])
			}

			if *recordDemo && tc.name == "prometheus3" {
				recordDemoSnapshot(t, bins)
			}
		})
	}
}

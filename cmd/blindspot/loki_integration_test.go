package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestIntegrationLoki audits a real Prometheus 3 and a real Loki 1.6.1 together: live, through
// a snapshot, and with the Loki gone. The prometheus job logs a password; no secret may reach
// the report, the verbose log or the snapshot.
func TestIntegrationLoki(t *testing.T) {
	bins := servers.Find(t)
	sc := servers.StartScenario(t, bins.Prometheus3)
	l := servers.StartLoki(t, bins.Loki)
	now := time.Now()
	const secret = "hunter2-very-secret"
	l.Push(t,
		servers.LogStream{Labels: map[string]string{"job": servers.JobPrometheus}, Entries: []servers.LogEntry{
			{Time: now.Add(-time.Minute), Line: "msg=\"Server is ready to receive web requests.\""},
			{Time: now.Add(-50 * time.Second), Line: "remote_write url=https://metrics.example.com password=" + secret},
		}},
		servers.LogStream{Labels: map[string]string{"job": servers.JobNode}, Entries: []servers.LogEntry{
			{Time: now.Add(-time.Minute), Line: "msg=\"Listening on\" address=127.0.0.1:9100"},
		}},
	)

	code, out, stderr := cli(t, "--verbose", "audit", "--prometheus-url", sc.PrometheusURL, "--loki-url", l.URL, "--format", "json")
	if code != exitOK {
		t.Fatalf("live audit exited %d: %s", code, stderr)
	}
	assertNoLeak(t, secret, "the report", out)
	assertNoLeak(t, secret, "the verbose log", stderr)
	// --verbose tells which label pair related each job to its streams.
	if !strings.Contains(stderr, `msg="Loki streams of job" job=node pair=job→job streams=1`) ||
		!strings.Contains(stderr, `msg="no Loki stream for job" job=pushgateway`) {
		t.Errorf("the verbose log does not show the job-to-stream matches:\n%s", stderr)
	}
	live := decodeReport(t, []byte(out))
	if len(live.Sources) != 2 || !live.Sources[0].OK || live.Sources[1].Name != "loki" || !live.Sources[1].OK || live.Sources[1].Kind != "live" {
		t.Errorf("sources %+v, want prometheus and loki read completely", live.Sources)
	}
	got := keys(live)
	leak := keyOf("logs/secrets", map[string]string{"job": servers.JobPrometheus, "stream": `{job="prometheus"}`, "pattern": secretPattern(t, live)})
	unshipped := keyOf("logs/unaggregated", map[string]string{"job": servers.JobPushgateway})
	for _, k := range []findingKey{leak, unshipped} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing finding %s; got %v", k, got)
		}
	}
	if _, ok := got[keyOf("logs/unaggregated", map[string]string{"job": servers.JobNode})]; ok {
		t.Error("node ships its logs but is reported as unaggregated")
	}

	// generate writes the masking pipelines for every agent and the Loki ruler alerts, for the
	// leaking stream, without the secret in any of them.
	gen := filepath.Join(t.TempDir(), "generated")
	if code, out, stderr := cli(t, "generate", "--prometheus-url", sc.PrometheusURL, "--loki-url", l.URL, "--out", gen); code != exitOK {
		t.Fatalf("generate exited %d: %s%s", code, out, stderr)
	}
	for _, f := range []string{
		"pipelines/alloy/masking.alloy", "pipelines/promtail/masking.yaml", "pipelines/fluent-bit/masking.yaml",
		"pipelines/fluent-bit/masking.lua", "pipelines/vector/masking.yaml", "pipelines/otelcol/masking.yaml",
		"loki-rules/secrets.yaml",
	} {
		data, err := os.ReadFile(filepath.Join(gen, f))
		if err != nil {
			t.Errorf("generate did not write %s: %v", f, err)
			continue
		}
		assertNoLeak(t, secret, f, string(data))
	}
	if data, _ := os.ReadFile(filepath.Join(gen, "pipelines/alloy/masking.alloy")); !strings.Contains(string(data), `{job=\"prometheus\"}`) {
		t.Errorf("the Alloy pipeline is not scoped to the leaking stream:\n%s", data)
	}

	snap := filepath.Join(t.TempDir(), "snap")
	if code, _, stderr := cli(t, "snapshot", "--prometheus-url", sc.PrometheusURL, "--loki-url", l.URL, "--out", snap); code != exitOK {
		t.Fatalf("snapshot exited %d: %s", code, stderr)
	}
	err := filepath.WalkDir(snap, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		assertNoLeak(t, secret, path, string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = cli(t, "audit", "--from", snap, "--format", "json")
	if code != exitOK {
		t.Fatalf("offline audit exited %d: %s", code, stderr)
	}
	offline := decodeReport(t, []byte(out))
	if g := keys(offline); !maps.Equal(g, got) {
		t.Errorf("offline findings differ from live ones:\n offline %v\n live    %v", g, got)
	}
	if len(offline.Sources) != 2 || offline.Sources[1].Name != "loki" || offline.Sources[1].Kind != "snapshot" || offline.Sources[1].URL != l.URL {
		t.Errorf("offline sources %+v", offline.Sources)
	}

	// A Loki that is gone: the Prometheus findings are still reported, the Loki error is
	// listed, and the exit code is 3.
	l.Process.Stop()
	code, out, _ = cli(t, "audit", "--prometheus-url", sc.PrometheusURL, "--loki-url", l.URL, "--format", "json")
	if code != exitSource {
		t.Errorf("audit with Loki down exited %d, want %d", code, exitSource)
	}
	down := decodeReport(t, []byte(out))
	if !down.Sources[0].OK || down.Sources[1].OK || !strings.Contains(down.Sources[1].Error, "connection refused") {
		t.Errorf("sources %+v, want prometheus read and loki failed with connection refused", down.Sources)
	}
	prometheusFinding := keyOf("targets/down", map[string]string{"job": servers.JobPaymentsAPI, "instance": sc.DownInstance})
	if _, ok := keys(down)[prometheusFinding]; !ok {
		t.Errorf("with Loki down the Prometheus finding %s is missing", prometheusFinding)
	}
}

// secretPattern is the pattern of the report's one logs/secrets finding, whose example must
// be masked.
func secretPattern(t *testing.T, r report.Report) string {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == "logs/secrets" {
			if !strings.Contains(f.Details["example"], "password=") || !strings.Contains(f.Details["example"], "*") {
				t.Errorf("example %q is not a masked password line", f.Details["example"])
			}
			return f.Subject["pattern"]
		}
	}
	t.Error("no logs/secrets finding")
	return ""
}

func assertNoLeak(t *testing.T, secret, where, text string) {
	t.Helper()
	for _, part := range []string{secret, "hunter2"} {
		if strings.Contains(text, part) {
			t.Errorf("%s holds the secret %q", where, part)
		}
	}
}

package main

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestFleetWithSharedSources audits a fleet of two real Prometheus servers with a real Loki,
// dashboard files and rule files that all servers share.
func TestFleetWithSharedSources(t *testing.T) {
	bins := servers.Find(t)
	start := func(jobs map[string][]string) *servers.Prometheus {
		return servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{Jobs: jobs})
	}
	// Healthy targets: the log and dashboard checks judge the jobs that are up.
	eu := start(map[string][]string{"api": {exporter(t)}})
	us := start(map[string][]string{"db": {exporter(t)}})
	l := servers.StartLoki(t, bins.Loki)
	now := time.Now()
	l.Push(t,
		servers.LogStream{Labels: map[string]string{"job": "api"}, Entries: []servers.LogEntry{
			{Time: now.Add(-time.Minute), Line: "login password=hunter2-api"},
		}},
		servers.LogStream{Labels: map[string]string{"job": "batch"}, Entries: []servers.LogEntry{
			{Time: now.Add(-time.Minute), Line: "export password=hunter2-batch"},
		}},
	)
	dir := t.TempDir()
	dashboards := writeFile(t, dir, "api.json", dashboardJSON)
	rules := writeFile(t, dir, "rules.yaml", "groups:\n  - name: shared\n    rules:\n      - alert: DbDown\n        expr: up{job=\"db\"} == 0\n")
	fleet := []string{"--prometheus-url", "eu=" + eu.URL, "--prometheus-url", "us=" + us.URL}
	shared := []string{"--dashboards", dashboards, "--rules", rules}
	args := slices.Concat(fleet, []string{"--loki-url", l.URL}, shared)

	var live report.Report
	t.Run("Loki, dashboards and rule files are read once and judged with every server's jobs; what no server explains is reported once.", func(t *testing.T) {
		live = auditJSON(t, exitOK, args...)
		got := keys(live)
		for _, want := range []findingKey{
			// eu's api job logs a secret: eu reports it, for its job.
			keyOf("logs/secrets", map[string]string{"job": "api", "source": "eu", "stream": `{job="api"}`, "pattern": patternOf(t, live, `{job="api"}`)}),
			// No server has a batch job: the secret is reported once, for the shared Loki.
			keyOf("logs/secrets", map[string]string{"stream": `{job="batch"}`, "pattern": patternOf(t, live, `{job="batch"}`)}),
			// us's db job has no logs and no dashboard; eu's api has both.
			keyOf("logs/unaggregated", map[string]string{"job": "db", "source": "us"}),
			keyOf("dashboards/missing", map[string]string{"job": "db", "source": "us"}),
			// The rule file's alert lacks a runbook: said once, not per server.
			keyOf("alerts/no-runbook", map[string]string{"rule": "DbDown"}),
			keyOf("alerts/missing-up", map[string]string{"job": "api", "source": "eu"}),
		} {
			if _, ok := got[want]; !ok {
				t.Errorf("missing finding %s; have %v", want, slices.Sorted(maps.Keys(got)))
			}
		}
		for _, unwanted := range []findingKey{
			keyOf("logs/unaggregated", map[string]string{"job": "api", "source": "eu"}),
			keyOf("dashboards/missing", map[string]string{"job": "api", "source": "eu"}),
			// The rule file covers us's db job.
			keyOf("alerts/missing-up", map[string]string{"job": "db", "source": "us"}),
		} {
			if _, ok := got[unwanted]; ok {
				t.Errorf("finding %s is reported", unwanted)
			}
		}
		secrets := 0
		for _, f := range live.Findings {
			switch {
			case f.Check == "logs/secrets":
				secrets++
			case f.Check == "alerts/no-runbook" && f.Subject["source"] != "":
				t.Errorf("the rule file's finding carries a server: %v", f.Subject)
			}
		}
		if secrets != 2 {
			t.Errorf("%d logs/secrets findings, want 2 (one per leaking stream)", secrets)
		}
		var names []string
		for _, s := range live.Sources {
			names = append(names, s.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"dashboards", "eu", "loki", "rules", "us"}) {
			t.Errorf("sources %v, want each server and each shared source once", names)
		}
		assertNoLeak(t, "hunter2", "the report", mustJSON(t, live))
	})

	t.Run("Generation gives every server's bundle the masking pipelines of every leaking stream: log agents see all of Loki's streams.", func(t *testing.T) {
		out := t.TempDir()
		if code, stdout, stderr := cli(t, slices.Concat([]string{"generate", "--out", out}, args)...); code != exitOK {
			t.Fatalf("generate: exit %d\n%s%s", code, stdout, stderr)
		}
		files := filesUnder(t, out)
		for _, member := range []string{"eu", "us"} {
			alloy, ok := files[member+"/pipelines/alloy/masking.alloy"]
			if !ok || !strings.Contains(alloy, `{job=\"api\"}`) || !strings.Contains(alloy, `{job=\"batch\"}`) {
				t.Errorf("%s's Alloy pipeline is missing or does not mask both leaking streams; files %v", member, slices.Sorted(maps.Keys(files)))
			}
		}
		for name, content := range files {
			assertNoLeak(t, "hunter2", name, content)
		}
	})

	t.Run("A snapshot of the fleet holds Loki's findings and is audited offline with the same findings.", func(t *testing.T) {
		snap, live := settledSnapshot(t, slices.Concat([]string{"--loki-url", l.URL}, fleet), args)
		sameAudit(t, live, auditJSON(t, exitOK, slices.Concat([]string{"--from", snap}, shared)...))
	})

	t.Run("A Grafana's dashboards are read once for the whole fleet, live and into its snapshot.", func(t *testing.T) {
		grafana := fakegrafana.New()
		if _, err := grafana.AddDashboard("", []byte(dashboardJSON)); err != nil {
			t.Fatal(err)
		}
		srv := grafana.Start()
		t.Cleanup(srv.Close)
		withGrafana := slices.Concat(fleet, []string{"--grafana-url", srv.URL})
		snap, rep := settledSnapshot(t, withGrafana, withGrafana)
		got := keys(rep)
		if _, ok := got[keyOf("dashboards/missing", map[string]string{"job": "db", "source": "us"})]; !ok {
			t.Errorf("us's db job is not reported without a dashboard: %v", slices.Sorted(maps.Keys(got)))
		}
		if _, ok := got[keyOf("dashboards/missing", map[string]string{"job": "api", "source": "eu"})]; ok {
			t.Error("eu's api job is reported without a dashboard, but the Grafana dashboard queries it")
		}
		fetches := func() int {
			n := 0
			for _, r := range grafana.Requests() {
				if r.Path == "/api/dashboards/uid/api" {
					n++
				}
			}
			return n
		}
		before := fetches()
		auditJSON(t, exitOK, withGrafana...)
		if n := fetches() - before; n != 1 {
			t.Errorf("an audit of the fleet fetched the dashboard %d times, want once", n)
		}
		sameAudit(t, rep, auditJSON(t, exitOK, "--from", snap))
	})

	t.Run("A shared source that is down makes the report partial, named once, and the servers' gaps are still reported.", func(t *testing.T) {
		l.Process.Stop()
		code, out, stderr := cli(t, slices.Concat([]string{"audit", "--format", "json"}, args)...)
		if code != exitSource {
			t.Fatalf("exit %d, want %d; stderr: %s", code, exitSource, stderr)
		}
		if strings.Count(stderr, l.URL) != 1 || !strings.Contains(stderr, "partial report: could not read loki "+l.URL) {
			t.Errorf("stderr does not name the Loki once: %s", stderr)
		}
		rep := decodeReport(t, []byte(out))
		if _, ok := keys(rep)[keyOf("alerts/missing-up", map[string]string{"job": "api", "source": "eu"})]; !ok {
			t.Error("the servers' gaps are missing from the partial report")
		}
		for _, s := range rep.Summary.ChecksSkipped {
			if s.Check == "logs/secrets" && !slices.Equal(s.Members, []string{"source=eu", "source=us"}) {
				t.Errorf("logs/secrets skipped for %v, want both servers named", s.Members)
			}
		}
	})
}

// dashboardJSON is a dashboard whose one panel queries the api job.
const dashboardJSON = `{"uid": "api", "title": "API", "panels": [{"title": "Up", "type": "timeseries", "targets": [{"expr": "up{job=\"api\"}"}]}]}`

// exporter serves one counter on /metrics, as an exporter does, and returns its address.
func exporter(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE requests_total counter\nrequests_total 1\n")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// patternOf is the secret pattern reported for a stream.
func patternOf(t *testing.T, r report.Report, stream string) string {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == "logs/secrets" && f.Subject["stream"] == stream {
			return f.Subject["pattern"]
		}
	}
	return "<no logs/secrets finding for " + stream + ">"
}

func mustJSON(t *testing.T, r report.Report) string {
	t.Helper()
	var b strings.Builder
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

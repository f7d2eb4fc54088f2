package main

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// findingsOf are the findings of one check, as "subject: message" lines, in report order.
func findingsOf(r report.Report, check string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Check != check {
			continue
		}
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(f.Subject)) {
			kv = append(kv, k+"="+f.Subject[k])
		}
		out = append(out, strings.Join(kv, " ")+": "+f.Message)
	}
	return out
}

// TestIntegrationLogsStopped audits a real Prometheus 3 and a real Loki 1.6.1 whose api job
// stopped logging 65 minutes ago while its target is up; worker still logs, batch stopped with
// its target down, and cron, which Prometheus does not scrape, stopped too. Only api is
// reported, live and from a snapshot.
func TestIntegrationLogsStopped(t *testing.T) {
	bins := servers.Find(t)
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE app_info gauge\napp_info 1")
	}))
	defer exporter.Close()
	addr := strings.TrimPrefix(exporter.URL, "http://")
	prom := servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{Jobs: map[string][]string{
		"api": {addr}, "worker": {addr}, "batch": {servers.FreeAddress(t)},
	}})
	l := servers.StartLoki(t, bins.Loki)
	now := time.Now().Truncate(time.Second)
	every := func(from, to, step time.Duration, line string) []servers.LogEntry {
		var out []servers.LogEntry
		for ago := from; ago >= to; ago -= step {
			out = append(out, servers.LogEntry{Time: now.Add(-ago), Line: line})
		}
		return out
	}
	// Loki 1.6.1 accepts samples of any age (limits_config.reject_old_samples is off).
	api := every(3*time.Hour, 65*time.Minute, 5*time.Minute, "GET /orders 200")
	l.Push(t,
		servers.LogStream{Labels: map[string]string{"job": "api"}, Entries: api},
		servers.LogStream{Labels: map[string]string{"job": "worker"}, Entries: every(3*time.Hour, time.Minute, 10*time.Minute, "job done")},
		servers.LogStream{Labels: map[string]string{"job": "batch"}, Entries: every(3*time.Hour, 2*time.Hour, 10*time.Minute, "batch run")},
		servers.LogStream{Labels: map[string]string{"job": "cron"}, Entries: every(3*time.Hour, 2*time.Hour, 10*time.Minute, "tick")},
	)
	cleanEnv(t)
	t.Setenv("BLINDSPOT_HISTORY_LOOKBACK", "6h")

	code, out, stderr := cli(t, "audit", "--prometheus-url", prom.URL, "--loki-url", l.URL, "--format", "json")
	if code != exitOK && code != exitFindings {
		t.Fatalf("live audit exited %d: %s", code, stderr)
	}
	live := decodeReport(t, []byte(out))
	got := findingsOf(live, "logs/stopped")
	if len(got) != 1 || !strings.HasPrefix(got[0], fmt.Sprintf(`job=api: the Loki streams of job "api" had %d lines during the lookback, the last at `, len(api))) ||
		!strings.HasSuffix(got[0], "and none in the last 1h, while its 1 target is up: the process stopped logging, or its logs stopped being shipped") {
		t.Errorf("logs/stopped findings:\n%s\nwant api's alone", strings.Join(got, "\n"))
	}
	for _, f := range live.Findings {
		if f.Check == "logs/stopped" && (f.Details["targets_up"] != "1" || f.Details["silence"] != "1h" || f.Details["lines"] != fmt.Sprint(len(api))) {
			t.Errorf("details %v", f.Details)
		}
	}

	snap := filepath.Join(t.TempDir(), "snap")
	if code, _, stderr := cli(t, "snapshot", "--prometheus-url", prom.URL, "--loki-url", l.URL, "--out", snap); code != exitOK {
		t.Fatalf("snapshot exited %d: %s", code, stderr)
	}
	code, out, stderr = cli(t, "audit", "--from", snap, "--format", "json")
	if code != exitOK && code != exitFindings {
		t.Fatalf("offline audit exited %d: %s", code, stderr)
	}
	if offline := findingsOf(decodeReport(t, []byte(out)), "logs/stopped"); !slices.Equal(offline, got) {
		t.Errorf("offline logs/stopped findings:\n%s\nwant the live ones:\n%s", strings.Join(offline, "\n"), strings.Join(got, "\n"))
	}
}

// TestIntegrationRunbookLinks audits a real Prometheus 3 whose alerts link runbooks on a local
// wiki, on a closed port and relatively: each distinct link is fetched once, the broken ones
// are reported, and a snapshot gives the same findings without fetching anything.
func TestIntegrationRunbookLinks(t *testing.T) {
	bins := servers.Find(t)
	var (
		mu       sync.Mutex
		requests []string
	)
	wiki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/ok" {
			return
		}
		http.NotFound(w, r)
	}))
	defer wiki.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/runbook"
	l.Close()
	runbook := func(name, link string) servers.Alert {
		return servers.Alert{Name: name, Expr: "vector(0) > 1", Annotations: map[string]string{"runbook_url": link}}
	}
	alerts := []servers.Alert{
		runbook("Documented", wiki.URL+"/ok"),
		runbook("Gone", wiki.URL+"/gone"),
		runbook("AlsoGone", wiki.URL+"/gone"),
		runbook("Unreachable", refused),
		runbook("Relative", "runbooks/Relative.md"),
	}
	prom := servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{Alerts: alerts})
	cleanEnv(t)
	t.Setenv("BLINDSPOT_CHECKS_RUNBOOK_LINKS", "true")

	code, out, stderr := cli(t, "audit", "--prometheus-url", prom.URL, "--format", "json")
	if code != exitOK && code != exitFindings {
		t.Fatalf("live audit exited %d: %s", code, stderr)
	}
	got := findingsOf(decodeReport(t, []byte(out)), "alerts/broken-runbook")
	want := []string{
		fmt.Sprintf(`rule=AlsoGone: alert "AlsoGone" has a runbook link that does not resolve (%s/gone: HTTP 404)`, wiki.URL),
		fmt.Sprintf(`rule=Gone: alert "Gone" has a runbook link that does not resolve (%s/gone: HTTP 404)`, wiki.URL),
		fmt.Sprintf(`rule=Unreachable: alert "Unreachable" has a runbook link that does not resolve (%s: connection refused)`, refused),
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts/broken-runbook findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	fetched := slices.Sorted(slices.Values(requests))
	mu.Unlock()
	if want := []string{"HEAD /gone", "HEAD /ok"}; !slices.Equal(fetched, want) {
		t.Errorf("the wiki received %q, want %q", fetched, want)
	}

	// A fleet of two servers with the same alerts: each member reports its broken links, and
	// each link is still fetched once.
	other := servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{Alerts: alerts})
	mu.Lock()
	requests = nil
	mu.Unlock()
	code, out, stderr = cli(t, "audit", "--prometheus-url", "a="+prom.URL, "--prometheus-url", "b="+other.URL, "--format", "json")
	if code != exitOK && code != exitFindings {
		t.Fatalf("fleet audit exited %d: %s", code, stderr)
	}
	var fleetWant []string
	for _, source := range []string{"a", "b"} {
		for _, w := range want {
			rule, msg, _ := strings.Cut(w, ": ")
			fleetWant = append(fleetWant, rule+" source="+source+": "+msg)
		}
	}
	slices.Sort(fleetWant) // the report sorts the findings by rule, then member
	if got := findingsOf(decodeReport(t, []byte(out)), "alerts/broken-runbook"); !slices.Equal(got, fleetWant) {
		t.Errorf("fleet alerts/broken-runbook findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(fleetWant, "\n"))
	}
	mu.Lock()
	fetched = slices.Sorted(slices.Values(requests))
	mu.Unlock()
	if want := []string{"HEAD /gone", "HEAD /ok"}; !slices.Equal(fetched, want) {
		t.Errorf("for the fleet the wiki received %q, want %q", fetched, want)
	}

	snap := filepath.Join(t.TempDir(), "snap")
	if code, _, stderr := cli(t, "snapshot", "--prometheus-url", prom.URL, "--out", snap); code != exitOK {
		t.Fatalf("snapshot exited %d: %s", code, stderr)
	}
	wiki.Close() // the offline audit fetches nothing
	code, out, stderr = cli(t, "audit", "--from", snap, "--format", "json")
	if code != exitOK && code != exitFindings {
		t.Fatalf("offline audit exited %d: %s", code, stderr)
	}
	if offline := findingsOf(decodeReport(t, []byte(out)), "alerts/broken-runbook"); !slices.Equal(offline, want) {
		t.Errorf("offline alerts/broken-runbook findings:\n%s\nwant:\n%s", strings.Join(offline, "\n"), strings.Join(want, "\n"))
	}

	t.Setenv("BLINDSPOT_CHECKS_RUNBOOK_LINKS", "false")
	_, out, _ = cli(t, "audit", "--prometheus-url", prom.URL)
	if !strings.Contains(out, "check alerts/broken-runbook did not run") {
		t.Errorf("with checks.runbook_links false the check still ran:\n%s", out)
	}
}

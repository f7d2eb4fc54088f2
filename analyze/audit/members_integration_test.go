package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/generate"
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

// answer is a recorded answer of a Prometheus API endpoint.
func answer(part analyze.Part, path string, data any) prometheus.Response {
	body, err := json.Marshal(map[string]any{"status": "success", "data": data})
	if err != nil {
		panic(err)
	}
	return prometheus.Response{Part: part, Path: path, Status: 200, ContentType: "application/json", Body: body}
}

// member is a fleet server in a snapshot: a Prometheus scraping the one healthy target of job,
// with an alert on it going down, sending to no Alertmanager.
func member(name, job string) snapshot.Source {
	target := map[string]any{
		"discoveredLabels": map[string]string{"job": job}, "labels": map[string]string{"instance": job + ":8080", "job": job},
		"scrapePool": job, "scrapeUrl": "http://" + job + ":8080/metrics", "globalUrl": "http://" + job + ":8080/metrics",
		"lastError": "", "lastScrape": "2026-11-26T02:59:58Z", "lastScrapeDuration": 0.003, "health": "up",
		"scrapeInterval": "15s", "scrapeTimeout": "10s",
	}
	rule := map[string]any{
		"state": "inactive", "name": "Down", "query": fmt.Sprintf("up{job=%q} == 0", job), "duration": 120,
		"labels": map[string]string{"severity": "critical"}, "annotations": map[string]string{}, "alerts": []any{},
		"health": "ok", "lastError": "", "type": "alerting",
	}
	responses := []prometheus.Response{
		answer(analyze.PartBuildInfo, "/api/v1/status/buildinfo", map[string]string{"version": "2.53.0"}),
		answer(analyze.PartTargets, "/api/v1/targets", map[string]any{"activeTargets": []any{target}, "droppedTargets": []any{}}),
		answer(analyze.PartRules, "/api/v1/rules", map[string]any{"groups": []any{map[string]any{"name": job, "file": "/etc/prometheus/" + job + ".yml", "interval": 15, "rules": []any{rule}}}}),
		answer(analyze.PartConfig, "/api/v1/status/config", map[string]string{"yaml": fmt.Sprintf("scrape_configs:\n- job_name: %s\n  static_configs:\n  - targets: ['%s:8080']\n", job, job)}),
		answer(analyze.PartMetricNames, "/api/v1/label/__name__/values", []string{"up"}),
		answer(analyze.PartMetadata, "/api/v1/metadata", map[string]any{}),
		answer(analyze.PartAlertmanagers, "/api/v1/alertmanagers", map[string]any{"activeAlertmanagers": []any{}, "droppedAlertmanagers": []any{}}),
	}
	src := collect.SnapshotSource(collect.FleetSource{Name: name, Kind: collect.KindPrometheus}, responses)
	src.URL = "http://" + name + ":9090"
	return src
}

// secretIn is a password found in the stream of job.
func secretIn(job string) analyze.SecretHit {
	return analyze.SecretHit{Stream: fmt.Sprintf("{job=%q}", job), Labels: map[string]string{"job": job}, Pattern: "password-assignment", Count: 1, Example: "password=****"}
}

// sharedLokiSnapshot is a snapshot of a fleet of two servers, a scraping job api and b job
// db, and of the Loki they share, with a password in the logs of api (a's job) and of batch
// (no member's job).
func sharedLokiSnapshot(t *testing.T) string {
	t.Helper()
	logs := analyze.Logs{Window: time.Hour, Secrets: []analyze.SecretHit{secretIn("api"), secretIn("batch")}}
	for _, job := range []string{"api", "batch"} {
		logs.Streams = append(logs.Streams, analyze.LogStream{Labels: map[string]string{"job": job}, Selector: fmt.Sprintf("{job=%q}", job), Entries: 2})
	}
	m := snapshot.Manifest{
		CreatedAt: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC),
		Sources: []snapshot.Source{
			member("a", "api"), member("b", "db"),
			{Name: "loki", Kind: snapshot.KindLoki, URL: "http://loki:3100", Loki: &loki.Result{Logs: logs, Parts: []analyze.Part{analyze.PartLogStreams, analyze.PartLogSecrets}}},
		},
	}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := snapshot.Write(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSecretsOfAFleetSharingALoki judges a fleet's snapshot: a secret in the logs of a
// member's job is that member's alone, one in the logs of no member's job is the shared Loki's,
// reported once, and every member's log agents mask both.
func TestSecretsOfAFleetSharingALoki(t *testing.T) {
	dir := sharedLokiSnapshot(t)
	req := audit.Request{Sources: collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir, SnapshotKind: "snapshot"}}

	t.Run("Each member is judged with the shared Loki; the shared judgement comes last and reports what no member's job explains.", func(t *testing.T) {
		secrets := map[string][]string{} // member ("shared" for the shared judgement) → streams
		var order []string
		err := audit.Each(context.Background(), req, func(m audit.Member) error {
			name := m.Scope["source"]
			if m.Shared {
				name = "shared"
			}
			order = append(order, name)
			if u := m.Unread(); len(u) > 0 {
				t.Errorf("%s: unread %v", name, u)
			}
			for _, f := range m.Result.Findings {
				if f.Check == "logs/secrets" {
					secrets[name] = append(secrets[name], f.Subject["stream"]+" "+f.Subject["job"]+" "+f.Subject["source"])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(order) != 3 || order[2] != "shared" {
			t.Errorf("members judged %v, want a and b, then the shared sources", order)
		}
		for name, want := range map[string][]string{
			"a":      {`{job="api"} api a`},
			"b":      nil,
			"shared": {`{job="batch"}  `},
		} {
			if got := secrets[name]; !slices.Equal(got, want) {
				t.Errorf("%s reports the secrets %q, want %q", name, got, want)
			}
		}
	})

	t.Run("The report holds each leaking stream's secret once, the member's with its source.", func(t *testing.T) {
		rep, err := audit.Report(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			if f.Check == "logs/secrets" {
				got = append(got, f.Subject["stream"]+" "+f.Subject["source"])
			}
		}
		slices.Sort(got)
		if want := []string{`{job="api"} a`, `{job="batch"} `}; !slices.Equal(got, want) {
			t.Errorf("logs/secrets %q, want %q", got, want)
		}
	})

	t.Run("Every member's bundle masks every leaking stream, its own job's, another member's and no member's: log agents see all of Loki's streams.", func(t *testing.T) {
		g, err := audit.Files(context.Background(), req, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		masked := map[string][]string{}
		for _, f := range g.Files {
			dir, name, _ := strings.Cut(f.Path, "/")
			if name != "pipelines/alloy/masking.alloy" {
				continue
			}
			for _, job := range []string{"api", "batch", "db"} {
				if strings.Contains(string(f.Content), fmt.Sprintf(`{job=\"%s\"}`, job)) {
					masked[dir] = append(masked[dir], job)
				}
			}
		}
		for dir, want := range map[string][]string{"a": {"api", "batch"}, "b": {"api", "batch"}} {
			if got := masked[dir]; !slices.Equal(got, want) {
				t.Errorf("%s's Alloy pipeline masks the streams of %v, want %v; files %v", dir, got, want, paths(g.Files))
			}
		}
	})
}

// TestRuleFilesOfAFleet judges a fleet's snapshot with a rule file every member shares: its
// alert covers the member with the job, and the findings about the rule itself are said once.
func TestRuleFilesOfAFleet(t *testing.T) {
	dir := sharedLokiSnapshot(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("groups:\n  - name: shared\n    rules:\n      - alert: DbAbsent\n        expr: absent(up{job=\"db\"})\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Report(context.Background(), audit.Request{
		Sources: collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir, SnapshotKind: "snapshot", RuleFiles: []string{rules}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var noRunbook, absent []string
	for _, f := range rep.Findings {
		switch f.Check {
		case "alerts/no-runbook":
			noRunbook = append(noRunbook, f.Subject["rule"]+" "+f.Subject["source"])
		case "alerts/missing-absent":
			absent = append(absent, f.Subject["job"]+" "+f.Subject["source"])
		}
	}
	slices.Sort(noRunbook)
	if want := []string{"DbAbsent ", "Down a", "Down b"}; !slices.Equal(noRunbook, want) {
		t.Errorf("alerts/no-runbook %q, want %q: the rule file's alert once, with no member", noRunbook, want)
	}
	if want := []string{"api a"}; !slices.Equal(absent, want) {
		t.Errorf("alerts/missing-absent %q, want %q: the rule file's alert covers b's db", absent, want)
	}
}

func paths(files []generate.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

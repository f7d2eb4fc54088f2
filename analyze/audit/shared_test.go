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
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/generate"
)

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

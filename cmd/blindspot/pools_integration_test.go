package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestOperatorScrapePools audits real Prometheus servers of both majors with scrape pools
// named and relabeled the way Prometheus Operator does it: the jobs are the job labels of
// the targets, the pool without targets is reported as a pool, and the alert generated for
// it reads Prometheus's own per-pool gauge, silent once the pool has targets.
func TestOperatorScrapePools(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		sc := servers.StartScenario(t, binary, servers.WithOperatorPools())
		pools := []string{servers.PoolServiceMonitor, servers.PoolPodMonitor, servers.PoolProbeEmpty}

		r := auditJSON(t, exitOK, "--prometheus-url", sc.PrometheusURL)
		var rows []string
		for _, row := range r.Coverage {
			rows = append(rows, row.Job)
		}
		for _, job := range []string{servers.JobApp, servers.JobWorkerA, servers.JobWorkerB} {
			if !slices.Contains(rows, job) {
				t.Errorf("no job %q among %q", job, rows)
			}
		}
		for _, pool := range pools {
			if slices.Contains(rows, pool) {
				t.Errorf("scrape pool %q is listed as a job", pool)
			}
		}
		if slices.Contains(rows, servers.JobProbe) || slices.Contains(rows, "") {
			t.Errorf("jobs %q: the empty pool's job label cannot be known", rows)
		}
		got := keys(r)
		for _, f := range r.Findings {
			if slices.Contains(pools, f.Subject["job"]) {
				t.Errorf("finding names a scrape pool as job: %s %s", f.Check, f.Message)
			}
			if p := f.Subject["scrape_pool"]; (p == servers.PoolServiceMonitor || p == servers.PoolPodMonitor) && f.Check != "targets/down" {
				t.Errorf("a pool with targets is reported: %s %s", f.Check, f.Message)
			}
		}
		pool := map[string]string{"scrape_pool": servers.PoolProbeEmpty}
		for _, check := range []string{"jobs/no-targets", "alerts/missing-absent"} {
			if _, ok := got[keyOf(check, pool)]; !ok {
				t.Errorf("no %s finding with subject scrape_pool=%q; findings: %v", check, servers.PoolProbeEmpty, slices.Sorted(maps.Keys(got)))
			}
		}
		for _, f := range r.Findings {
			if f.Check == "alerts/missing-absent" && f.Subject["scrape_pool"] == servers.PoolProbeEmpty && f.Details["pool_metric"] != "stored" {
				t.Errorf("pool_metric = %q: Prometheus scrapes itself, the gauge is stored", f.Details["pool_metric"])
			}
		}

		// generate writes the pool's alert, on the gauge, and exits 0.
		dir := t.TempDir()
		code, out, stderr := cli(t, "generate", "--prometheus-url", sc.PrometheusURL, "--out", dir)
		if code != exitOK {
			t.Fatalf("generate exited %d: %s%s", code, out, stderr)
		}
		if strings.Contains(stderr, "no alert generated") {
			t.Errorf("generate skipped findings: %s", stderr)
		}
		ruleFile := filepath.Join(dir, "rules", promqlbuild.FileStem(servers.PoolProbeEmpty)+".yaml")
		expr := generatedExpr(t, ruleFile, promqlbuild.AlertPrefix(servers.PoolProbeEmpty)+"NoTargets")
		if want := promqlbuild.PoolEmpty(servers.PoolProbeEmpty).String(); expr != want {
			t.Errorf("generated expression %s, want %s", expr, want)
		}
		noPoolAsJob(t, dir, pools)
		servers.ForEachPromtool(t, func(t *testing.T, promtool string) {
			for _, args := range [][]string{
				{"check", "rules", ruleFile},
				{"test", "rules", filepath.Join(dir, "rules", "tests", promqlbuild.FileStem(servers.PoolProbeEmpty)+".test.yaml")},
			} {
				if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
					t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
		})

		// On the live server the expression returns the empty pool, and nothing once the
		// pool has a target.
		if n := resultCount(t, sc.PrometheusURL, expr); n != 1 {
			t.Errorf("%s returns %d series while the pool is empty, want 1", expr, n)
		}
		servers.SetFileTargets(t, sc.EmptyPoolFile, strings.TrimPrefix(sc.NodeExporterURL, "http://"))
		deadline := time.Now().Add(servers.ReadyTimeout)
		for resultCount(t, sc.PrometheusURL, expr) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s still returns the pool %s after it got a target", expr, servers.ReadyTimeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// generatedExpr returns the expression of the named alert in a generated rule file, after
// checking that it parses.
func generatedExpr(t *testing.T, file, alert string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the generated rules: %v", err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != alert {
				continue
			}
			if _, err := analyze.ParseExpr(r.Expr); err != nil {
				t.Fatalf("%s: %s does not parse: %v", alert, r.Expr, err)
			}
			return r.Expr
		}
	}
	t.Fatalf("%s has no alert %s:\n%s", file, alert, data)
	return ""
}

// noPoolAsJob fails when a generated rule selects a scrape pool's name as job label.
func noPoolAsJob(t *testing.T, dir string, pools []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "rules", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []struct {
				Rules []struct {
					Expr string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				expr, err := analyze.ParseExpr(r.Expr)
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				for _, sel := range parser.ExtractSelectors(expr) {
					for _, m := range sel {
						if m.Name == "job" && slices.Contains(pools, m.Value) {
							t.Errorf("%s: %s selects the scrape pool %q as job", f, r.Expr, m.Value)
						}
					}
				}
			}
		}
	}
}

// resultCount is the number of series an instant query returns now.
func resultCount(t *testing.T, base, query string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []any `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %s: status %q, %v", query, body.Status, err)
	}
	return len(body.Data.Result)
}

// A Prometheus that does not scrape itself stores no per-pool gauge: generate writes every
// other file, says on stderr which alert it could not write and why, and exits 0.
func TestGenerateWithoutThePoolGauge(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "snap")
	if err := os.CopyFS(snap, os.DirFS(filepath.Join("..", "..", "testdata", "demo"))); err != nil {
		t.Fatal(err)
	}
	names := filepath.Join(snap, "prometheus", "metric_names.json")
	data, err := os.ReadFile(names)
	if err != nil {
		t.Fatal(err)
	}
	const gauge = `"prometheus_target_scrape_pool_targets",`
	if !strings.Contains(string(data), gauge) {
		t.Fatalf("the demo's metric names lack %s", gauge)
	}
	if err := os.WriteFile(names, []byte(strings.Replace(string(data), gauge, "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	code, out, stderr := cli(t, "generate", "--from", snap, "--out", dir)
	if code != exitOK {
		t.Fatalf("generate exited %d: %s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, `no alert generated for alerts/missing-absent`) || !strings.Contains(stderr, `(scrape_pool="batch-jobs"): the alert reads prometheus_target_scrape_pool_targets, which this Prometheus does not store`) {
		t.Errorf("stderr does not say what was not generated and why:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "rules", "batch-jobs.yaml")); !os.IsNotExist(err) {
		t.Errorf("rules/batch-jobs.yaml: %v, want no file for the pool", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rules", "payments-api.yaml")); err != nil {
		t.Errorf("the other rules are not written: %v", err)
	}
}

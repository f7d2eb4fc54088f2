package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

var nodeExporterFull = testcorpus.Copied("dashboards/node-exporter-full.json")

// TestDashboardVariablesOnRealPrometheus loads only Node Exporter Full, whose panels select
// job="$job" with $job = label_values(node_uname_info, job), next to a real Prometheus of each
// major scraping a real node exporter and other jobs: the dashboard shows the node job only,
// so dashboards/missing reports the others, from a Grafana, from a file, and from a snapshot.
func TestDashboardVariablesOnRealPrometheus(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		sc := servers.StartScenario(t, binary)
		grafana := fakegrafana.New()
		if err := grafana.AddDashboardFiles("", nodeExporterFull); err != nil {
			t.Fatal(err)
		}
		grafanaSrv := grafana.Start()
		t.Cleanup(grafanaSrv.Close)

		// Every up job but node: Prometheus itself and the Pushgateway.
		want := slices.DeleteFunc(slices.Clone(sc.UpJobs), func(j string) bool { return j == servers.JobNode })
		slices.Sort(want)
		if len(want) == 0 || len(want) == len(sc.UpJobs) {
			t.Fatalf("the scenario's up jobs %v lack node or another job", sc.UpJobs)
		}
		audit := func(t *testing.T, args ...string) report.Report {
			t.Helper()
			code, out, stderr := cli(t, append([]string{"audit", "--format", "json"}, args...)...)
			if code != exitOK {
				t.Fatalf("audit %v exited %d: %s", args, code, stderr)
			}
			return decodeReport(t, []byte(out))
		}
		missing := func(r report.Report) []string {
			var jobs []string
			for _, f := range r.Findings {
				if f.Check == "dashboards/missing" {
					jobs = append(jobs, f.Subject["job"])
				}
			}
			slices.Sort(jobs)
			return jobs
		}
		dashboardsOf := func(r report.Report, job string) []string {
			for _, row := range r.Coverage {
				if row.Job == job {
					return row.Dashboards
				}
			}
			return nil
		}

		t.Run("From a Grafana, only the node job has a dashboard.", func(t *testing.T) {
			r := audit(t, "--prometheus-url", sc.PrometheusURL, "--grafana-url", grafanaSrv.URL)
			if got := missing(r); !slices.Equal(got, want) {
				t.Errorf("dashboards/missing for %v, want %v", got, want)
			}
			if got := dashboardsOf(r, servers.JobNode); !slices.Equal(got, []string{"Node Exporter Full"}) {
				t.Errorf("node's dashboards %v", got)
			}
			for _, s := range r.Sources {
				if !s.OK {
					t.Errorf("source %+v", s)
				}
			}
		})

		t.Run("From the dashboard file, the same.", func(t *testing.T) {
			r := audit(t, "--prometheus-url", sc.PrometheusURL, "--dashboards", nodeExporterFull)
			if got := missing(r); !slices.Equal(got, want) {
				t.Errorf("dashboards/missing for %v, want %v", got, want)
			}
		})

		snap := filepath.Join(t.TempDir(), "snap")
		if code, _, stderr := cli(t, "snapshot", "--prometheus-url", sc.PrometheusURL, "--grafana-url", grafanaSrv.URL, "--out", snap); code != exitOK {
			t.Fatalf("snapshot exited %d: %s", code, stderr)
		}

		t.Run("A snapshot records which jobs expose the dashboard's metrics and replays it.", func(t *testing.T) {
			recorded := false
			files, _ := filepath.Glob(filepath.Join(snap, "prometheus", "job_metrics-*.json"))
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Data struct {
						Result []struct {
							Metric map[string]string `json:"metric"`
						} `json:"result"`
					} `json:"data"`
				}
				if json.Unmarshal(data, &body) == nil {
					for _, s := range body.Data.Result {
						recorded = recorded || (s.Metric["__name__"] == "node_cpu_seconds_total" && s.Metric["job"] == servers.JobNode)
					}
				}
			}
			if !recorded {
				t.Errorf("no recorded answer among %v says node exposes node_cpu_seconds_total", files)
			}
			r := audit(t, "--from", snap)
			if got := missing(r); !slices.Equal(got, want) {
				t.Errorf("dashboards/missing for %v, want %v", got, want)
			}
		})

		t.Run("Dashboards whose metrics the snapshot was not asked about are given the benefit of the doubt, and the report says so.", func(t *testing.T) {
			other := filepath.Join(t.TempDir(), "other.json")
			if err := os.WriteFile(other, []byte(`{"uid": "o", "title": "Other", "panels": [{"title": "Series",
			  "targets": [{"expr": "prometheus_tsdb_head_series{job=\"$job\"}"}]}],
			  "templating": {"list": [{"name": "job", "type": "query", "query": "label_values(prometheus_tsdb_head_series, job)"}]}}`), 0o644); err != nil {
				t.Fatal(err)
			}
			r := audit(t, "--from", snap, "--dashboards", other)
			if got := missing(r); len(got) != 0 {
				t.Errorf("dashboards/missing for %v, want none", got)
			}
			note := false
			for _, s := range r.Sources {
				for _, n := range s.Notes {
					note = note || strings.Contains(n, "metrics the dashboards read is unknown (not in the snapshot)")
				}
			}
			if !note {
				t.Errorf("no source says the answers are not in the snapshot: %+v", r.Sources)
			}
		})
	})
}

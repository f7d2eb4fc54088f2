package checks_test

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

func dashboardWith(exprs ...string) []analyze.Dashboard {
	d := analyze.Dashboard{UID: "d", Title: "D", File: "d.json"}
	for _, e := range exprs {
		d.Queries = append(d.Queries, dashboard.NewQuery("panel", e))
	}
	return []analyze.Dashboard{d}
}

func TestDashboardsMissing(t *testing.T) {
	inv := func() *analyze.Inventory {
		b := newBuilder(analyze.PartTargets, analyze.PartJobMetrics)
		b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
		b.AddTarget(target("worker", "worker", "10.0.0.2:8080", analyze.HealthUp, ""))
		b.AddTarget(target("gone", "gone", "10.0.0.3:8080", analyze.HealthDown, "connection refused"))
		b.AddJobMetric("worker", "jobs_processed_total")
		return b.Build()
	}()
	uncovered := func(exprs ...string) []string {
		var jobs []string
		for _, f := range runOne(checks.DashboardsMissing{}, withDashboards(inv, dashboardWith(exprs...))) {
			jobs = append(jobs, f.Subject["job"])
		}
		return jobs
	}

	t.Run("A job no dashboard queries is reported; jobs without up targets are not.", func(t *testing.T) {
		fs := runOne(checks.DashboardsMissing{}, withDashboards(inv, dashboardWith(`rate(other_total{job="other"}[5m])`)))
		if len(fs) != 2 {
			t.Fatalf("findings %+v", fs)
		}
		f := fs[0]
		if f.Check != "dashboards/missing" || f.Severity != analyze.Warning || !maps.Equal(f.Subject, map[string]string{"job": "api"}) {
			t.Errorf("finding %+v", f)
		}
		if f.Message != `no dashboard queries a metric of job "api"` || f.Fix != "blindspot generate writes dashboards/api.json for it" {
			t.Errorf("message %q fix %q", f.Message, f.Fix)
		}
	})

	t.Run("A job matched by equality is covered.", func(t *testing.T) {
		if got := uncovered(`sum(rate(http_requests_total{job="api"}[$__rate_interval]))`); len(got) != 1 || got[0] != "worker" {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("A job matched by regex is covered.", func(t *testing.T) {
		if got := uncovered(`up{job=~"api|worker"}`); len(got) != 0 {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("A variable the dashboard does not define may hold any job.", func(t *testing.T) {
		if got := uncovered(`node_cpu_seconds_total{job="$job"}`); len(got) != 0 {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("A metric the job exposes covers it without a job matcher.", func(t *testing.T) {
		if got := uncovered(`sum(rate(jobs_processed_total[5m]))`); len(got) != 1 || got[0] != "api" {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("up without a job matcher covers every job with targets.", func(t *testing.T) {
		if got := uncovered(`count(up == 1)`); len(got) != 0 {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("A job matcher excluding the job does not cover it, whatever the metric.", func(t *testing.T) {
		if got := uncovered(`jobs_processed_total{job!="worker"}`); len(got) != 1 || got[0] != "worker" {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("An unparseable query covers nothing.", func(t *testing.T) {
		if got := uncovered(`sum(rate(http_requests_total{job="api"}[5m])`); len(got) != 2 {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("Without dashboards the check reports nothing.", func(t *testing.T) {
		if fs := runOne(checks.DashboardsMissing{}, inv); len(fs) != 0 {
			t.Errorf("findings %+v", fs)
		}
	})
}

func TestDashboardsOfJobs(t *testing.T) {
	b := newBuilder(analyze.PartTargets, analyze.PartJobMetrics)
	b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
	b.AddTarget(target("worker", "worker", "10.0.0.2:8080", analyze.HealthUp, ""))
	b.AddJobMetric("worker", "jobs_processed_total")
	inv := b.Build()
	api := dashboardWith(`sum(rate(http_requests_total{job="api"}[5m]))`)[0]
	api.Title = "API"
	workers := dashboardWith(`rate(jobs_processed_total[5m])`, `up{job=~"$job"}`)[0]
	workers.Title = ""
	workers.UID = "workers-uid"

	t.Run("Each job lists the titles of the dashboards querying it, sorted.", func(t *testing.T) {
		got := checks.DashboardsOfJobs(inv, []analyze.Dashboard{workers, api})
		want := map[string][]string{"api": {"API", "workers-uid"}, "worker": {"workers-uid"}}
		if len(got) != len(want) {
			t.Fatalf("got %v", got)
		}
		for job, titles := range want {
			if !slices.Equal(got[job], titles) {
				t.Errorf("%s: %v, want %v", job, got[job], titles)
			}
		}
	})

	t.Run("With dashboards but none for a job, its list is empty; without dashboards there is no map.", func(t *testing.T) {
		got := checks.DashboardsOfJobs(inv, []analyze.Dashboard{api})
		if titles, ok := got["worker"]; !ok || titles == nil || len(titles) != 0 {
			t.Errorf("worker: %v (present %v)", titles, ok)
		}
		if checks.DashboardsOfJobs(inv, nil) != nil {
			t.Error("a map without dashboards")
		}
	})
}

// dashboardJSON parses one dashboard whose panels run exprs and whose templating list is
// vars (JSON objects).
func dashboardJSON(t *testing.T, vars []string, exprs ...string) []analyze.Dashboard {
	t.Helper()
	var targets []map[string]string
	for _, e := range exprs {
		targets = append(targets, map[string]string{"expr": e})
	}
	templating := []json.RawMessage{}
	for _, v := range vars {
		templating = append(templating, json.RawMessage(v))
	}
	doc, err := json.Marshal(map[string]any{
		"uid": "d", "title": "D",
		"panels":     []map[string]any{{"title": "P", "targets": targets}},
		"templating": map[string]any{"list": templating},
	})
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := dashboards.ParseJSON("d.json", doc)
	if err != nil || len(ds) != 1 {
		t.Fatalf("parsing: %v (%d dashboards)", err, len(ds))
	}
	return ds
}

// TestDashboardsMissingVariables runs a node exporter job and two other jobs: which of them a
// dashboard can show depends on what its variables can hold and on the metrics each exposes.
func TestDashboardsMissingVariables(t *testing.T) {
	b := newBuilder(analyze.PartTargets, analyze.PartJobMetrics, analyze.PartMetricNames)
	b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
	b.AddTarget(target("node-edge", "node-edge", "10.0.0.2:9100", analyze.HealthUp, ""))
	b.AddTarget(target("payments", "payments", "10.0.0.3:8080", analyze.HealthUp, ""))
	b.AddMetricNames([]string{"http_requests_total", "node_cpu_seconds_total", "node_uname_info", "up"})
	inv := b.Build()
	inv.ExposedBy = map[string][]string{
		"node_uname_info":        {"node", "node-edge"},
		"node_cpu_seconds_total": {"node", "node-edge"},
		"http_requests_total":    {"payments"},
		"kube_node_info":         {},
	}
	uncovered := func(t *testing.T, inv *analyze.Inventory, ds []analyze.Dashboard) []string {
		t.Helper()
		var jobs []string
		for _, f := range runOne(checks.DashboardsMissing{}, withDashboards(inv, ds)) {
			jobs = append(jobs, f.Subject["job"])
		}
		return jobs
	}
	const nodeJob = `{"name": "job", "type": "query", "query": {"query": "label_values(node_uname_info, job)"}}`
	for _, c := range []struct {
		name  string
		vars  []string
		exprs []string
		want  []string
	}{
		{"label_values(metric, job) holds only the jobs exposing metric.",
			[]string{nodeJob}, []string{`up{job="$job"}`}, []string{"payments"}},
		{"A regex matcher on such a variable, with All or several values, is bounded the same.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(node_uname_info, job)", "includeAll": true, "allValue": ".*", "multi": true}`},
			[]string{`sum by (job) (up{job=~"$job"})`}, []string{"payments"}},
		{"A panel shows a job only when the job exposes the panel's metric.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(up, job)"}`},
			[]string{`node_cpu_seconds_total{job=~"${job:regex}"}`}, []string{"payments"}},
		{"A literal job matcher on a metric the job lacks shows nothing of it.",
			nil, []string{`node_cpu_seconds_total{job="payments"}`, `http_requests_total{job="node"}`}, []string{"node", "node-edge", "payments"}},
		{"label_values(job) may hold any job.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(job)"}`},
			[]string{`up{job="$job"}`}, nil},
		{"The job matchers of label_values' selector narrow its values.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(node_uname_info{job!~\".*edge\"}, job)"}`},
			[]string{`node_cpu_seconds_total{job="$job"}`}, []string{"node-edge", "payments"}},
		{"The regex field narrows the values.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(up, job)", "regex": "/^node-(.*)/"}`},
			[]string{`up{job="node-$job"}`}, []string{"node", "payments"}},
		{"The regex field narrows a variable that may hold any job to the jobs it matches.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(job)", "regex": "/pay.*/i"}`},
			[]string{`up{job="$job"}`}, []string{"node", "node-edge"}},
		{"A custom variable holds its listed values (value or text : value).",
			[]string{`{"name": "job", "type": "custom", "query": "Main node : node,payments"}`},
			[]string{`up{job="$job"}`}, []string{"node-edge"}},
		{"A constant variable holds its value.",
			[]string{`{"name": "job", "type": "constant", "query": "payments"}`},
			[]string{`up{job="$job"}`}, []string{"node", "node-edge"}},
		{"A textbox may hold any job: the viewer types it.",
			[]string{`{"name": "job", "type": "textbox", "query": "payments"}`},
			[]string{`up{job="$job"}`}, nil},
		{"A variable chained on another is bounded through it.",
			[]string{`{"name": "pick", "type": "custom", "query": "node-edge"}`,
				`{"name": "job", "type": "query", "datasource": "$datasource", "query": "label_values(node_uname_info{job=~\"$pick\", instance=~\"$instance\"}, job)"}`},
			[]string{`up{job="$job"}`}, []string{"node", "payments"}},
		{"A variable of a metric no job exposes holds no job.",
			[]string{`{"name": "job", "type": "query", "query": "label_values(kube_node_info, job)"}`},
			[]string{`up{job="$job"}`}, []string{"node", "node-edge", "payments"}},
		{"query_result(…) may hold any job.",
			[]string{`{"name": "job", "type": "query", "query": "query_result(count by (job) (kube_node_info))", "regex": "/job=\"([^\"]+)\"/"}`},
			[]string{`up{job="$job"}`}, nil},
		{"A variable's own query shows no job.",
			[]string{nodeJob}, []string{`http_requests_total{job="payments"}`}, []string{"node", "node-edge"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := uncovered(t, inv, dashboardJSON(t, c.vars, c.exprs...)); !slices.Equal(got, c.want) {
				t.Errorf("uncovered %v, want %v", got, c.want)
			}
		})
	}

	t.Run("Without knowing which jobs expose the metrics (a snapshot from before), a job variable may hold any job.", func(t *testing.T) {
		old := *inv
		old.ExposedBy = nil
		got := uncovered(t, &old, dashboardJSON(t, []string{nodeJob}, `rate(node_cpu_seconds_total{job="$job"}[5m])`))
		if len(got) != 0 {
			t.Errorf("uncovered %v", got)
		}
	})

	t.Run("Node Exporter Full shows the jobs exposing node_uname_info and its panels' metrics, not a payments job.", func(t *testing.T) {
		content, err := os.ReadFile(testcorpus.File(t, "dashboards/node-exporter-full.json"))
		if err != nil {
			t.Fatal(err)
		}
		ds, _, err := dashboards.ParseJSON("node-exporter-full.json", content)
		if err != nil || len(ds) != 1 {
			t.Fatalf("parsing: %v", err)
		}
		b := newBuilder(analyze.PartTargets, analyze.PartJobMetrics)
		for i, job := range []string{"node", "payments", "uname-only", "cpu-only"} {
			b.AddTarget(target(job, job, "10.0.1."+string(rune('1'+i))+":9100", analyze.HealthUp, ""))
		}
		nef := b.Build()
		nef.ExposedBy = map[string][]string{}
		for _, name := range dashboard.MetricNames(ds) {
			nef.ExposedBy[name] = []string{"node"}
		}
		// uname-only is offered by $job but exposes no metric a panel shows; cpu-only exposes
		// what the CPU panel shows but $job never offers it.
		nef.ExposedBy["node_uname_info"] = []string{"node", "uname-only"}
		nef.ExposedBy["node_cpu_seconds_total"] = []string{"cpu-only", "node"}
		nef.ExposedBy["http_requests_total"] = []string{"payments"}
		if got, want := uncovered(t, nef, ds), []string{"cpu-only", "payments", "uname-only"}; !slices.Equal(got, want) {
			t.Errorf("uncovered %v, want %v", got, want)
		}
		if got := checks.DashboardsOfJobs(nef, ds)["node"]; !slices.Equal(got, []string{"Node Exporter Full"}) {
			t.Errorf("node's dashboards %v", got)
		}
	})
}

func TestCheckDashboardsMissing(t *testing.T) {
	id := checks.DashboardsMissingName
	runTests(t, id, []checkTest{
		{description: "A job no dashboard shows is reported; a job a dashboard shows is not.", inv: func(*testing.T) *analyze.Inventory {
			return jobsUp(analyze.PartTargets, analyze.PartDashboards).Build()
		}, dashboards: dashboardWith(`up{job="node"}`), want: []string{
			`job=api: no dashboard queries a metric of job "api"`,
		}},
	})
}

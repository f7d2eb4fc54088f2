package checks_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
)

func dashboardWith(exprs ...string) []dashboards.Dashboard {
	d := dashboards.Dashboard{UID: "d", Title: "D", File: "d.json"}
	for _, e := range exprs {
		d.Queries = append(d.Queries, dashboards.NewQuery("panel", e))
	}
	return []dashboards.Dashboard{d}
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
		for _, f := range (checks.DashboardsMissing{Dashboards: dashboardWith(exprs...)}).Run(inv) {
			jobs = append(jobs, f.Subject["job"])
		}
		return jobs
	}

	t.Run("A job no dashboard queries is reported; jobs without up targets are not.", func(t *testing.T) {
		fs := (checks.DashboardsMissing{Dashboards: dashboardWith(`rate(other_total{job="other"}[5m])`)}).Run(inv)
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

	t.Run("A $job variable covers every job.", func(t *testing.T) {
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
		if fs := (checks.DashboardsMissing{}).Run(inv); len(fs) != 0 {
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
		got := checks.DashboardsOfJobs(inv, []dashboards.Dashboard{workers, api})
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
		got := checks.DashboardsOfJobs(inv, []dashboards.Dashboard{api})
		if titles, ok := got["worker"]; !ok || titles == nil || len(titles) != 0 {
			t.Errorf("worker: %v (present %v)", titles, ok)
		}
		if checks.DashboardsOfJobs(inv, nil) != nil {
			t.Error("a map without dashboards")
		}
	})
}

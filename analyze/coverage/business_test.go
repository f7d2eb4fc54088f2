package coverage_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

var businessCollectedAt = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// businessInventory holds the given job metrics and one rule group; it is built through the
// Builder, the way collectors build inventories.
func businessInventory(jobMetrics map[string][]string, rules ...analyze.Rule) *analyze.Inventory {
	b := analyze.NewBuilder(businessCollectedAt)
	b.AddPart(analyze.PartJobMetrics)
	b.AddPart(analyze.PartRules)
	for job, ms := range jobMetrics {
		for _, m := range ms {
			b.AddJobMetric(job, m)
		}
	}
	b.AddRuleGroup(analyze.RuleGroup{Name: "business", File: "/etc/prometheus/business.yml", Language: "promql", Rules: rules})
	return b.Build()
}

func alertRule(name, expr string) analyze.Rule {
	return analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: name, Expr: expr, Group: "business", File: "/etc/prometheus/business.yml"})
}

func recordingRule(name, expr string) analyze.Rule {
	return analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: name, Expr: expr, Group: "business", File: "/etc/prometheus/business.yml"})
}

// business lists a job's business metrics as "metric kind alert,alert".
func business(a *coverage.Analysis, job string) []string {
	var out []string
	for _, m := range a.Business(job) {
		var alerts []string
		for _, r := range m.CoveredBy {
			alerts = append(alerts, r.Name)
		}
		out = append(out, strings.TrimSpace(m.Metric+" "+m.Kind+" "+strings.Join(alerts, ",")))
	}
	return out
}

func assertBusiness(t *testing.T, a *coverage.Analysis, job string, want ...string) {
	t.Helper()
	if got := business(a, job); !slices.Equal(got, want) {
		t.Errorf("business metrics of %s:\n got %q\nwant %q", job, got, want)
	}
}

func TestBusiness(t *testing.T) {
	t.Parallel()

	billing := []string{
		"billing_last_success_timestamp_seconds", "go_gc_cycles_total_gc_cycles_total", "invoices_created_total",
		"node_cpu_seconds_total", "process_cpu_seconds_total",
	}

	t.Run("A job's counters and last-success gauges are business metrics; runtime and exporter internals are not.", func(t *testing.T) {
		t.Parallel()
		a := coverage.Analyze(businessInventory(map[string][]string{"billing": billing}), coverage.Options{})
		assertBusiness(t, a, "billing", "billing_last_success_timestamp_seconds staleness", "invoices_created_total counter")
	})

	t.Run("Include brings back a default-excluded family; Exclude wins over Include and the defaults.", func(t *testing.T) {
		t.Parallel()
		a := coverage.Analyze(businessInventory(map[string][]string{"billing": billing}), coverage.Options{Business: coverage.BusinessOptions{
			Include: []string{"node_*", "process_cpu_seconds_total"},
			Exclude: []string{"invoices_*", "process_*"},
		}})
		assertBusiness(t, a, "billing", "billing_last_success_timestamp_seconds staleness", "node_cpu_seconds_total counter")
	})

	t.Run("Jobs and ExcludeJobs scope the business metrics to the jobs they name.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{
			"billing":     {"invoices_created_total"},
			"billing-dev": {"invoices_created_total"},
			"checkout":    {"orders_placed_total"},
		})
		a := coverage.Analyze(inv, coverage.Options{Business: coverage.BusinessOptions{Jobs: []string{"billing*"}, ExcludeJobs: []string{"*-dev"}}})
		if got := a.BusinessJobs(); !slices.Equal(got, []string{"billing"}) {
			t.Errorf("BusinessJobs() = %v, want [billing]", got)
		}
		assertBusiness(t, a, "checkout")
		assertBusiness(t, a, "billing-dev")

		all := coverage.Analyze(inv, coverage.Options{})
		if got := all.BusinessJobs(); !slices.Equal(got, []string{"billing", "billing-dev", "checkout"}) {
			t.Errorf("unscoped BusinessJobs() = %v", got)
		}
	})

	t.Run("Staleness globs from the options make a gauge a staleness metric.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"backup": {"backup_finished_at_seconds"}})
		a := coverage.Analyze(inv, coverage.Options{Business: coverage.BusinessOptions{Staleness: []string{"*_finished_at_seconds"}}})
		assertBusiness(t, a, "backup", "backup_finished_at_seconds staleness")
	})

	t.Run("An alert reading the counter covers it, and the reference carries the runbook.", func(t *testing.T) {
		t.Parallel()
		r := alertRule("InvoicesStopped", `rate(invoices_created_total[10m]) == 0`)
		r.Annotations = map[string]string{"runbook": "https://runbooks.example.com/invoices"}
		a := coverage.Analyze(businessInventory(map[string][]string{"billing": billing}, r), coverage.Options{RunbookAnnotation: "runbook"})
		assertBusiness(t, a, "billing", "billing_last_success_timestamp_seconds staleness", "invoices_created_total counter InvoicesStopped")
		if ref := a.Business("billing")[1].CoveredBy[0]; ref.Runbook != "https://runbooks.example.com/invoices" || ref.Group != "business" {
			t.Errorf("reference %+v", ref)
		}
	})

	t.Run("BusinessMetricOf finds one metric of a job as Business lists it, and none that is not a business metric of that job.", func(t *testing.T) {
		t.Parallel()
		r := alertRule("InvoicesStopped", `rate(invoices_created_total[10m]) == 0`)
		a := coverage.Analyze(businessInventory(map[string][]string{"billing": billing, "shop": {"orders_total"}}, r), coverage.Options{})
		for _, m := range a.Business("billing") {
			got, ok := a.BusinessMetricOf("billing", m.Metric)
			if !ok || got.Metric != m.Metric || got.Kind != m.Kind || len(got.CoveredBy) != len(m.CoveredBy) {
				t.Errorf("BusinessMetricOf(billing, %s) = %+v, %v; Business lists %+v", m.Metric, got, ok, m)
			}
		}
		if m, ok := a.BusinessMetricOf("billing", "invoices_created_total"); !ok || len(m.CoveredBy) != 1 || m.CoveredBy[0].Name != "InvoicesStopped" {
			t.Errorf("invoices_created_total: %+v, %v", m, ok)
		}
		for _, q := range [][2]string{{"billing", "process_cpu_seconds_total"}, {"billing", "orders_total"}, {"shop", "invoices_created_total"}, {"nowhere", "orders_total"}} {
			if m, ok := a.BusinessMetricOf(q[0], q[1]); ok {
				t.Errorf("BusinessMetricOf(%s, %s) = %+v, want none", q[0], q[1], m)
			}
		}
	})

	t.Run("An alert on a recorded metric covers the counter the recording rule reads.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"billing": {"invoices_created_total"}},
			recordingRule("job:invoices_created:rate10m", `sum by (job) (rate(invoices_created_total[10m]))`),
			recordingRule("job:invoices_created:rate10m:avg1h", `avg_over_time(job:invoices_created:rate10m[1h])`),
			alertRule("InvoicesStopped", `job:invoices_created:rate10m:avg1h{job="billing"} == 0`),
		)
		assertBusiness(t, coverage.Analyze(inv, coverage.Options{}), "billing", "invoices_created_total counter InvoicesStopped")
	})

	t.Run(`An alert on rate(x{job="a"}[5m]) == 0 covers job a's x but not job b's.`, func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"a": {"x_total"}, "b": {"x_total"}, "c": {"x_total"}},
			alertRule("XStoppedA", `rate(x_total{job="a"}[5m]) == 0`),
			alertRule("XStoppedAC", `rate(x_total{job=~"a|c", job!="b"}[5m]) == 0`),
		)
		a := coverage.Analyze(inv, coverage.Options{})
		assertBusiness(t, a, "a", "x_total counter XStoppedA,XStoppedAC")
		assertBusiness(t, a, "b", "x_total counter")
		assertBusiness(t, a, "c", "x_total counter XStoppedAC")
	})

	t.Run("Job matchers on either side of a recording rule scope the alert that reads it.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"a": {"x_total"}, "b": {"x_total"}},
			recordingRule("a:x:rate5m", `rate(x_total{job="a"}[5m])`),
			recordingRule("job:x:rate5m", `sum by (job) (rate(x_total[5m]))`),
			alertRule("XStoppedInA", `a:x:rate5m == 0`),
			alertRule("XStoppedInB", `job:x:rate5m{job="b"} == 0`),
		)
		a := coverage.Analyze(inv, coverage.Options{})
		assertBusiness(t, a, "a", "x_total counter XStoppedInA")
		assertBusiness(t, a, "b", "x_total counter XStoppedInB")
	})

	t.Run("Recording rules that read each other do not loop.", func(t *testing.T) {
		t.Parallel()
		inv := businessInventory(map[string][]string{"a": {"x_total"}},
			recordingRule("r1", `r2 or rate(x_total[5m])`),
			recordingRule("r2", `r1`),
			alertRule("XStopped", `r2 == 0`),
		)
		assertBusiness(t, coverage.Analyze(inv, coverage.Options{}), "a", "x_total counter XStopped")
	})

	t.Run("Jobs only known from their business metrics, like pushed batch jobs, join the matrix.", func(t *testing.T) {
		t.Parallel()
		b := analyze.NewBuilder(businessCollectedAt)
		b.AddPart(analyze.PartJobMetrics)
		b.AddTarget(analyze.Target{Job: "pushgateway", ScrapePool: "pushgateway", Instance: "pg:9091", Health: analyze.HealthUp})
		b.AddJobMetric("billing", "invoices_created_total")
		b.AddJobMetric("pushgateway", "push_time_seconds")
		a := coverage.Analyze(b.Build(), coverage.Options{})
		var jobs []string
		for _, jc := range a.Matrix() {
			jobs = append(jobs, jc.Job)
		}
		if !slices.Equal(jobs, []string{"pushgateway", "billing"}) {
			t.Errorf("matrix jobs %v, want pushgateway then billing", jobs)
		}
		if got := a.BusinessJobs(); !slices.Equal(got, []string{"billing"}) {
			t.Errorf("BusinessJobs() = %v", got)
		}
	})

	t.Run("Without the job_metrics part there are no business metrics.", func(t *testing.T) {
		t.Parallel()
		b := analyze.NewBuilder(businessCollectedAt)
		b.AddJobMetric("billing", "invoices_created_total")
		a := coverage.Analyze(b.Build(), coverage.Options{})
		if len(a.BusinessJobs()) != 0 || len(a.Business("billing")) != 0 {
			t.Errorf("jobs %v, billing %v", a.BusinessJobs(), a.Business("billing"))
		}
	})
}

// generateBusinessInventory is a large server: jobs jobs of counters counters each (half of
// them shared by every job, half the job's own) plus runtime internals, metricNames names in
// all, and rules rules, a fifth of them alerts on a job's counter and the rest recording
// rules that alerts read.
func generateBusinessInventory(jobs, counters, rules, metricNames int) *analyze.Inventory {
	b := analyze.NewBuilder(businessCollectedAt)
	for _, p := range analyze.AllPrometheusParts {
		b.AddPart(p)
	}
	names := make([]string, 0, metricNames)
	for j := range jobs {
		job := fmt.Sprintf("service-%04d", j)
		b.AddTarget(analyze.Target{Job: job, ScrapePool: job, Instance: fmt.Sprintf("10.0.%d.%d:8080", j/250, j%250), Health: analyze.HealthUp})
		for c := range counters {
			m := fmt.Sprintf("shared_operations_%02d_total", c)
			if c%2 == 1 {
				m = fmt.Sprintf("service_%04d_events_%02d_total", j, c)
			}
			b.AddJobMetric(job, m)
			names = append(names, m)
		}
		b.AddJobMetric(job, "process_cpu_seconds_total")
	}
	for i := len(names); i < metricNames; i++ {
		names = append(names, fmt.Sprintf("other_metric_%06d", i))
	}
	b.AddMetricNames(names)
	var group []analyze.Rule
	for i := range rules {
		job := fmt.Sprintf("service-%04d", i%jobs)
		switch i % 5 {
		case 0:
			group = append(group, alertRule(fmt.Sprintf("Stopped%d", i),
				fmt.Sprintf(`rate(service_%04d_events_%02d_total{job=%q}[10m]) == 0`, i%jobs, 1+2*(i%(counters/2)), job)))
		case 1:
			group = append(group, alertRule(fmt.Sprintf("SharedStopped%d", i),
				fmt.Sprintf(`job:shared_operations_%02d:rate10m{job=%q} == 0`, 2*(i%(counters/2)), job)))
		default:
			group = append(group, recordingRule(fmt.Sprintf("job:shared_operations_%02d:rate10m", 2*(i%(counters/2))),
				fmt.Sprintf(`sum by (job) (rate(shared_operations_%02d_total[10m]))`, 2*(i%(counters/2)))))
		}
	}
	b.AddRuleGroup(analyze.RuleGroup{Name: "generated", File: "generated.yml", Language: "promql", Rules: group})
	return b.Build()
}

func BenchmarkBusiness(b *testing.B) {
	inv := generateBusinessInventory(1000, 20, 5000, 100_000)
	b.ResetTimer()
	for b.Loop() {
		a := coverage.Analyze(inv, coverage.Options{})
		covered, uncovered := 0, 0
		for _, job := range a.BusinessJobs() {
			for _, m := range a.Business(job) {
				if len(m.CoveredBy) == 0 {
					uncovered++
				} else {
					covered++
				}
			}
		}
		if covered == 0 || uncovered == 0 {
			b.Fatalf("%d covered, %d uncovered business metrics: the generated inventory exercises nothing", covered, uncovered)
		}
	}
}

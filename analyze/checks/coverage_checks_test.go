package checks_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// coverageInventory has jobs node (two targets) and payments-api (one down target), a
// configured job blackbox without targets, and the given alerts in one group.
func coverageInventory(rules ...analyze.Rule) *analyze.Inventory {
	b := newBuilder(analyze.PartTargets, analyze.PartRules, analyze.PartConfig)
	b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
	b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthUp, ""))
	b.AddTarget(target("payments-api", "kubernetes-pods", "10.1.0.7:8080", analyze.HealthDown, "connection refused"))
	b.AddConfiguredJob("blackbox", []string{"file"}, 0)
	b.AddRuleGroup(ruleGroup("availability", rules...))
	return b.Build()
}

// fixExpr is the PromQL expression of a fix, between "alert <Name>: " and " for ".
func fixExpr(t *testing.T, fix string) parser.Expr {
	t.Helper()
	_, rest, ok := strings.Cut(fix, ": ")
	i := strings.LastIndex(rest, " for ")
	if !ok || i < 0 {
		t.Fatalf("fix %q has no expression", fix)
	}
	expr, err := analyze.ParseExpr(rest[:i])
	if err != nil {
		t.Fatalf("fix %q: %v", fix, err)
	}
	return expr
}

// selectedJob is the value of the job matcher of the only selector of expr.
func selectedJob(t *testing.T, expr parser.Expr) string {
	t.Helper()
	sels := parser.ExtractSelectors(expr)
	if len(sels) != 1 {
		t.Fatalf("%s has %d selectors", expr, len(sels))
	}
	for _, m := range sels[0] {
		if m.Name == "job" {
			return m.Value
		}
	}
	t.Fatalf("%s has no job matcher", expr)
	return ""
}

func TestAlertsMissingUp(t *testing.T) {
	t.Parallel()
	run := func(inv *analyze.Inventory) []analyze.Finding {
		return runOne(checks.NewAlertsMissingUp(checks.Options{}), inv)
	}

	t.Run("A job without an up alert is reported as critical, with the alert generate would write.", func(t *testing.T) {
		fs := run(coverageInventory(alerting("availability", "NodeDown", `up{job="node"} == 0`)))
		if got, want := subjects(fs), []string{"job=blackbox", "job=payments-api"}; !slices.Equal(got, want) {
			t.Fatalf("subjects = %q, want %q", got, want)
		}
		f := fs[slices.IndexFunc(fs, func(f analyze.Finding) bool { return f.Subject["job"] == "payments-api" })]
		if checks.AlertsMissingUpName != "alerts/missing-up" || f.Check != checks.AlertsMissingUpName || f.Severity != analyze.Critical {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		if f.ID != analyze.FindingID("alerts/missing-up", map[string]string{"job": "payments-api"}) {
			t.Errorf("ID %s is not the fingerprint of check and subject", f.ID)
		}
		if want := `no alert fires when the targets of job "payments-api" are down`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		if want := map[string]string{"targets": "1"}; !maps.Equal(f.Details, want) {
			t.Errorf("details = %v, want %v", f.Details, want)
		}
		if want := `blindspot generate writes rules/payments-api.yaml with alert PaymentsApiTargetDown: up{job="payments-api"} == 0 for 2m`; f.Fix != want {
			t.Errorf("fix = %q, want %q", f.Fix, want)
		}
	})

	t.Run("Jobs covered by up == 0 are not reported, whatever their targets' health.", func(t *testing.T) {
		if fs := run(coverageInventory(alerting("availability", "TargetDown", `up == 0`))); len(fs) != 0 {
			t.Errorf("findings = %+v", fs)
		}
	})

	t.Run("An alert that never fires on down targets does not cover a job.", func(t *testing.T) {
		fs := run(coverageInventory(
			alerting("availability", "AllUp", `up == 1`),
			alerting("availability", "Missing", `absent(up{job="node"})`),
		))
		if got, want := subjects(fs), []string{"job=blackbox", "job=node", "job=payments-api"}; !slices.Equal(got, want) {
			t.Errorf("subjects = %q, want %q", got, want)
		}
	})

	t.Run("A job name with quotes and backslashes gets a fix whose expression parses back to that job.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartRules)
		job := `team "a"\b`
		b.AddTarget(target(job, "pool", "10.0.0.1:80", analyze.HealthUp, ""))
		f := only(t, run(b.Build()))
		if got := selectedJob(t, fixExpr(t, f.Fix)); got != job {
			t.Errorf("fix %q selects job %q, want %q", f.Fix, got, job)
		}
		if !strings.Contains(f.Fix, "rules/team-a-b.yaml with alert TeamABTargetDown:") {
			t.Errorf("fix %q", f.Fix)
		}
	})

	t.Run("Without the rules part the check is skipped, not reporting every job.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets)
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
		res := checks.Run(b.Build(), nil, []checks.Check{checks.NewAlertsMissingUp(checks.Options{})}, checks.Policy{})
		if len(res.Findings) != 0 || len(res.Skipped) != 1 || !slices.Equal(res.Skipped[0].Missing, []analyze.Part{analyze.PartRules}) {
			t.Errorf("result = %+v", res)
		}
	})

	t.Run("The zero value of the check runs with default options.", func(t *testing.T) {
		fs := runOne(checks.AlertsMissingUp{}, coverageInventory(alerting("availability", "Down", `up{job!="blackbox"} == 0`)))
		if got, want := subjects(fs), []string{"job=blackbox"}; !slices.Equal(got, want) {
			t.Errorf("subjects = %q, want %q", got, want)
		}
	})
}

func TestAlertsMissingAbsent(t *testing.T) {
	t.Parallel()
	run := func(inv *analyze.Inventory) []analyze.Finding {
		return runOne(checks.NewAlertsMissingAbsent(checks.Options{}), inv)
	}

	t.Run("A job without an absence alert is reported as a warning, with the alert generate would write.", func(t *testing.T) {
		fs := run(coverageInventory(alerting("availability", "NodeMissing", `absent(up{job="node"})`)))
		if got, want := subjects(fs), []string{"job=blackbox", "job=payments-api"}; !slices.Equal(got, want) {
			t.Fatalf("subjects = %q, want %q", got, want)
		}
		f := fs[0]
		if checks.AlertsMissingAbsentName != "alerts/missing-absent" || f.Check != checks.AlertsMissingAbsentName || f.Severity != analyze.Warning {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		if want := `no alert fires when job "blackbox" vanishes and leaves no up series to compare`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		if want := map[string]string{"targets": "0"}; !maps.Equal(f.Details, want) {
			t.Errorf("details = %v, want %v", f.Details, want)
		}
		if want := `blindspot generate writes rules/blackbox.yaml with alert BlackboxAbsent: absent(up{job="blackbox"}) for 5m`; f.Fix != want {
			t.Errorf("fix = %q, want %q", f.Fix, want)
		}
	})

	// operatorInventory has a Prometheus Operator pool with two jobs and one without targets,
	// plus the given alerts; metricNames are the names the server stores.
	operatorInventory := func(metricNames []string, rules ...analyze.Rule) *analyze.Inventory {
		b := newBuilder(analyze.PartTargets, analyze.PartRules, analyze.PartConfig, analyze.PartMetricNames)
		b.AddScrapeConfig("podMonitor/monitoring/workers/0", "", []string{"kubernetes"}, 9)
		b.AddScrapeConfig("serviceMonitor/monitoring/app/0", "", []string{"kubernetes"}, 7)
		b.AddTarget(target("worker-a", "podMonitor/monitoring/workers/0", "10.1.0.7:8080", analyze.HealthUp, ""))
		b.AddTarget(target("worker-b", "podMonitor/monitoring/workers/0", "10.1.0.8:8080", analyze.HealthUp, ""))
		b.AddMetricNames(metricNames)
		b.AddRuleGroup(ruleGroup("availability", append([]analyze.Rule{
			alerting("availability", "WorkersMissing", `absent(up{job="worker-a"}) or absent(up{job="worker-b"})`),
		}, rules...)...))
		return b.Build()
	}

	t.Run("A pool without targets whose job label relabeling decides is reported as the pool, with an alert on the per-pool gauge.", func(t *testing.T) {
		fs := run(operatorInventory([]string{"up", "prometheus_target_scrape_pool_targets"}))
		if got, want := subjects(fs), []string{"scrape_pool=serviceMonitor/monitoring/app/0"}; !slices.Equal(got, want) {
			t.Fatalf("subjects = %q, want %q", got, want)
		}
		f := fs[0]
		if !strings.HasPrefix(f.Message, `no alert fires when scrape pool "serviceMonitor/monitoring/app/0" has no targets`) {
			t.Errorf("message = %q", f.Message)
		}
		if want := map[string]string{"targets": "0", "pool_metric": "stored"}; !maps.Equal(f.Details, want) {
			t.Errorf("details = %v, want %v", f.Details, want)
		}
		want := `blindspot generate writes rules/servicemonitor-monitoring-app-0.yaml with alert ServiceMonitorMonitoringApp0NoTargets: min without (instance, job) (prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"}) == 0 or absent(prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"}) for 5m`
		if f.Fix != want {
			t.Errorf("fix = %q, want %q", f.Fix, want)
		}
		if strings.Contains(f.Fix, "absent(up") {
			t.Errorf("fix %q watches up of a job that does not exist", f.Fix)
		}
	})

	t.Run("A pool alert's fix says Prometheus must scrape itself when the per-pool gauge is not stored.", func(t *testing.T) {
		fs := run(operatorInventory([]string{"up"}))
		if len(fs) != 1 || fs[0].Details["pool_metric"] != "not stored" || !strings.HasPrefix(fs[0].Fix, "make Prometheus scrape itself") {
			t.Errorf("findings = %+v", fs)
		}
	})

	t.Run("An alert that fires when the pool's gauge is 0 covers the pool; one on too many targets does not.", func(t *testing.T) {
		names := []string{"up", "prometheus_target_scrape_pool_targets"}
		for _, tc := range []struct {
			expr    string
			covered bool
		}{
			{`prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"} == 0`, true},
			{`sum by (scrape_job) (prometheus_target_scrape_pool_targets{scrape_job=~"serviceMonitor/.*"}) < 1`, true},
			{`0 >= prometheus_target_scrape_pool_targets`, true},
			{`min without (instance, job) (prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"}) == 0 or absent(prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"})`, true},
			{`prometheus_target_scrape_pool_targets{scrape_job="podMonitor/monitoring/workers/0"} == 0`, false},
			{`prometheus_target_scrape_pool_targets > 100`, false},
			{`absent(prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"})`, false},
			{`absent(up{job="serviceMonitor/monitoring/app/0"})`, false},
		} {
			fs := run(operatorInventory(names, alerting("availability", "PoolEmpty", tc.expr)))
			if covered := len(fs) == 0; covered != tc.covered {
				t.Errorf("%s: covered %v, want %v (findings %q)", tc.expr, covered, tc.covered, subjects(fs))
			}
		}
	})

	t.Run("alerts/missing-up names the pool's jobs, never the pool.", func(t *testing.T) {
		fs := runOne(checks.NewAlertsMissingUp(checks.Options{}), operatorInventory(nil))
		if got, want := subjects(fs), []string{"job=worker-a", "job=worker-b"}; !slices.Equal(got, want) {
			t.Errorf("subjects = %q, want %q", got, want)
		}
	})

	t.Run("A rule that fails at every evaluation covers no pool.", func(t *testing.T) {
		r := alerting("availability", "PoolEmpty", `prometheus_target_scrape_pool_targets == 0`)
		r.Health = "err"
		if fs := run(operatorInventory([]string{"up", "prometheus_target_scrape_pool_targets"}, r)); len(fs) != 1 {
			t.Errorf("findings = %q, want the pool", subjects(fs))
		}
	})

	t.Run("An up == 0 alert does not cover a job's disappearance.", func(t *testing.T) {
		fs := run(coverageInventory(alerting("availability", "TargetDown", `up == 0`)))
		if got, want := subjects(fs), []string{"job=blackbox", "job=node", "job=payments-api"}; !slices.Equal(got, want) {
			t.Errorf("subjects = %q, want %q", got, want)
		}
	})

	t.Run("absent() on a regex matching two jobs covers neither; one per job covers each.", func(t *testing.T) {
		fs := run(coverageInventory(
			alerting("availability", "SomeMissing", `absent(up{job=~"node|payments-api"})`),
			alerting("availability", "BlackboxMissing", `absent_over_time(up{job="blackbox"}[10m])`),
		))
		if got, want := subjects(fs), []string{"job=node", "job=payments-api"}; !slices.Equal(got, want) {
			t.Errorf("subjects = %q, want %q", got, want)
		}
	})

	t.Run("A job name with quotes gets a fix whose expression parses back to that job.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartRules)
		job := `say "hi"`
		b.AddTarget(target(job, "pool", "10.0.0.1:80", analyze.HealthUp, ""))
		f := only(t, run(b.Build()))
		if got := selectedJob(t, fixExpr(t, f.Fix)); got != job {
			t.Errorf("fix %q selects job %q, want %q", f.Fix, got, job)
		}
	})
}

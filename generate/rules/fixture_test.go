package rules

import (
	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
)

// Jobs of the fixture.
const (
	hostileJob = `a"} or vector(1) #`
	ksmJob     = "kube-state-metrics"
	paymentJob = "payments-api"
	// dashJob and underscoreJob collapse to the same file stem ("a-b" as a Kubernetes name)
	// and the same alert prefix ("AB").
	dashJob       = "a-b"
	underscoreJob = "a_b"
	// utf8Metric is a Prometheus 3 name outside the classic character set.
	utf8Metric = "http.requests.total"
	// templateMetric would open a template action if written into an annotation as is.
	templateMetric = `orders{{ .x }}_total`
)

func upFinding(job string) analyze.Finding {
	return analyze.NewFinding(checks.AlertsMissingUpName, analyze.Critical, map[string]string{"job": job}, "no up alert", nil)
}

func absentFinding(job string) analyze.Finding {
	return analyze.NewFinding(checks.AlertsMissingAbsentName, analyze.Warning, map[string]string{"job": job}, "no absence alert", nil)
}

// operatorPool is a Prometheus Operator scrape pool whose targets get their job label from
// relabeling.
const operatorPool = "serviceMonitor/monitoring/app/0"

func poolFinding(pool, poolMetric string) analyze.Finding {
	return analyze.NewFinding(checks.AlertsMissingAbsentName, analyze.Warning, map[string]string{"scrape_pool": pool},
		"no pool alert", map[string]string{"targets": "0", checks.PoolMetricDetail: poolMetric})
}

func businessFinding(job, metric, kind string) analyze.Finding {
	return analyze.NewFinding(checks.AlertsMissingBusinessName, analyze.Warning,
		map[string]string{"job": job, "metric": metric}, "no business alert", map[string]string{"kind": kind})
}

// fixtureFindings are the findings of the golden files: several jobs, a hostile job name, two
// jobs that collide, an operator scrape pool without targets, counters (one with a UTF-8 name, one whose name contains template
// syntax), a last-success gauge, and findings of other checks, which are ignored.
func fixtureFindings() []analyze.Finding {
	return []analyze.Finding{
		upFinding(ksmJob),
		absentFinding(ksmJob),
		upFinding(paymentJob),
		absentFinding(paymentJob),
		businessFinding(paymentJob, "invoices_created_total", coverage.KindCounter),
		businessFinding(paymentJob, utf8Metric, coverage.KindCounter),
		businessFinding(paymentJob, "settlement_last_success_timestamp_seconds", coverage.KindStaleness),
		upFinding(hostileJob),
		absentFinding(hostileJob),
		businessFinding(hostileJob, "orders_total", coverage.KindCounter),
		businessFinding(hostileJob, templateMetric, coverage.KindCounter),
		upFinding(dashJob),
		absentFinding(dashJob),
		upFinding(underscoreJob),
		poolFinding(operatorPool, checks.PoolMetricStored),
		analyze.NewFinding(checks.TargetsDownName, analyze.Warning, map[string]string{"job": ksmJob, "instance": "x:1"}, "down", nil),
		analyze.NewFinding(checks.AlertsNoRunbookName, analyze.Info, map[string]string{"alert": "X"}, "no runbook", nil),
	}
}

// fixtureOptions are the options of the golden files.
func fixtureOptions(format, mode string) generate.Options {
	return generate.Options{
		Owners: []generate.Owner{
			{Jobs: "payments-*", Team: "payments"},
			{Jobs: "kube-*", Team: "platform"},
		},
		RunbookBaseURL: "https://git.example.com/monitoring/blob/main/generated/",
		GrafanaURL:     "https://grafana.example.com/",
		RulesFormat:    format,
		Operator: generate.OperatorOptions{
			Namespace: "monitoring",
			Labels:    map[string]string{"release": "prometheus", "app.kubernetes.io/managed-by": "blindspot"},
		},
		Business: generate.BusinessOptions{Mode: mode},
	}
}

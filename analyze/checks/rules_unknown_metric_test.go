package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckRulesUnknownMetric(t *testing.T) {
	id := checks.RulesUnknownMetricName
	runTests(t, id, []checkTest{
		onHoled(`metric=x rule=job:x:rate5m: rule "job:x:rate5m" reads metric "x", which no target exposes and no recording rule records: it records nothing from it`),
		{description: "An alert on a metric nothing exposes is reported; one on an exposed metric is not.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartRules, analyze.PartMetricNames)
			b.AddMetricNames([]string{"up", "invoices_created_total"})
			b.AddRuleGroup(ruleGroup("billing",
				alerting("billing", "InvoicesStopped", `rate(invoice_created_total{job="billing"}[10m]) == 0`),
				alerting("billing", "BillingDown", `up{job="billing"} == 0`)))
			return b.Build()
		}, want: []string{
			`job=billing metric=invoice_created_total rule=InvoicesStopped: rule "InvoicesStopped" reads metric "invoice_created_total", which no target exposes and no recording rule records: it can never fire`,
		}},
	})
}

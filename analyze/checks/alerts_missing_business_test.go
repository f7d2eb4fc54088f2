package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertsMissingBusiness(t *testing.T) {
	id := checks.AlertsMissingBusinessName
	runTests(t, id, []checkTest{
		{description: "A business counter no alert reads is reported; one an alert reads is not.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartJobMetrics, analyze.PartRules)
			b.AddJobMetric("billing", "invoices_created_total")
			b.AddJobMetric("checkout", "orders_placed_total")
			b.AddRuleGroup(ruleGroup("checkout", alerting("checkout", "OrdersStopped", `sum(rate(orders_placed_total[15m])) == 0`)))
			return b.Build()
		}, want: []string{
			`job=billing metric=invoices_created_total: job "billing" exposes the counter "invoices_created_total", but no alert reads it: nothing pages when it stops increasing`,
		}},
	})
}

package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckBusinessFlatlined(t *testing.T) {
	id := checks.BusinessFlatlinedName
	start := collectedAt.Add(-7 * 24 * time.Hour)
	// steady rose every minute for five days and has been flat for two.
	steady := analyze.CounterHistory{Job: "billing", Metric: "invoices_generated_total",
		FirstIncrease: start, LastIncrease: collectedAt.Add(-48 * time.Hour), Increases: 5 * 24 * 60, LongestGap: time.Minute, Rise: 5 * 24 * 3600 * 0.5}
	// hourly rises once an hour and last rose 50 minutes ago.
	hourly := analyze.CounterHistory{Job: "orders", Metric: "orders_placed_total",
		FirstIncrease: start, LastIncrease: collectedAt.Add(-50 * time.Minute), Increases: 7 * 24, LongestGap: time.Hour, Rise: 7 * 24}
	inventory := func(h analyze.History, groups ...analyze.RuleGroup) func(*testing.T) *analyze.Inventory {
		return withHistory(func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartJobMetrics, analyze.PartRules)
			b.AddJobMetric("billing", "invoices_generated_total")
			b.AddJobMetric("orders", "orders_placed_total")
			b.AddJobMetric("orders", "go_gc_cycles_total")
			b.AddJobMetric("billing", "payments_received_total")
			for _, g := range groups {
				b.AddRuleGroup(g)
			}
			return b.Build()
		}, h)
	}
	runTests(t, id, []checkTest{
		{description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "Every part read with holes in the data and counters without names or increases: nothing is reported.",
			inv: withHistory(holedInventory, week(nil, []analyze.CounterHistory{{Job: "x"}, {Metric: "x_total"}, {Job: "x", Metric: "x_total"}}))},
		{description: "A counter steady for five days and flat for two is reported with since when, for how long and its rate; one that moves once an hour is not.",
			inv: inventory(week(nil, []analyze.CounterHistory{steady, hourly})),
			want: []string{
				`job=billing metric=invoices_generated_total: the counter "invoices_generated_total" of job "billing" has not increased since 2026-11-24 03:00 UTC (2d); before, it rose at 30/min and never paused longer than 1m; no alert covers it`,
			}},
		{description: "The alert that covers a flat counter is named: it did not fire, or nobody heard it.",
			inv: inventory(week(nil, []analyze.CounterHistory{steady}),
				ruleGroup("billing", alerting("billing", "InvoicesStopped", `sum(rate(invoices_generated_total[15m])) == 0`))),
			want: []string{
				`job=billing metric=invoices_generated_total: the counter "invoices_generated_total" of job "billing" has not increased since 2026-11-24 03:00 UTC (2d); before, it rose at 30/min and never paused longer than 1m; "InvoicesStopped" covers it and should be firing`,
			}},
		{description: "A counter that paused for a day before is not reported after two hours flat, but is after three days; one that rose once is reported after history.min_flat.",
			opts: checks.Options{History: checks.History{MinFlat: 2 * time.Hour}},
			inv: inventory(week(nil, []analyze.CounterHistory{
				{Job: "billing", Metric: "invoices_generated_total", FirstIncrease: start, LastIncrease: collectedAt.Add(-3 * 24 * time.Hour), Increases: 10, LongestGap: 24 * time.Hour, Rise: 10},
				{Job: "billing", Metric: "payments_received_total", FirstIncrease: start, LastIncrease: collectedAt.Add(-2 * time.Hour), Increases: 5, LongestGap: 24 * time.Hour, Rise: 5},
				{Job: "orders", Metric: "orders_placed_total", FirstIncrease: collectedAt.Add(-3 * time.Hour), LastIncrease: collectedAt.Add(-3 * time.Hour), Increases: 1},
			})),
			want: []string{
				`job=billing metric=invoices_generated_total: the counter "invoices_generated_total" of job "billing" has not increased since 2026-11-23 03:00 UTC (3d); before, it rose at 0.104/h and never paused longer than 1d; no alert covers it`,
				`job=orders metric=orders_placed_total: the counter "orders_placed_total" of job "orders" has not increased since 2026-11-26 00:00 UTC (3h); it increased once before; no alert covers it`,
			}},
		{description: "A counter that is not a business candidate (go_ runtime counters) or of a job without candidates is not judged.",
			inv: inventory(week(nil, []analyze.CounterHistory{
				{Job: "orders", Metric: "go_gc_cycles_total", FirstIncrease: start, LastIncrease: start.Add(time.Hour), Increases: 60, LongestGap: time.Minute, Rise: 60},
				{Job: "gone", Metric: "invoices_generated_total", FirstIncrease: start, LastIncrease: start.Add(time.Hour), Increases: 60, LongestGap: time.Minute, Rise: 60},
			}))},
	})
}

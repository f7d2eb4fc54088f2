package checks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/internal/invgen"
)

// flatlinedInventory is one job exposing n business counters, each of which rose every minute
// for a day and then stopped two days before the end of a week's history: n
// business/flatlined findings, as the scale estate's big job (87,500 counters) could give.
func flatlinedInventory(n int) *analyze.Inventory {
	b := analyze.NewBuilder(invgen.CollectedAt)
	b.AddPart(analyze.PartJobMetrics)
	b.AddPart(analyze.PartRules)
	b.AddPart(analyze.PartHistory)
	end := invgen.CollectedAt.Truncate(time.Minute)
	h := analyze.History{Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute}
	for i := range n {
		name := fmt.Sprintf("shop_operation_%05d_total", i)
		b.AddJobMetric("big", name)
		h.Counters = append(h.Counters, analyze.CounterHistory{Job: "big", Metric: name, Increases: 1440, Rise: 1440,
			FirstIncrease: end.Add(-3 * 24 * time.Hour), LastIncrease: end.Add(-2 * 24 * time.Hour), LongestGap: time.Minute})
	}
	b.SetHistory(h)
	return b.Build()
}

// BenchmarkFlatlined runs business/flatlined over one job of n flat counters: each counter
// is looked up among the job's business metrics, which must not cost a copy of all of them
// (that made 87,500 counters take minutes).
func BenchmarkFlatlined(b *testing.B) {
	for _, n := range []int{1_000, 87_500} {
		b.Run(fmt.Sprintf("counters=%d", n), func(b *testing.B) {
			inv := flatlinedInventory(n)
			d := checks.Derive(inv, checks.Options{})
			var flatlined []checks.Check
			for _, c := range checks.All(checks.Options{}) {
				if c.Meta().ID == "business/flatlined" {
					flatlined = append(flatlined, c)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if res := checks.Run(inv, d, flatlined, checks.Policy{}); len(res.Findings) != n {
					b.Fatalf("%d findings, want %d", len(res.Findings), n)
				}
			}
		})
	}
}

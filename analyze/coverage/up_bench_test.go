package coverage

import (
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/internal/invgen"
)

func TestGenerateInventory(t *testing.T) {
	t.Run("A generated inventory has the requested size and every job has an up alert.", func(t *testing.T) {
		inv := invgen.Inventory(20, 3, 500, 1000)
		if len(inv.Jobs) != 20 || len(inv.Targets) != 60 || len(inv.Rules()) != 500 || len(inv.MetricNames) != 1000 {
			t.Fatalf("jobs %d, targets %d, rules %d, metric names %d", len(inv.Jobs), len(inv.Targets), len(inv.Rules()), len(inv.MetricNames))
		}
		for _, r := range inv.Rules() {
			if r.ParseError != "" {
				t.Fatalf("rule %s: %s", r.Name, r.ParseError)
			}
		}
		for _, jc := range Analyze(inv, Options{}).Matrix() {
			if !slices.ContainsFunc(jc.UpAlerts, func(r RuleRef) bool { return r.Name == "UpAlert100" }) {
				t.Errorf("job %s: up alerts %+v lack UpAlert100 (up == 0)", jc.Job, jc.UpAlerts)
			}
		}
	})
}

// BenchmarkAnalyzeUp measures the analysis of a large setup: 1,000 jobs, 10,000 targets,
// 5,000 rules (about 50 on up), 100,000 metric names.
func BenchmarkAnalyzeUp(b *testing.B) {
	inv := invgen.Inventory(1000, 10, 5000, 100000)
	b.ReportAllocs()
	for b.Loop() {
		a := Analyze(inv, Options{})
		if len(a.Matrix()) != 1000 {
			b.Fatal("matrix lacks jobs")
		}
	}
}

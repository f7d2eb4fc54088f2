package checks_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/internal/heapsample"
	"github.com/blindspot-dev/blindspot/internal/invgen"
)

// unknownMetricInventory is a rule file of n alerts in groups of ten, each reading a metric no
// target exposes (so each yields a rules/unknown-metric finding), beside 100,000 known names.
func unknownMetricInventory(n int) *analyze.Inventory {
	b := analyze.NewBuilder(invgen.CollectedAt)
	b.AddPart(analyze.PartRules)
	b.AddPart(analyze.PartMetricNames)
	names := make([]string, 100_000)
	for i := range names {
		names[i] = fmt.Sprintf("app_metric_%06d_total", i)
	}
	b.AddMetricNames(names)
	for g := 0; g < n; g += 10 {
		group := analyze.RuleGroup{Name: fmt.Sprintf("group-%06d", g/10), File: "rules/big.yml", Language: "promql"}
		for i := g; i < min(g+10, n); i++ {
			group.Rules = append(group.Rules, analyze.NewRule(analyze.Rule{
				Kind: analyze.RuleAlerting, Name: fmt.Sprintf("Alert%06d", i), Group: group.Name, File: group.File,
				Expr:        fmt.Sprintf(`sum by (job) (rate(gone_metric_%06d_total{job="job-%03d"}[5m])) > 0`, i, i%1000),
				Labels:      map[string]string{"severity": "warning"},
				Annotations: map[string]string{"summary": "s"},
			}))
		}
		b.AddRuleGroup(group)
	}
	return b.Build()
}

// BenchmarkRuleChecks runs the checks that read only the rules and the metric names over
// rule files of 5,000 and 200,000 alerts that all read unknown metrics.
func BenchmarkRuleChecks(b *testing.B) {
	for _, n := range []int{5_000, 200_000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			inv := unknownMetricInventory(n)
			var rc []checks.Check
			for _, c := range checks.All(checks.Options{}) {
				if onlyRulesAndNames(c) {
					rc = append(rc, c)
				}
			}
			d := checks.Derive(inv, checks.Options{})
			runtime.GC()
			peak := heapsample.Peak()
			b.ReportAllocs()
			for b.Loop() {
				res := checks.Run(inv, d, rc, checks.Policy{})
				if len(res.Findings) < n {
					b.Fatalf("%d findings, want at least %d", len(res.Findings), n)
				}
			}
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
		})
	}
}

func onlyRulesAndNames(c checks.Check) bool {
	for _, p := range c.Meta().Requires {
		if p != analyze.PartRules && p != analyze.PartMetricNames {
			return false
		}
	}
	return true
}

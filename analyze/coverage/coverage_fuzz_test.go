package coverage

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
)

// FuzzEvaluate runs every coverage function on an arbitrary PromQL expression: as an alert,
// and as a recording rule an alert reads, in an inventory with targets, job metrics, counter
// metadata and metric names. Expressions the parser refuses are skipped; no expression may
// make the analysis panic, and every alert it credits must be one of the rules.
func FuzzEvaluate(f *testing.F) {
	for _, expr := range []string{
		`up == 0`,
		`absent(up{job="a"})`,
		`sum by (job) (rate(requests_total{job=~"a|b"}[5m])) < 1`,
		`count(up{namespace="prod"} == 1) by (job) < 2`,
		`time() - max_over_time(last_success_timestamp_seconds[1h]) > 3600`,
		`avg_over_time(up[5m]) * on(job) group_left(x) label_replace(vector(1), "job", "a", "", "") < 0.5`,
		`job:up:sum == 0 or absent(job:up:sum)`,
		`-(up offset 5m) unless on() (up @ end())`,
	} {
		f.Add(expr)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if _, err := analyze.ParseExpr(expr); err != nil {
			return
		}
		rules := []analyze.Rule{
			alert("Fuzzed", expr),
			record("job:up:sum", expr),
			alert("ReadsRecorded", `job:up:sum == 0`),
		}
		inv := world{
			targets: append(defaultTargets[:len(defaultTargets):len(defaultTargets)],
				analyze.Target{Job: "c", ScrapePool: "pool-c", Instance: "c-1", Health: analyze.HealthDown, Labels: map[string]string{"job": "c", "instance": "c-1"}}),
			configured:  []string{"empty"},
			rules:       rules,
			jobMetrics:  map[string][]string{"a": {"up", "requests_total", "last_success_timestamp_seconds"}, "b": {"up", "orders_placed_total"}},
			metricNames: []string{"up", "requests_total", "orders_placed_total", "last_success_timestamp_seconds"},
		}.build()
		a := Analyze(inv, Options{})
		names := map[string]bool{}
		for _, r := range rules {
			names[r.Name] = true
		}
		for _, j := range a.Matrix() {
			for _, r := range j.Alerts() {
				if !names[r.Name] {
					t.Fatalf("job %s is covered by %q, which is no rule", j.Job, r.Name)
				}
			}
			a.Job(j.Job)
			a.Business(j.Job)
			a.PoolAbsentAlerts(j.Job)
		}
		for _, job := range a.BusinessJobs() {
			a.Business(job)
		}
		a.PoolAbsentAlerts("pool-c")
		for _, g := range inv.RuleGroups {
			for i := range g.Rules {
				a.JobsOf(&g.Rules[i])
			}
		}
	})
}

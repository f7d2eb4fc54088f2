// Package invgen generates large, realistic inventories for benchmarks: many jobs and
// targets, rules in the forms real rule sets use, and many metric names.
package invgen

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// CollectedAt is the collection time of generated inventories.
var CollectedAt = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func alert(name, expr string) analyze.Rule {
	return analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: name, Expr: expr})
}

func record(name, expr string) analyze.Rule {
	return analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: name, Expr: expr})
}

// upTemplates are the up alerts of generated inventories, in the forms real rule sets use.
// "J" stands for a job, "R" for the recording rule job:up:avg.
var upTemplates = []string{
	`up == 0`,
	`up{job="J"} == 0`,
	`avg by (job) (up) < 0.9`,
	`sum by (job) (up) == 0`,
	`count by (job) (up == 0) / count by (job) (up) > 0.1`,
	`100 * (count by (job, namespace, service) (up == 0) / count by (job, namespace, service) (up)) > 10`,
	`min_over_time(up[5m]) == 0`,
	`up{job=~"job-00[0-4].*"} == 0`,
	`absent(up{job="J"})`,
	`up{namespace="ns-03"} < 1`,
	`R{job="J"} < 0.5`,
	`up == 0 unless on(job) (sum by (job) (up) == 0)`,
	`sum by (instance, job) ((up == 0) * on (instance) group_left(__name__) (node_time_seconds - node_boot_time_seconds > 600))`,
	`up{job!="J"} == 0`,
}

// otherTemplates are the other alerts; "M" stands for a metric, "R" for a recording of it.
var otherTemplates = []string{
	`rate(M[5m]) > 1`,
	`M > 100`,
	`sum by (job) (rate(M[5m])) == 0`,
	`absent(M{job="J"})`,
	`histogram_quantile(0.99, sum by (le, job) (rate(M_bucket[5m]))) > 1`,
	`R > 10`,
}

// instantiate fills a template's placeholders through its syntax tree: selectors named M, R
// or M_bucket are renamed, job matchers on "J" get the job.
func instantiate(tmpl string, names map[string]string, job string) string {
	expr, err := analyze.ParseExpr(tmpl)
	if err != nil {
		panic(fmt.Sprintf("template %q: %v", tmpl, err))
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name, ok := names[vs.Name]
		for i, m := range vs.LabelMatchers {
			switch {
			case ok && m.Name == labels.MetricName:
				vs.LabelMatchers[i] = labels.MustNewMatcher(m.Type, m.Name, name)
			case m.Name == "job" && m.Value == "J":
				vs.LabelMatchers[i] = labels.MustNewMatcher(m.Type, m.Name, job)
			}
		}
		if ok {
			vs.Name = name
		}
		return nil
	})
	return expr.String()
}

// Inventory builds an inventory of the given size: jobs with targetsPerJob targets
// each (namespace, service and pod labels), metricNames metric names, and rules rules in
// groups of ten, of which about one in a hundred reads up in one of upTemplates' forms, a
// tenth are recording rules and the rest alerts on other metrics.
func Inventory(jobs, targetsPerJob, rules, metricNames int) *analyze.Inventory {
	b := analyze.NewBuilder(CollectedAt)
	for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartRules, analyze.PartMetricNames, analyze.PartJobMetrics} {
		b.AddPart(p)
	}
	job := func(i int) string { return fmt.Sprintf("job-%04d", i%max(jobs, 1)) }
	for j := range jobs {
		b.AddConfiguredJob(job(j), []string{"kubernetes"}, 3)
		for t := range targetsPerJob {
			instance := fmt.Sprintf("10.%d.%d.%d:8080", j/250, j%250, t)
			b.AddTarget(analyze.Target{
				Job: job(j), ScrapePool: job(j), Instance: instance, Health: analyze.HealthUp,
				Labels: map[string]string{
					"job": job(j), "instance": instance, "namespace": fmt.Sprintf("ns-%02d", j%25),
					"service": job(j), "pod": fmt.Sprintf("%s-%d", job(j), t),
				},
			})
		}
	}
	metric := func(i int) string { return fmt.Sprintf("app_metric_%06d_total", i%max(metricNames, 1)) }
	names := make([]string, metricNames)
	for i := range names {
		names[i] = metric(i)
	}
	b.AddMetricNames(names)
	for j := range jobs {
		for k := range 5 {
			b.AddJobMetric(job(j), metric(j*5+k))
		}
	}

	var group []analyze.Rule
	flush := func(n int) {
		g := analyze.RuleGroup{Name: fmt.Sprintf("group-%04d", n), File: fmt.Sprintf("rules/file-%03d.yml", n/10), Language: "promql"}
		for _, r := range group {
			r.Group, r.File = g.Name, g.File
			g.Rules = append(g.Rules, r)
		}
		b.AddRuleGroup(g)
		group = nil
	}
	recorded := func(i int) string { return fmt.Sprintf("job:app_metric_%06d:rate5m", i%max(metricNames, 1)) }
	group = append(group, record("job:up:avg", `avg by (job) (up)`))
	ups := 0
	for i := 1; i < rules; i++ {
		switch {
		case i%100 == 0:
			tmpl := upTemplates[ups%len(upTemplates)]
			ups++
			group = append(group, alert(fmt.Sprintf("UpAlert%d", i), instantiate(tmpl, map[string]string{"R": "job:up:avg"}, job(i*7))))
		case i%10 == 5:
			expr := instantiate(`sum by (job) (rate(M[5m]))`, map[string]string{"M": metric(i * 13)}, "")
			group = append(group, record(recorded(i*13), expr))
		default:
			tmpl := otherTemplates[i%len(otherTemplates)]
			m := metric(i * 31)
			if tmpl == `R > 10` {
				m = metric((i - i%10 + 5) * 13)
			}
			names := map[string]string{"M": m, "M_bucket": m + "_bucket", "R": recorded((i - i%10 + 5) * 13)}
			group = append(group, alert(fmt.Sprintf("Alert%d", i), instantiate(tmpl, names, job(i))))
		}
		if len(group) == 10 {
			flush(i / 10)
		}
	}
	if len(group) > 0 {
		flush(rules / 10)
	}
	return b.Build()
}

package coverage

import (
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

var collectedAt = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// target is an up target of job with extra labels given as name, value pairs.
func target(job, instance string, extra ...string) analyze.Target {
	ls := map[string]string{"job": job, "instance": instance}
	for i := 0; i+1 < len(extra); i += 2 {
		ls[extra[i]] = extra[i+1]
	}
	return analyze.Target{Job: job, ScrapePool: job, Instance: instance, Health: analyze.HealthUp, Labels: ls}
}

func alert(name, expr string) analyze.Rule {
	return analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: name, Expr: expr})
}

func record(name, expr string) analyze.Rule {
	return analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: name, Expr: expr})
}

// world describes an inventory: targets, configured jobs without targets, rules in one
// PromQL group, and the metrics of jobs.
type world struct {
	targets    []analyze.Target
	configured []string
	rules      []analyze.Rule
	jobMetrics map[string][]string
	// metricNames, when set, are every metric name the server has (metric_names).
	metricNames []string
}

// defaultTargets: job a has two targets in namespace prod, b and ba one each in dev.
var defaultTargets = []analyze.Target{
	target("a", "a-1:9100", "namespace", "prod"),
	target("a", "a-2:9100", "namespace", "prod"),
	target("b", "b-1:9100", "namespace", "dev"),
	target("ba", "ba-1:9100", "namespace", "dev"),
}

func (w world) build() *analyze.Inventory {
	b := analyze.NewBuilder(collectedAt)
	b.AddPart(analyze.PartTargets)
	b.AddPart(analyze.PartRules)
	targets := w.targets
	if targets == nil {
		targets = defaultTargets
	}
	for _, t := range targets {
		b.AddTarget(t)
	}
	for _, j := range w.configured {
		b.AddConfiguredJob(j, []string{"static"}, 0)
	}
	for job, ms := range w.jobMetrics {
		b.AddPart(analyze.PartJobMetrics)
		for _, m := range ms {
			b.AddJobMetric(job, m)
		}
	}
	if w.metricNames != nil {
		b.AddPart(analyze.PartMetricNames)
		b.AddMetricNames(w.metricNames)
	}
	rules := slices.Clone(w.rules)
	for i := range rules {
		rules[i].Group, rules[i].File = "test", "rules.yml"
	}
	b.AddRuleGroup(analyze.RuleGroup{Name: "test", File: "rules.yml", Language: "promql", Rules: rules})
	return b.Build()
}

// coveredJobs lists, in job order, the jobs for which refs returns some alert.
func coveredJobs(inv *analyze.Inventory, refs func(JobCoverage) []RuleRef) []string {
	a := Analyze(inv, Options{})
	out := []string{}
	for _, j := range inv.Jobs {
		if len(refs(a.Job(j.Name))) > 0 {
			out = append(out, j.Name)
		}
	}
	return out
}

// coverageTest is a world and the jobs it should cover.
type coverageTest struct {
	name string
	w    world
	want []string
}

// runCoverageTests checks each test's covered jobs by refs, then that an alert in a non-PromQL
// group, which refs would count in a PromQL one, covers nothing.
func runCoverageTests(t *testing.T, tests []coverageTest, refs func(JobCoverage) []RuleRef, covering analyze.Rule) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coveredJobs(tt.w.build(), refs); !slices.Equal(got, tt.want) {
				t.Errorf("covered = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("A non-PromQL group is ignored.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddTarget(target("a", "a-1:9100"))
		b.AddRuleGroup(analyze.RuleGroup{Name: "logs", Language: "vlogs", Rules: []analyze.Rule{covering}})
		if got := coveredJobs(b.Build(), refs); len(got) != 0 {
			t.Errorf("covered = %q", got)
		}
	})
}

func upAlerts(j JobCoverage) []RuleRef     { return j.UpAlerts }
func absentAlerts(j JobCoverage) []RuleRef { return j.AbsentAlerts }

// targetDown is kube-prometheus' TargetDown alert, verbatim.
const targetDown = `100 * (count by (job, namespace, service) (up == 0) / count by (job, namespace, service) (up)) > 10`

func TestUpCoverage(t *testing.T) {
	all := []string{"a", "b", "ba"}
	tests := []coverageTest{
		{"up == 0 covers every job.", world{rules: []analyze.Rule{alert("Down", `up == 0`)}}, all},
		{"up < 1 covers every job.", world{rules: []analyze.Rule{alert("Down", `up < 1`)}}, all},
		{"up != 1 covers every job.", world{rules: []analyze.Rule{alert("Down", `up != 1`)}}, all},
		{"0 == up, with the scalar on the left, covers every job.", world{rules: []analyze.Rule{alert("Down", `0 == up`)}}, all},
		{"avg by (job) (up) < 0.9 covers every job.", world{rules: []analyze.Rule{alert("Down", `avg by (job) (up) < 0.9`)}}, all},
		{"sum by (job) (up) == 0 covers every job.", world{rules: []analyze.Rule{alert("Down", `sum by (job) (up) == 0`)}}, all},
		{"sum without (instance) (up) == 0 covers every job.", world{rules: []analyze.Rule{alert("Down", `sum without (instance) (up) == 0`)}}, all},
		{"A ratio of down targets per job covers every job.", world{rules: []analyze.Rule{alert("Down", `count by (job) (up == 0) / count by (job) (up) > 0.1`)}}, all},
		{"kube-prometheus TargetDown covers every job.", world{rules: []analyze.Rule{alert("TargetDown", targetDown)}}, all},
		{"kube-prometheus TargetDown covers jobs whose targets carry namespace, service and pod labels.", world{
			targets: []analyze.Target{
				target("api", "10.1.0.1:8080", "namespace", "shop", "service", "api", "pod", "api-1"),
				target("api", "10.1.0.2:8080", "namespace", "shop", "service", "api", "pod", "api-2"),
				target("worker", "10.1.0.3:8080", "namespace", "batch", "service", "worker", "pod", "worker-1"),
			},
			rules: []analyze.Rule{alert("TargetDown", targetDown)},
		}, []string{"api", "worker"}},
		{"min_over_time(up[5m]) == 0 covers every job.", world{rules: []analyze.Rule{alert("Down", `min_over_time(up[5m]) == 0`)}}, all},
		{"avg_over_time(up[5m]) * 100 < 50 covers every job.", world{rules: []analyze.Rule{alert("Down", `avg_over_time(up[5m]) * 100 < 50`)}}, all},
		{"A subquery over up covers every job.", world{rules: []analyze.Rule{alert("Down", `max_over_time((up == 0)[10m:1m]) == 0`)}}, all},
		{"An offset modifier does not change coverage.", world{rules: []analyze.Rule{alert("Down", `up offset 1m == 0`)}}, all},
		{"sum by (job) (up) < count by (job) (up) compares two vectors and covers every job.", world{rules: []analyze.Rule{alert("Down", `sum by (job) (up) < count by (job) (up)`)}}, all},
		{"up == bool 0 > 0 covers every job.", world{rules: []analyze.Rule{alert("Down", `(up == bool 0) > 0`)}}, all},

		{"up == 1 covers no job.", world{rules: []analyze.Rule{alert("Up", `up == 1`)}}, []string{}},
		{"up > 0 covers no job.", world{rules: []analyze.Rule{alert("Up", `up > 0`)}}, []string{}},
		{"up >= 0, which always fires, covers no job.", world{rules: []analyze.Rule{alert("Always", `up >= 0`)}}, []string{}},
		{"A bare up selector, which always fires, covers no job.", world{rules: []analyze.Rule{alert("Always", `up`)}}, []string{}},
		{"sum(up) == 0 does not cover a job while other jobs have targets.", world{rules: []analyze.Rule{alert("AllDown", `sum(up) == 0`)}}, []string{}},
		{"sum(up) == 0 covers the only job.", world{
			targets: []analyze.Target{target("node", "n-1:9100"), target("node", "n-2:9100")},
			rules:   []analyze.Rule{alert("AllDown", `sum(up) == 0`)},
		}, []string{"node"}},
		{"sum by (namespace) (up) == 0 may put a job alone in its output series and covers every job (documented limit).", world{rules: []analyze.Rule{alert("NamespaceDown", `sum by (namespace) (up) == 0`)}}, all},
		{"max(up) == 0 does not cover a job while other jobs have targets.", world{rules: []analyze.Rule{alert("AllDown", `max(up) == 0`)}}, []string{}},
		{"avg(up) <= 0.5 covers the job that holds half of all targets, not the others.", world{rules: []analyze.Rule{alert("HalfDown", `avg(up) <= 0.5`)}}, []string{"a"}},
		{"ThanosCompactMultipleRunning-like sum by (job) (up) > 1 covers no job.", world{rules: []analyze.Rule{alert("Multiple", `sum by (job) (up) > 1`)}}, []string{}},

		{`up{job="a"} == 0 covers a only.`, world{rules: []analyze.Rule{alert("ADown", `up{job="a"} == 0`)}}, []string{"a"}},
		{`up{job=~"a|b"} == 0 covers a and b.`, world{rules: []analyze.Rule{alert("Down", `up{job=~"a|b"} == 0`)}}, []string{"a", "b"}},
		{`up{job!="a"} == 0 covers b and ba, not a.`, world{rules: []analyze.Rule{alert("Down", `up{job!="a"} == 0`)}}, []string{"b", "ba"}},
		{`up{job!~"b.*"} == 0 covers a only.`, world{rules: []analyze.Rule{alert("Down", `up{job!~"b.*"} == 0`)}}, []string{"a"}},
		{`up{job=~"a.*"} == 0 is anchored: it covers a, not ba.`, world{rules: []analyze.Rule{alert("Down", `up{job=~"a.*"} == 0`)}}, []string{"a"}},
		{`up{namespace="prod"} == 0 covers only the job whose targets are in prod.`, world{rules: []analyze.Rule{alert("ProdDown", `up{namespace="prod"} == 0`)}}, []string{"a"}},
		{`up{__name__="up", job="b"} == 0 covers b.`, world{rules: []analyze.Rule{alert("Down", `{__name__="up", job="b"} == 0`)}}, []string{"b"}},
		{"Two alerts on one job each cover it.", world{rules: []analyze.Rule{alert("ADown", `up{job="a"} == 0`), alert("BDown", `up{job="b"} < 1`)}}, []string{"a", "b"}},
		{`An or of two job selectors covers both jobs.`, world{rules: []analyze.Rule{alert("Down", `up{job="a"} == 0 or up{job="b"} == 0`)}}, []string{"a", "b"}},

		{"An alert on a recording rule built from up covers every job.", world{rules: []analyze.Rule{
			record("job:up:avg", `avg by (job) (up)`),
			alert("Down", `job:up:avg < 0.5`),
		}}, all},
		{"An alert on a recording rule filtered to a job covers that job.", world{rules: []analyze.Rule{
			record("job:up:avg", `avg by (job) (up)`),
			alert("ADown", `job:up:avg{job="a"} < 0.5`),
		}}, []string{"a"}},
		{"An alert on nested recording rules covers the jobs the inner filter lets through.", world{rules: []analyze.Rule{
			record("job:up:avg", `avg by (job) (up)`),
			record("job:up:avg:min10m", `min_over_time(job:up:avg{job=~"a|b"}[10m])`),
			alert("Down", `job:up:avg:min10m < 0.5`),
		}}, []string{"a", "b"}},
		{"A recording rule with a job label is matched on that label.", world{rules: []analyze.Rule{
			analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: "fleet:up:sum", Expr: `sum(up{job="b"})`, Labels: map[string]string{"job": "b"}}),
			alert("Down", `fleet:up:sum{job="b"} == 0`),
		}}, []string{"b"}},
		{"An alert on a recording rule that only sees healthy values covers no job.", world{rules: []analyze.Rule{
			record("job:up:count_ok", `count by (job) (up == 1)`),
			alert("Down", `job:up:count_ok > 0`),
		}}, []string{}},

		{`absent(up{job="a"}) does not fire while a's targets are down: it covers no job's up.`, world{rules: []analyze.Rule{alert("AMissing", `absent(up{job="a"})`)}}, []string{}},
		{`absent(up{job="a"} == 1) fires when no target of a is up and covers a.`, world{rules: []analyze.Rule{alert("ANoneUp", `absent(up{job="a"} == 1)`)}}, []string{"a"}},
		{`absent(up{job=~"a|b"} == 1) needs both jobs down and covers neither.`, world{rules: []analyze.Rule{alert("NoneUp", `absent(up{job=~"a|b"} == 1)`)}}, []string{}},
		{"PrometheusTargetMissing, which excludes jobs with every target down, covers no job.", world{rules: []analyze.Rule{
			alert("PrometheusTargetMissing", `up == 0 unless on(job) (sum by (job) (up) == 0)`),
		}}, []string{}},
		{"KubeletDown-like count unless count of healthy targets covers the job it counts.", world{
			targets: append(slices.Clone(defaultTargets), target("kubelet", "node-1:10250", "metrics_path", "/metrics")),
			rules: []analyze.Rule{alert("KubeletDown",
				`count by (cluster) (kube_node_info{job="kube-state-metrics"}) unless on (cluster) count by (cluster) (up{job="kubelet", metrics_path="/metrics"} == 1)`)},
		}, []string{"kubelet"}},
		{"A join with another metric on instance may fire, so it covers.", world{rules: []analyze.Rule{
			alert("Warm", `sum by (instance, job) ((up == 0) * on (instance) group_left(__name__) (node_time_seconds - node_boot_time_seconds > 600))`),
		}}, all},
		{"changes(up[10m]) > 3, a flapping alert whose result does not depend on a steady outage, covers no job.", world{rules: []analyze.Rule{alert("Flapping", `changes(up[10m]) > 3`)}}, []string{}},
		{"A ratio whose only up term is a count of series, AlertmanagerClusterCrashlooping-like, covers no job.", world{rules: []analyze.Rule{
			alert("Crashlooping", `count by (job) (changes(process_start_time_seconds[10m]) > 4) / count by (job) (up) >= 0.5`),
		}}, []string{}},
		{"sqrt(up) == 0 covers every job.", world{rules: []analyze.Rule{alert("Down", `sqrt(up) == 0`)}}, all},
		{"A condition on another metric and on up covers the jobs up selects.", world{rules: []analyze.Rule{
			alert("LoadedAndDown", `node_load1 > 5 and on() up{job="b"} == 0`),
		}}, []string{"b"}},
		{`up{job="c"} == 0 covers a configured job without targets.`, world{
			configured: []string{"c"},
			rules:      []analyze.Rule{alert("CDown", `up{job="c"} == 0`)},
		}, []string{"c"}},
		{`up{namespace="prod"} == 0 does not cover a configured job without targets.`, world{
			configured: []string{"c"},
			rules:      []analyze.Rule{alert("ProdDown", `up{namespace="prod"} == 0`)},
		}, []string{"a"}},
		{"An unparseable alert is ignored.", world{rules: []analyze.Rule{alert("Broken", `up == `)}}, []string{}},
		{"An alert on another metric covers no job.", world{rules: []analyze.Rule{alert("Errors", `rate(http_requests_total{code="500"}[5m]) > 1`)}}, []string{}},
		{"Unknown constructs do not panic.", world{rules: []analyze.Rule{
			alert("Odd", `label_replace(up, "job", "x", "", "") == 0 or histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m]))) > 1 or -up < -1 or up % 2 == 0 or clamp(up, 1, 0) == 0 or topk(1, up == 0) or vector(scalar(up)) == 0 or vector(time()) > 0 or absent_over_time(up[5m]) or up ^ 2 atan2 up < 0`),
		}}, all},
	}
	runCoverageTests(t, tests, upAlerts, alert("Down", `up == 0`))

	t.Run("A job's alerts come sorted by file, group and name.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddTarget(target("a", "a-1:9100"))
		rule := func(file, group, name string) analyze.Rule {
			r := alert(name, `up == 0`)
			r.File, r.Group = file, group
			return r
		}
		b.AddRuleGroup(analyze.RuleGroup{Name: "z", File: "b.yml", Language: "promql", Rules: []analyze.Rule{rule("b.yml", "z", "Y"), rule("b.yml", "z", "X")}})
		b.AddRuleGroup(analyze.RuleGroup{Name: "z", File: "a.yml", Language: "promql", Rules: []analyze.Rule{rule("a.yml", "z", "W")}})
		b.AddRuleGroup(analyze.RuleGroup{Name: "y", File: "b.yml", Language: "promql", Rules: []analyze.Rule{rule("b.yml", "y", "V")}})
		var got []string
		for _, r := range Analyze(b.Build(), Options{}).Job("a").UpAlerts {
			got = append(got, r.File+"/"+r.Group+"/"+r.Name)
		}
		if want := []string{"a.yml/z/W", "b.yml/y/V", "b.yml/z/X", "b.yml/z/Y"}; !slices.Equal(got, want) {
			t.Errorf("order = %q, want %q", got, want)
		}
	})

	t.Run("A job's up alert carries its runbook annotation.", func(t *testing.T) {
		r := alert("Down", `up == 0`)
		r.Annotations = map[string]string{"runbook_url": "https://runbooks/down"}
		refs := Analyze(world{rules: []analyze.Rule{r}}.build(), Options{}).Job("b").UpAlerts
		if len(refs) != 1 || refs[0].Runbook != "https://runbooks/down" || refs[0].Name != "Down" {
			t.Errorf("refs = %+v", refs)
		}
	})
}

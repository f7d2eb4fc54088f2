package coverage

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
)

func TestAbsentCoverage(t *testing.T) {
	twoJobs := []analyze.Target{target("a", "a-1:9100"), target("b", "b-1:9100")}
	oneJob := []analyze.Target{target("a", "a-1:9100")}
	tests := []coverageTest{
		{`absent(up{job="a"}) covers a.`, world{rules: []analyze.Rule{alert("AMissing", `absent(up{job="a"})`)}}, []string{"a"}},
		{`absent_over_time(up{job="a"}[5m]) covers a.`, world{rules: []analyze.Rule{alert("AMissing", `absent_over_time(up{job="a"}[5m])`)}}, []string{"a"}},
		{`absent(up{job="a"} == 1), Thanos' form, covers a.`, world{rules: []analyze.Rule{alert("AMissing", `absent(up{job="a"} == 1)`)}}, []string{"a"}},
		{`absent(up{job="a"}) inside a larger expression covers a.`, world{rules: []analyze.Rule{alert("AMissing", `absent(up{job="a"}) * on() group_left vector(1)`)}}, []string{"a"}},
		{`absent(up{job=~"a|b"}) fires only when both vanish and covers neither.`, world{rules: []analyze.Rule{alert("Missing", `absent(up{job=~"a|b"})`)}}, []string{}},
		{`absent(up{job=~"a"}) matches a alone and covers a.`, world{rules: []analyze.Rule{alert("AMissing", `absent(up{job=~"a"})`)}}, []string{"a"}},
		{`absent(up{job=~"a.*"}) is anchored: it matches a alone, not ba, and covers a.`, world{rules: []analyze.Rule{alert("AMissing", `absent(up{job=~"a.*"})`)}}, []string{"a"}},
		{`absent(up{job=~"b.*"}) matches b and ba and covers neither.`, world{rules: []analyze.Rule{alert("BMissing", `absent(up{job=~"b.*"})`)}}, []string{}},
		{`absent(up{job!="a"}) covers the one job left, b.`, world{targets: twoJobs, rules: []analyze.Rule{alert("NotAMissing", `absent(up{job!="a"})`)}}, []string{"b"}},
		{"absent(up) covers the only job.", world{targets: oneJob, rules: []analyze.Rule{alert("Missing", `absent(up)`)}}, []string{"a"}},
		{"absent(up) covers neither of two jobs.", world{targets: twoJobs, rules: []analyze.Rule{alert("Missing", `absent(up)`)}}, []string{}},
		{`absent(up{job="c"}) covers a configured job without targets.`, world{configured: []string{"c"}, rules: []analyze.Rule{alert("CMissing", `absent(up{job="c"})`)}}, []string{"c"}},
		{"An absent() on a metric the job exposes covers it.", world{
			targets:    twoJobs,
			jobMetrics: map[string][]string{"a": {"orders_total"}, "b": {"jobs_total"}},
			rules:      []analyze.Rule{alert("OrdersMissing", `absent(orders_total{job="a"})`)},
		}, []string{"a"}},
		{"An absent() on a metric the job does not expose does not cover it.", world{
			targets:    twoJobs,
			jobMetrics: map[string][]string{"a": {"orders_total"}, "b": {"jobs_total", "payments_total"}},
			rules:      []analyze.Rule{alert("PaymentsMissing", `absent(payments_total{job="a"})`)},
		}, []string{}},
		{"An absent() on a metric no job was asked about covers the job, even when other metrics of it were read.", world{
			targets:    twoJobs,
			jobMetrics: map[string][]string{"a": {"node_exporter_build_info"}, "b": {"jobs_total"}},
			rules:      []analyze.Rule{alert("NodeLoadMissing", `absent(node_load1{job="a"})`)},
		}, []string{"a"}},
		{"An absent() on any metric covers a job whose metrics were not read.", world{
			targets:    twoJobs,
			jobMetrics: map[string][]string{"b": {"jobs_total"}},
			rules:      []analyze.Rule{alert("PaymentsMissing", `absent(payments_total{job="a"})`)},
		}, []string{"a"}},
		{"A job known only from its metrics counts when deciding that a regex matches one job.", world{
			targets:    oneJob,
			jobMetrics: map[string][]string{"a2": {"orders_total"}},
			rules:      []analyze.Rule{alert("Missing", `absent(up{job=~"a.*"})`)},
		}, []string{}},
		{"up == 0 is no absence alert.", world{rules: []analyze.Rule{alert("Down", `up{job="a"} == 0`)}}, []string{}},
		{"count(up{job=\"a\"}) < 1 returns nothing when a vanishes and is no absence alert.", world{rules: []analyze.Rule{alert("Few", `count(up{job="a"}) < 1`)}}, []string{}},
		{"An unparseable alert is ignored.", world{rules: []analyze.Rule{alert("Broken", `absent(up{job="a"}`)}}, []string{}},
	}
	runCoverageTests(t, tests, absentAlerts, alert("Missing", `absent(up{job="a"})`))

	t.Run("An alert with two absent() calls covers both jobs, once each.", func(t *testing.T) {
		inv := world{rules: []analyze.Rule{alert("Missing", `absent(up{job="a"}) or absent(up{job="b"}) or absent(up{job="a"})`)}}.build()
		a := Analyze(inv, Options{})
		if got := a.Job("a").AbsentAlerts; len(got) != 1 || got[0].Name != "Missing" {
			t.Errorf("a: %+v", got)
		}
		if got := a.Job("b").AbsentAlerts; len(got) != 1 {
			t.Errorf("b: %+v", got)
		}
	})
}

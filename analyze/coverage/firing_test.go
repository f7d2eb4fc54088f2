package coverage

import (
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
)

// failingRule is a rule the server reported as failing every evaluation (rules/broken).
func failingRule(r analyze.Rule) analyze.Rule {
	r.Health, r.LastError = "err", "found duplicate series for the match group"
	return r
}

// joinWorld: job node runs a node exporter (node_uname_info, node_load1), job api exposes
// http_requests_total; both have one target.
func joinWorld(rules ...analyze.Rule) world {
	return world{
		targets: []analyze.Target{target("api", "api-1:8080"), target("node", "node-1:9100")},
		jobMetrics: map[string][]string{
			"node": {"node_load1", "node_uname_info"},
			"api":  {"http_requests_total"},
		},
		rules: rules,
	}
}

func TestRulesThatCannotFire(t *testing.T) {
	tests := []struct {
		name string
		w    world
		refs func(JobCoverage) []RuleRef
		want []string
	}{
		{"An up alert whose health is err covers no job.", world{rules: []analyze.Rule{failingRule(alert("Down", `up == 0`))}}, upAlerts, []string{}},
		{"An absence alert whose health is err covers no job.", world{rules: []analyze.Rule{failingRule(alert("AMissing", `absent(up{job="a"})`))}}, absentAlerts, []string{}},
		{"An alert whose health is ok or unknown covers as usual.", world{rules: []analyze.Rule{
			func() analyze.Rule { r := alert("Down", `up{job="a"} == 0`); r.Health = "ok"; return r }(),
			func() analyze.Rule { r := alert("Down", `up{job="b"} == 0`); r.Health = "unknown"; return r }(),
		}}, upAlerts, []string{"a", "b"}},
		{"An alert on a recording rule whose health is err covers no job.", world{rules: []analyze.Rule{
			failingRule(record("job:up:avg", `avg by (job) (up)`)),
			alert("Down", `job:up:avg < 0.5`),
		}}, upAlerts, []string{}},
		{"A recording rule that fails beside a healthy one producing the same metric still feeds the alert.", world{rules: []analyze.Rule{
			failingRule(record("job:up:avg", `avg by (job) (up{job="a"})`)),
			record("job:up:avg", `avg by (job) (up{job="b"})`),
			alert("Down", `job:up:avg < 0.5`),
		}}, upAlerts, []string{"b"}},

		{"A join on instance with a metric the job does not expose covers only the jobs that expose it.", joinWorld(
			alert("InstanceDown", `(up == 0) * on(instance) group_left(nodename) node_uname_info`),
		), upAlerts, []string{"node"}},
		{"A group_right(job) join on instance with a metric the job does not expose covers only the jobs that expose it.", joinWorld(
			alert("InstanceDown", `(up == 0) * on(instance) group_right(job) node_uname_info`),
		), upAlerts, []string{"node"}},
		{"An and on(instance) with a metric the job does not expose covers only the jobs that expose it.", joinWorld(
			alert("InstanceDown", `up == 0 and on(instance) node_load1`),
		), upAlerts, []string{"node"}},
		{"A join with a metric the job exposes covers it.", joinWorld(
			alert("InstanceDown", `(up{job="node"} == 0) * on(instance) group_left(nodename) node_uname_info`),
		), upAlerts, []string{"node"}},
		{"A join on instance after aggregating the other metric by instance keeps to the jobs exposing it.", joinWorld(
			alert("InstanceDown", `up == 0 and on(instance) max by (instance) (node_load1)`),
		), upAlerts, []string{"node"}},
		{"A join with the other metric's job matchers excluding the job does not cover it.", joinWorld(
			alert("InstanceDown", `up == 0 and on(instance) http_requests_total{job="api"}`),
		), upAlerts, []string{"api"}},
		{"A join with a metric no job was asked about covers every job (documented limit).", joinWorld(
			alert("InstanceDown", `up == 0 and on(instance) node_boot_time_seconds`),
		), upAlerts, []string{"api", "node"}},
		{"A join on a label that does not name a target, cluster, is not narrowed.", joinWorld(
			alert("ClusterDown", `up == 0 and on(cluster) node_load1`),
		), upAlerts, []string{"api", "node"}},
		{"A join with a metric the server does not have covers no job.", func() world {
			w := joinWorld(alert("InstanceDown", `up == 0 and on(instance) node_boot_time_seconds`))
			w.metricNames = []string{"http_requests_total", "node_load1", "node_uname_info", "up"}
			return w
		}(), upAlerts, []string{}},
		{"A join with a selector naming no metric is not narrowed, even when the server's metric names are known.", func() world {
			w := joinWorld(alert("InstanceDown", `up == 0 and on(instance) {__name__=~"node_.+"}`))
			w.metricNames = []string{"http_requests_total", "node_load1", "node_uname_info", "up"}
			return w
		}(), upAlerts, []string{"api", "node"}},
		{"or with a metric the job does not expose still covers: it needs no match.", joinWorld(
			alert("InstanceDown", `up == 0 or on(instance) node_load1 > 10`),
		), upAlerts, []string{"api", "node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coveredJobs(tt.w.build(), tt.refs); !slices.Equal(got, tt.want) {
				t.Errorf("covered = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("A failing alert still names the jobs it reads, for routing.", func(t *testing.T) {
		inv := world{rules: []analyze.Rule{failingRule(alert("ADown", `up{job="a"} == 0`))}}.build()
		a := Analyze(inv, Options{})
		r := &inv.RuleGroups[0].Rules[0]
		if got := a.JobsOf(r); !slices.Equal(got, []string{"a"}) {
			t.Errorf("JobsOf = %q, want [a]", got)
		}
		if got := a.Job("a").UpAlerts; len(got) != 0 {
			t.Errorf("up alerts of a = %+v, want none", got)
		}
	})
}

package analyze_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

var collectedAt = time.Date(2026, 11, 26, 2, 59, 58, 0, time.UTC)

func target(job, pool, instance string, health analyze.Health) analyze.Target {
	return analyze.Target{
		Job: job, ScrapePool: pool, Instance: instance, Health: health,
		ScrapeURL: "http://" + instance + "/metrics",
		Labels:    map[string]string{"job": job, "instance": instance},
	}
}

func mustJob(t *testing.T, inv *analyze.Inventory, name string) analyze.Job {
	t.Helper()
	j := inv.Job(name)
	if j == nil {
		t.Fatalf("no job %q among %v", name, jobNames(inv))
	}
	return *j
}

func jobNames(inv *analyze.Inventory) []string {
	var names []string
	for _, j := range inv.Jobs {
		names = append(names, j.Name)
	}
	return names
}

func TestBuilder(t *testing.T) {
	t.Run("Jobs are the job labels of targets, plus the pools without targets whose configuration fixes the job label.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddConfiguredJob("node", []string{"static"}, 2)
		b.AddConfiguredJob("blackbox", []string{"file"}, 0)
		b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthDown))
		b.AddTarget(target("pushgateway", "pushgateway", "pgw:9091", analyze.HealthUnknown))
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp))
		b.AddTarget(target("node", "node", "10.0.0.3:9100", analyze.HealthUp))
		inv := b.Build()

		if got, want := jobNames(inv), []string{"blackbox", "node", "pushgateway"}; !slices.Equal(got, want) {
			t.Fatalf("jobs = %v, want %v", got, want)
		}
		node := mustJob(t, inv, "node")
		if !node.Configured || !slices.Equal(node.Pools, []string{"node"}) || node.Up != 2 || node.Down != 1 || node.Unknown != 0 ||
			node.Active() != 3 || node.RelabelRules != 2 || !slices.Equal(node.SDKinds, []string{"static"}) {
			t.Errorf("node = %+v", node)
		}
		blackbox := mustJob(t, inv, "blackbox")
		if !blackbox.Configured || !slices.Equal(blackbox.Pools, []string{"blackbox"}) || blackbox.Active() != 0 ||
			!slices.Equal(blackbox.SDKinds, []string{"file"}) {
			t.Errorf("blackbox = %+v", blackbox)
		}
		pgw := mustJob(t, inv, "pushgateway")
		if pgw.Configured || !slices.Equal(pgw.Pools, []string{"pushgateway"}) || pgw.Unknown != 1 || pgw.Active() != 1 {
			t.Errorf("pushgateway = %+v", pgw)
		}
		if p := inv.Pool("node"); p == nil || p.Active != 3 || p.JobLabel != "node" || !slices.Equal(p.Jobs, []string{"node"}) {
			t.Errorf("pool node = %+v", p)
		}
	})

	t.Run("An operator pool is not a job: its targets give the jobs, with the pool's configuration.", func(t *testing.T) {
		const pool = "podMonitor/monitoring/workers/0"
		b := analyze.NewBuilder(collectedAt)
		b.AddScrapeConfig(pool, "", []string{"kubernetes"}, 9)
		b.SetDropped(pool, 4)
		b.AddTarget(target("worker-a", pool, "10.1.0.7:8080", analyze.HealthUp))
		b.AddTarget(target("worker-a", pool, "10.1.0.8:8080", analyze.HealthDown))
		b.AddTarget(target("worker-b", pool, "10.1.0.9:8080", analyze.HealthUp))
		inv := b.Build()

		if got, want := jobNames(inv), []string{"worker-a", "worker-b"}; !slices.Equal(got, want) {
			t.Fatalf("jobs = %v, want %v", got, want)
		}
		a := mustJob(t, inv, "worker-a")
		if !a.Configured || !slices.Equal(a.Pools, []string{pool}) || a.Up != 1 || a.Down != 1 || a.Dropped != 4 ||
			a.RelabelRules != 9 || !slices.Equal(a.SDKinds, []string{"kubernetes"}) {
			t.Errorf("worker-a = %+v", a)
		}
		p := inv.Pool(pool)
		if p == nil || !p.Configured || p.Active != 3 || p.Dropped != 4 || !slices.Equal(p.Jobs, []string{"worker-a", "worker-b"}) {
			t.Errorf("pool = %+v", p)
		}
	})

	t.Run("A pool without targets whose job label relabeling decides is a pool, not a job.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddScrapeConfig("serviceMonitor/monitoring/app/0", "", []string{"kubernetes"}, 7)
		b.SetDropped("serviceMonitor/monitoring/app/0", 2)
		inv := b.Build()
		if len(inv.Jobs) != 0 {
			t.Errorf("jobs = %v, want none", jobNames(inv))
		}
		if p := inv.Pool("serviceMonitor/monitoring/app/0"); p == nil || p.Active != 0 || p.Dropped != 2 || p.JobLabel != "" {
			t.Errorf("pool = %+v", p)
		}
	})

	t.Run("Targets and dropped targets without a job label never make a job named \"\".", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddScrapeConfig("odd", "", []string{"static"}, 1)
		b.AddTarget(target("", "odd", "10.0.0.1:80", analyze.HealthUp))
		b.SetDropped("", 3)
		inv := b.Build()
		if len(inv.Jobs) != 0 {
			t.Errorf("jobs = %q, want none", jobNames(inv))
		}
		if p := inv.Pool("odd"); p == nil || p.Active != 1 || len(p.Jobs) != 0 {
			t.Errorf("pool = %+v", p)
		}
		if inv.Pool("") != nil {
			t.Errorf("pools = %+v, want no pool named \"\"", inv.Pools)
		}
	})

	t.Run("Dropped counts under a name the configuration does not have are not a pool.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddConfiguredJob("node", []string{"static"}, 0)
		b.SetDropped("set-by-file-sd", 3) // 2.x: the job label a file_sd target carried
		inv := b.Build()
		if inv.Pool("set-by-file-sd") != nil || inv.Job("set-by-file-sd") != nil {
			t.Errorf("pools = %+v, jobs = %v", inv.Pools, jobNames(inv))
		}
	})

	t.Run("Dropped target counts go to the job of their scrape pool.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddConfiguredJob("node", []string{"static"}, 0)
		b.AddConfiguredJob("kubernetes-pods", []string{"kubernetes"}, 3)
		b.SetDropped("kubernetes-pods", 12)
		b.SetDropped("node", 0)
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp))
		inv := b.Build()

		if got := mustJob(t, inv, "kubernetes-pods").Dropped; got != 12 {
			t.Errorf("kubernetes-pods dropped %d, want 12", got)
		}
		if got := mustJob(t, inv, "node").Dropped; got != 0 {
			t.Errorf("node dropped %d, want 0", got)
		}
		if got, want := jobNames(inv), []string{"kubernetes-pods", "node"}; !slices.Equal(got, want) {
			t.Errorf("jobs = %v, want %v", got, want)
		}
	})

	t.Run("The last dropped count set for a pool wins.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddConfiguredJob("node", nil, 0)
		b.SetDropped("node", 4)
		b.SetDropped("node", 5)
		if got := mustJob(t, b.Build(), "node").Dropped; got != 5 {
			t.Errorf("dropped %d, want 5", got)
		}
	})

	t.Run("Targets, rule groups, metric names and parts come out sorted whatever the order they were added in.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartBuildInfo)
		b.AddPart(analyze.PartTargets)
		b.AddPart(analyze.PartRules)
		b.AddPart(analyze.PartTargets)
		b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthUp))
		b.AddTarget(target("api", "api", "10.0.0.9:80", analyze.HealthUp))
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp))
		b.AddRuleGroup(analyze.RuleGroup{Name: "b", File: "z.yml"})
		b.AddRuleGroup(analyze.RuleGroup{Name: "b", File: "a.yml"})
		b.AddRuleGroup(analyze.RuleGroup{Name: "a", File: "z.yml"})
		b.AddMetricNames([]string{"up", "node_load1"})
		b.AddMetricNames([]string{"up", "go_goroutines"})
		inv := b.Build()

		var targets []string
		for _, tg := range inv.Targets {
			targets = append(targets, tg.Job+"/"+tg.Instance)
		}
		if want := []string{"api/10.0.0.9:80", "node/10.0.0.1:9100", "node/10.0.0.2:9100"}; !slices.Equal(targets, want) {
			t.Errorf("targets = %v, want %v", targets, want)
		}
		var groups []string
		for _, g := range inv.RuleGroups {
			groups = append(groups, g.File+":"+g.Name)
		}
		if want := []string{"a.yml:b", "z.yml:a", "z.yml:b"}; !slices.Equal(groups, want) {
			t.Errorf("rule groups = %v, want %v", groups, want)
		}
		if want := []string{"go_goroutines", "node_load1", "up"}; !slices.Equal(inv.MetricNames, want) {
			t.Errorf("metric names = %v, want %v", inv.MetricNames, want)
		}
		if want := []analyze.Part{analyze.PartTargets, analyze.PartRules, analyze.PartBuildInfo}; !slices.Equal(inv.Parts, want) {
			t.Errorf("parts = %v, want %v", inv.Parts, want)
		}
		if !inv.Has(analyze.PartRules) || inv.Has(analyze.PartConfig) {
			t.Errorf("Has: rules %v, config %v", inv.Has(analyze.PartRules), inv.Has(analyze.PartConfig))
		}
		if !inv.CollectedAt.Equal(collectedAt) {
			t.Errorf("collected at %v", inv.CollectedAt)
		}
	})

	t.Run("Changing the caller's slices after adding them does not change the inventory.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		sd := []string{"kubernetes"}
		b.AddConfiguredJob("pods", sd, 0)
		sd[0] = "changed"
		if got := mustJob(t, b.Build(), "pods").SDKinds; !slices.Equal(got, []string{"kubernetes"}) {
			t.Errorf("SDKinds = %v", got)
		}
	})

	t.Run("An empty builder gives an empty inventory.", func(t *testing.T) {
		inv := analyze.NewBuilder(collectedAt).Build()
		if len(inv.Jobs)+len(inv.Targets)+len(inv.RuleGroups)+len(inv.MetricNames)+len(inv.Parts) != 0 {
			t.Errorf("inventory = %+v", inv)
		}
		if inv.Job("node") != nil {
			t.Error("Job found a job in an empty inventory")
		}
	})
}

func TestInventory(t *testing.T) {
	b := analyze.NewBuilder(collectedAt)
	for _, name := range []string{"node", "api", "blackbox", "zeta", "kubernetes-pods"} {
		b.AddConfiguredJob(name, nil, 0)
	}
	b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp))
	b.AddTarget(target("api", "api", "10.0.0.9:80", analyze.HealthDown))
	b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthDown))
	b.AddRuleGroup(analyze.RuleGroup{Name: "g2", File: "b.yml", Rules: []analyze.Rule{{Name: "C"}}})
	b.AddRuleGroup(analyze.RuleGroup{Name: "g1", File: "a.yml", Rules: []analyze.Rule{{Name: "A"}, {Name: "B"}}})
	inv := b.Build()

	t.Run("Job finds every job by name and returns nil for an unknown one.", func(t *testing.T) {
		for _, name := range []string{"api", "blackbox", "kubernetes-pods", "node", "zeta"} {
			if j := inv.Job(name); j == nil || j.Name != name {
				t.Errorf("Job(%q) = %+v", name, j)
			}
		}
		for _, name := range []string{"", "a", "nod", "node2", "zz"} {
			if j := inv.Job(name); j != nil {
				t.Errorf("Job(%q) = %+v, want nil", name, j)
			}
		}
	})

	t.Run("TargetsOf returns the targets labelled with a job.", func(t *testing.T) {
		var got []string
		for _, tg := range inv.TargetsOf("node") {
			got = append(got, tg.Instance)
		}
		if want := []string{"10.0.0.1:9100", "10.0.0.2:9100"}; !slices.Equal(got, want) {
			t.Errorf("TargetsOf(node) = %v, want %v", got, want)
		}
		if got := inv.TargetsOf("blackbox"); len(got) != 0 {
			t.Errorf("TargetsOf(blackbox) = %v", got)
		}
	})

	t.Run("Rules lists the rules of every group in group order.", func(t *testing.T) {
		var got []string
		for _, r := range inv.Rules() {
			got = append(got, r.Name)
		}
		if want := []string{"A", "B", "C"}; !slices.Equal(got, want) {
			t.Errorf("Rules = %v, want %v", got, want)
		}
	})

	t.Run("A source is OK until it records an error; a missing part is not an error.", func(t *testing.T) {
		s := analyze.Source{Name: "prometheus", Missing: []analyze.MissingPart{{Part: analyze.PartConfig, Reason: "404"}}}
		if !s.OK() {
			t.Error("a source with only a missing part is not OK")
		}
		s.Errors = append(s.Errors, analyze.SourceError{Part: analyze.PartRules, Err: "timeout"})
		if s.OK() {
			t.Error("a source with an error is OK")
		}
	})
}

func TestNewRule(t *testing.T) {
	t.Run("A valid expression is parsed and has no parse error.", func(t *testing.T) {
		r := analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "Down", Expr: `up{job="node"} == 0`})
		if r.Parsed == nil || r.ParseError != "" {
			t.Fatalf("Parsed %v, ParseError %q", r.Parsed, r.ParseError)
		}
		if got := r.Parsed.String(); got != `up{job="node"} == 0` {
			t.Errorf("Parsed = %s", got)
		}
		if r.Name != "Down" || r.Kind != analyze.RuleAlerting {
			t.Errorf("other fields changed: %+v", r)
		}
	})

	t.Run("An invalid expression records the parser's error instead of failing.", func(t *testing.T) {
		r := analyze.NewRule(analyze.Rule{Name: "Broken", Expr: `rate(http_requests_total[5m]`})
		if r.Parsed != nil {
			t.Errorf("Parsed = %v, want nil", r.Parsed)
		}
		if !strings.Contains(r.ParseError, "unclosed left parenthesis") {
			t.Errorf("ParseError = %q", r.ParseError)
		}
		if r.Expr != `rate(http_requests_total[5m]` {
			t.Errorf("Expr changed to %q", r.Expr)
		}
	})

	t.Run("An empty expression is a parse error.", func(t *testing.T) {
		if r := analyze.NewRule(analyze.Rule{Name: "Empty"}); r.ParseError == "" || r.Parsed != nil {
			t.Errorf("empty expression: Parsed %v, ParseError %q", r.Parsed, r.ParseError)
		}
	})

	t.Run("Experimental functions parse, as a server with them enabled loads them.", func(t *testing.T) {
		if _, err := analyze.ParseExpr(`mad_over_time(node_load1[1h])`); err != nil {
			t.Errorf("ParseExpr: %v", err)
		}
	})
}

package checks_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
	"github.com/blindspot-dev/blindspot/internal/invgen"
)

var collectedAt = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// newBuilder starts an inventory that holds the given parts; checks see inventories only as
// the Builder makes them, so the tests build them the same way.
func newBuilder(parts ...analyze.Part) *analyze.Builder {
	b := analyze.NewBuilder(collectedAt)
	for _, p := range parts {
		b.AddPart(p)
	}
	return b
}

// jobsUp starts an inventory holding parts with the jobs api and node, each with one up
// target.
func jobsUp(parts ...analyze.Part) *analyze.Builder {
	b := newBuilder(parts...)
	b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
	b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthUp, ""))
	return b
}

func target(job, pool, instance string, health analyze.Health, lastError string) analyze.Target {
	return analyze.Target{
		Job: job, ScrapePool: pool, Instance: instance, Health: health, LastError: lastError,
		ScrapeURL: "http://" + instance + "/metrics",
		Labels:    map[string]string{"job": job, "instance": instance},
	}
}

func only(t *testing.T, fs []analyze.Finding) analyze.Finding {
	t.Helper()
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(fs), fs)
	}
	return fs[0]
}

func TestTargetsDown(t *testing.T) {
	t.Run("A target whose last scrape failed is reported with its error.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets)
		down := target("payments-api", "kubernetes-pods", "10.0.0.7:8080", analyze.HealthDown, "connection refused")
		down.LastScrape = time.Date(2026, 11, 26, 2, 59, 30, 0, time.FixedZone("CET", 3600))
		down.LastScrapeDuration = 1500 * time.Millisecond
		b.AddTarget(down)
		f := only(t, runOne(checks.TargetsDown{}, b.Build()))

		if checks.TargetsDownName != "targets/down" || f.Check != checks.TargetsDownName || f.Severity != analyze.Critical {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		wantSubject := map[string]string{"job": "payments-api", "instance": "10.0.0.7:8080"}
		if !maps.Equal(f.Subject, wantSubject) {
			t.Errorf("subject = %v, want %v", f.Subject, wantSubject)
		}
		if f.ID != analyze.FindingID("targets/down", wantSubject) {
			t.Errorf("ID %s is not the fingerprint of check and subject", f.ID)
		}
		if want := `target 10.0.0.7:8080 of job "payments-api" is down: connection refused`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		wantDetails := map[string]string{
			"scrape_pool":                  "kubernetes-pods",
			"scrape_url":                   "http://10.0.0.7:8080/metrics",
			"last_error":                   "connection refused",
			"last_scrape":                  "2026-11-26T01:59:30Z",
			"last_scrape_duration_seconds": "1.5",
		}
		if !maps.Equal(f.Details, wantDetails) {
			t.Errorf("details = %v, want %v", f.Details, wantDetails)
		}
	})

	t.Run("A down target without an error says so instead of ending the message on a colon.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets)
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthDown, ""))
		f := only(t, runOne(checks.TargetsDown{}, b.Build()))
		if want := `target 10.0.0.1:9100 of job "node" is down: no error reported`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		if v, ok := f.Details["last_error"]; !ok || v != "" {
			t.Errorf("last_error detail = %q (present %v), want the empty error as reported", v, ok)
		}
		if _, ok := f.Details["last_scrape"]; ok {
			t.Errorf("a target never scraped has a last_scrape detail: %v", f.Details)
		}
	})

	t.Run("Only down targets are reported: up and unknown ones are not.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets)
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
		b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthUnknown, ""))
		b.AddTarget(target("node", "node", "10.0.0.3:9100", analyze.HealthDown, "context deadline exceeded"))
		b.AddTarget(target("api", "api", "10.0.0.9:80", analyze.HealthUp, "stale error from an earlier scrape"))
		f := only(t, runOne(checks.TargetsDown{}, b.Build()))
		if f.Subject["instance"] != "10.0.0.3:9100" {
			t.Errorf("reported %v", f.Subject)
		}
	})

	t.Run("Two down targets of one job are two findings with different IDs.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets)
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthDown, "x"))
		b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthDown, "x"))
		fs := runOne(checks.TargetsDown{}, b.Build())
		if len(fs) != 2 || fs[0].ID == fs[1].ID {
			t.Errorf("findings = %+v", fs)
		}
	})
}

func TestJobsNoTargets(t *testing.T) {
	run := func(b *analyze.Builder) []analyze.Finding { return runOne(checks.JobsNoTargets{}, b.Build()) }

	t.Run("A scrape pool whose service discovery found nothing is reported as the pool, with cause discovery.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartConfig)
		b.AddConfiguredJob("blackbox", []string{"file", "dns"}, 1)
		f := only(t, run(b))
		if checks.JobsNoTargetsName != "jobs/no-targets" || f.Check != checks.JobsNoTargetsName || f.Severity != analyze.Warning {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		if !maps.Equal(f.Subject, map[string]string{"scrape_pool": "blackbox"}) {
			t.Errorf("subject = %v", f.Subject)
		}
		if want := `scrape pool "blackbox" has no targets: service discovery (file, dns) returned nothing`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		// The configuration fixes the job label of the pool's targets: the details say which.
		want := map[string]string{"cause": "discovery", "sd": "file,dns", "dropped": "0", "relabel_rules": "1", "job": "blackbox"}
		if !maps.Equal(f.Details, want) {
			t.Errorf("details = %v, want %v", f.Details, want)
		}
	})

	t.Run("A configured job without any service discovery says none is configured.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartConfig)
		b.AddConfiguredJob("empty", nil, 0)
		f := only(t, run(b))
		if want := `scrape pool "empty" has no targets: service discovery (none configured) returned nothing`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
	})

	t.Run("A scrape pool whose discovered targets relabeling dropped is reported with cause relabeling.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartConfig)
		b.AddScrapeConfig("kubernetes-pods", "", []string{"kubernetes"}, 3)
		b.SetDropped("kubernetes-pods", 12)
		f := only(t, run(b))
		if !maps.Equal(f.Subject, map[string]string{"scrape_pool": "kubernetes-pods"}) {
			t.Errorf("subject = %v", f.Subject)
		}
		if want := `scrape pool "kubernetes-pods" has no targets: relabeling dropped all 12 discovered targets`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		want := map[string]string{"cause": "relabeling", "sd": "kubernetes", "dropped": "12", "relabel_rules": "3"}
		if !maps.Equal(f.Details, want) {
			t.Errorf("details = %v, want %v", f.Details, want)
		}
	})

	t.Run("A single dropped target is named in the singular.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartConfig)
		b.AddConfiguredJob("node", []string{"static"}, 1)
		b.SetDropped("node", 1)
		f := only(t, run(b))
		if want := `scrape pool "node" has no targets: relabeling dropped the only discovered target`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
	})
}

// needsMetadata stands for any check that needs a part the test inventories lack.
type needsMetadata struct{}

func (needsMetadata) Meta() checks.Meta {
	return checks.Meta{ID: "test/needs-metadata", Severity: analyze.Info, Requires: []analyze.Part{analyze.PartMetadata}}
}
func (needsMetadata) Run(*analyze.Inventory, *checks.Derived) []analyze.Finding {
	panic("ran without its part")
}

func TestRun(t *testing.T) {
	t.Run("The registry lists every check in report order.", func(t *testing.T) {
		want := []string{
			"targets/down", "jobs/no-targets", "jobs/vanished", "probes/failing",
			"alerts/missing-up", "alerts/missing-absent", "alerts/missing-business", "business/flatlined", "business/stale-success",
			"rules/unknown-metric", "rules/broken", "alerts/no-runbook", "alerts/broken-runbook", "alerts/no-severity",
			"alerts/never-fired", "alerts/always-firing", "alerts/flapping",
			"logs/unaggregated", "logs/secrets", "logs/stopped", "dashboards/missing",
			"alertmanager/not-connected", "alerts/unrouted", "alerts/silenced", "alertmanager/no-watchdog", "alerts/no-owner",
			"workloads/unscraped", "services/unscraped", "namespaces/unmonitored", "pods/not-ready-unalerted", "pods/crashloop-unalerted",
			"pods/not-ready", "pods/crashlooping",
		}
		if got := checks.Names(checks.All(checks.Options{})); !slices.Equal(got, want) {
			t.Errorf("Names(All()) = %v, want %v", got, want)
		}
	})

	t.Run("A check whose parts are missing does not run and is listed as skipped with what it lacked.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets)
		b.AddConfiguredJob("blackbox", nil, 0) // would be a finding if the config part counted
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthDown, "connection refused"))
		res := checks.Run(b.Build(), nil, []checks.Check{checks.TargetsDown{}, checks.JobsNoTargets{}, needsMetadata{}}, checks.Policy{})

		if f := only(t, res.Findings); f.Check != "targets/down" {
			t.Errorf("finding from %s", f.Check)
		}
		want := []checks.Skipped{
			{Check: "jobs/no-targets", Missing: []analyze.Part{analyze.PartConfig}},
			{Check: "test/needs-metadata", Missing: []analyze.Part{analyze.PartMetadata}},
		}
		if !slices.EqualFunc(res.Skipped, want, func(a, b checks.Skipped) bool {
			return a.Check == b.Check && slices.Equal(a.Missing, b.Missing)
		}) {
			t.Errorf("skipped = %+v, want %+v", res.Skipped, want)
		}
	})

	t.Run("Without any part every check is skipped, each listing all the parts it lacked.", func(t *testing.T) {
		all := checks.All(checks.Options{})
		res := checks.Run(newBuilder().Build(), nil, all, checks.Policy{})
		if len(res.Findings) != 0 {
			t.Errorf("findings = %+v", res.Findings)
		}
		if len(res.Skipped) != len(all) {
			t.Fatalf("skipped = %+v, want every check", res.Skipped)
		}
		for i, c := range all {
			if m := c.Meta(); res.Skipped[i].Check != m.ID || !slices.Equal(res.Skipped[i].Missing, m.Requires) {
				t.Errorf("skipped[%d] = %+v, want %s lacking %v", i, res.Skipped[i], m.ID, m.Requires)
			}
		}
	})

	t.Run("A healthy inventory has no findings and skips nothing.", func(t *testing.T) {
		b := newBuilder(analyze.AllPrometheusParts...)
		b.AddConfiguredJob("node", []string{"static"}, 0)
		b.AddConfiguredJob("kubernetes-pods", []string{"kubernetes"}, 3)
		b.SetDropped("kubernetes-pods", 9)
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
		b.AddTarget(target("payments-api", "kubernetes-pods", "10.1.0.7:8080", analyze.HealthUp, ""))
		b.AddMetricNames([]string{"up"})
		for _, p := range analyze.AllLokiParts {
			b.AddPart(p)
		}
		b.SetLogs(analyze.Logs{Window: time.Hour, Streams: []analyze.LogStream{
			{Labels: map[string]string{"job": "node"}, Selector: `{job="node"}`, Entries: -1},
			{Labels: map[string]string{"job": "payments-api"}, Selector: `{job="payments-api"}`, Entries: -1},
		}})
		alert := func(name, expr string) analyze.Rule {
			return analyze.NewRule(analyze.Rule{
				Kind: analyze.RuleAlerting, Name: name, Expr: expr, Group: "availability", Health: "ok",
				Labels:      map[string]string{"severity": "critical"},
				Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/" + name},
			})
		}
		b.AddRuleGroup(analyze.RuleGroup{Name: "availability", Language: "promql", Rules: []analyze.Rule{
			alert("TargetDown", "up == 0"),
			alert("NodeAbsent", `absent(up{job="node"})`),
			alert("PaymentsAbsent", `absent(up{job="payments-api"})`),
			alert("PodsAbsent", `absent_over_time(up{job="kubernetes-pods"}[10m])`),
			alert("Watchdog", `vector(1)`),
		}})
		b.AddPart(analyze.PartDashboards)
		b.AddPart(analyze.PartHistory)
		b.AddPart(analyze.PartLogHistory)
		b.SetLogHistory(analyze.LogHistory{Silence: time.Hour, Jobs: []analyze.JobLogHistory{{Job: "node", LastLine: collectedAt, Lines: 90, Recent: 4}}})
		b.AddPart(analyze.PartRunbookLinks)
		b.AddPart(analyze.PartKubernetes)
		cfg, err := amconfig.Load(`
route:
  receiver: pager
  routes: [{matchers: ['alertname="Watchdog"'], receiver: heartbeat}, {matchers: ['severity="critical"'], receiver: pager}]
receivers:
  - {name: pager, pagerduty_configs: [{routing_key: "0123456789abcdef0123456789abcdef"}]}
  - {name: heartbeat, webhook_configs: [{url: "http://deadmanssnitch.example/ping"}]}
`)
		if err != nil {
			t.Fatal(err)
		}
		b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts", Active: true})
		b.SetAlertmanagerStatus(cfg, "http://am:9093", "", "")
		for _, p := range analyze.AllAlertmanagerParts {
			b.AddPart(p)
		}
		board := analyze.Dashboard{UID: "all", Queries: []analyze.DashboardQuery{dashboard.NewQuery("Up", `up{job=~"node|payments-api"}`)}}
		inv := withDashboards(b.Build(), []analyze.Dashboard{board})
		var links []analyze.RunbookLink
		for _, r := range inv.Rules() {
			u := r.Annotations["runbook_url"]
			links = append(links, analyze.RunbookLink{Link: u, URL: u, Status: 200})
		}
		inv.SetRunbookLinks(links)
		res := checks.Run(inv, checks.Derive(inv, checks.Options{}), checks.All(checks.Options{}), checks.Policy{})
		if len(res.Findings) != 0 || len(res.Skipped) != 0 {
			t.Errorf("result = %+v", res)
		}
	})

	t.Run("Findings of all checks come out sorted by job or scrape pool, then check.", func(t *testing.T) {
		b := newBuilder(analyze.PartTargets, analyze.PartConfig)
		b.AddConfiguredJob("zeta", nil, 0)
		b.AddConfiguredJob("alpha", nil, 0)
		b.AddConfiguredJob("node", []string{"static"}, 0)
		b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthDown, "x"))
		b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthDown, "x"))
		b.AddTarget(target("beta", "beta", "10.0.0.5:80", analyze.HealthDown, "x"))
		res := checks.Run(b.Build(), nil, []checks.Check{checks.TargetsDown{}, checks.JobsNoTargets{}}, checks.Policy{})
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Subject["job"]+f.Subject["scrape_pool"]+" "+f.Check+" "+f.Subject["instance"])
		}
		want := []string{
			"alpha jobs/no-targets ",
			"beta targets/down 10.0.0.5:80",
			"node targets/down 10.0.0.1:9100",
			"node targets/down 10.0.0.2:9100",
			"zeta jobs/no-targets ",
		}
		if !slices.Equal(got, want) {
			t.Errorf("order = %q, want %q", got, want)
		}
	})
}

// BenchmarkAudit runs every check over a large setup: 1,000 jobs, 10,000 targets, 5,000 rules
// and 100,000 metric names, the coverage matrix included.
func BenchmarkAudit(b *testing.B) {
	inv := invgen.Inventory(1000, 10, 5000, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		d := checks.Derive(inv, checks.Options{})
		res := checks.Run(inv, d, checks.All(checks.Options{}), checks.Policy{})
		if len(d.Matrix) != 1000 || len(res.Findings) == 0 {
			b.Fatal("the audit saw nothing")
		}
	}
}

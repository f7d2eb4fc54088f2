package report_test

import (
	"slices"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

func TestPagesColumn(t *testing.T) {
	t.Run("With the Alertmanager's configuration, a job whose up alert reaches a pager pages someone and one routed to a null receiver does not.", func(t *testing.T) {
		cfg, err := amconfig.Load(`
route:
  receiver: blackhole
  routes: [{matchers: ['job="api"'], receiver: pager}]
receivers:
  - {name: blackhole}
  - {name: pager, webhook_configs: [{url: "http://pager.example/hook"}]}
`)
		if err != nil {
			t.Fatal(err)
		}
		b := analyze.NewBuilder(collectedAt)
		for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartRules, analyze.PartAlertmanagerConfig} {
			b.AddPart(p)
		}
		b.SetAlertmanagerStatus(cfg, "http://am:9093", "", "")
		for _, job := range []string{"api", "batch"} {
			b.AddTarget(analyze.Target{Job: job, ScrapePool: job, Instance: job + ":80", Health: analyze.HealthUp, Labels: map[string]string{"job": job, "instance": job + ":80"}})
		}
		b.AddRuleGroup(analyze.RuleGroup{Name: "g", Language: "promql", Rules: []analyze.Rule{
			analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "Down", Expr: `up == 0`, Group: "g", Labels: map[string]string{"severity": "critical"}}),
		}})
		inv := b.Build()
		all := auditChecks()
		d := checks.Derive(inv, checks.Options{})
		if d.Pages == nil {
			t.Fatal("routing unknown with the Alertmanager configuration read")
		}
		rep := report.Build(report.Input{Inventory: inv, Result: checks.Run(inv, d, all, checks.Policy{Now: generatedAt}), Checks: all, Matrix: d.Matrix, Pages: d.Pages, Now: generatedAt})
		if got := row(t, rep, "api"); !slices.Equal(got.Pages, []string{"pager"}) || slices.Contains(got.Unknown, report.UnknownPages) {
			t.Errorf("api pages %q, unknown %q", got.Pages, got.Unknown)
		}
		if got := row(t, rep, "batch"); len(got.Pages) != 0 || got.Pages == nil {
			t.Errorf("batch pages %#v, want an empty list", got.Pages)
		}
		text := string(renderText(t, rep, false))
		if f := strings.Fields(matrixLine(t, text, `"api"`)); f[len(f)-1] != "✓" {
			t.Errorf("api line %q", f)
		}
		if f := strings.Fields(matrixLine(t, text, `"batch"`)); f[len(f)-1] != "✗" {
			t.Errorf("batch line %q", f)
		}
		if md := string(renderMarkdown(t, rep)); !strings.Contains(md, "| pages someone |") {
			t.Errorf("Markdown has no pages column:\n%s", md)
		}
	})
}

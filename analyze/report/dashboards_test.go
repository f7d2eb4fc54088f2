package report_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

func TestDashboardsColumn(t *testing.T) {
	withDashboards := func() report.Report {
		b := analyze.NewBuilder(collectedAt)
		for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartDashboards} {
			b.AddPart(p)
		}
		b.AddTarget(analyze.Target{Job: "node", ScrapePool: "node", Instance: "10.0.0.1:9100", Health: analyze.HealthUp})
		b.AddTarget(analyze.Target{Job: "api", ScrapePool: "api", Instance: "10.0.0.2:8080", Health: analyze.HealthUp})
		inv := b.Build()
		inv.Dashboards = []analyze.Dashboard{
			{UID: "n", Title: "Nodes", Queries: []analyze.DashboardQuery{dashboard.NewQuery("CPU", `rate(node_cpu_seconds_total{job="node"}[$__rate_interval])`)}},
			{UID: "f", Title: "Fleet", Queries: []analyze.DashboardQuery{dashboard.NewQuery("Up", `up{job=~"node|batch"}`)}},
		}
		all := checks.All(checks.Options{})
		d := checks.Derive(inv, checks.Options{})
		return report.Build(report.Input{
			Inventory: inv, Result: checks.Run(inv, d, all, checks.Policy{Now: generatedAt}), Checks: all,
			Matrix:     d.Matrix,
			Now:        generatedAt,
			Dashboards: d.Dashboards,
		})
	}

	t.Run("With dashboards read, each row names the dashboards querying its job and the matrix counts them.", func(t *testing.T) {
		rep := withDashboards()
		if got := row(t, rep, "node").Dashboards; !slices.Equal(got, []string{"Fleet", "Nodes"}) {
			t.Errorf("node: %q", got)
		}
		if got := row(t, rep, "api").Dashboards; got == nil || len(got) != 0 {
			t.Errorf("api: %#v, want an empty list", got)
		}
		text := string(renderText(t, rep, false))
		if !strings.Contains(text, "  runbooks  dashboards  pages someone\n") {
			t.Errorf("no dashboards column:\n%s", text)
		}
		if l := matrixLine(t, text, `"node"`); !strings.HasSuffix(l, " ✓ 2         —") {
			t.Errorf("node line %q", l)
		}
		if l := matrixLine(t, text, `"api"`); !strings.HasSuffix(l, " ✗           —") {
			t.Errorf("api line %q", l)
		}
		md := string(renderMarkdown(t, rep))
		if !strings.Contains(md, "| runbooks | dashboards | pages someone |\n") || !strings.Contains(md, "| api | 1/1 up | — | — | — | — | — | — | **NO** | — |\n") {
			t.Errorf("markdown matrix:\n%s", md)
		}
	})

	t.Run("Without dashboards read, the dashboards column is unknown for every job.", func(t *testing.T) {
		rep := goldenReport()
		md := string(renderMarkdown(t, rep))
		if !strings.Contains(md, "| runbooks | dashboards | pages someone |\n") {
			t.Fatalf("no dashboards column:\n%s", md)
		}
		for _, r := range rep.Coverage {
			if l := matrixLine(t, string(renderText(t, rep, false)), strconv.Quote(r.Job)); !strings.HasSuffix(l, " —           —") {
				t.Errorf("%s: %q, want the unknown mark in the last two columns", r.Job, l)
			}
		}
	})
}

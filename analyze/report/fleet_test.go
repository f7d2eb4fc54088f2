package report_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// memberReport audits an inventory of one job with one down target, as a fleet member.
func memberReport(t *testing.T, source string, withRules bool) report.Report {
	t.Helper()
	b := analyze.NewBuilder(collectedAt)
	b.AddSource(analyze.Source{Name: source, Kind: "live", URL: "http://" + source + ":9090"})
	b.AddPart(analyze.PartTargets)
	b.AddTarget(analyze.Target{Job: "api", ScrapePool: "api", Instance: "10.0.0.1:8080", Health: analyze.HealthDown})
	if withRules {
		b.AddPart(analyze.PartRules)
	}
	inv := b.Build()
	all := checks.All(checks.Options{})
	scope := map[string]string{"source": source}
	return report.BuildMember(report.Input{
		Inventory: inv,
		Result:    checks.Run(inv, nil, all, checks.Policy{Scope: scope}),
		Checks:    all,
		Matrix:    checks.Derive(inv, checks.Options{}).Matrix,
		Now:       collectedAt,
	}, scope)
}

func TestMerge(t *testing.T) {
	eu, us := memberReport(t, "eu", true), memberReport(t, "us", false)
	r := report.Merge([]report.Report{us, eu})

	t.Run("Every source is listed once and the coverage has one row per job and member, in job then member order.", func(t *testing.T) {
		if len(r.Sources) != 2 || r.Sources[0].Name != "us" || r.Sources[1].Name != "eu" {
			t.Errorf("sources = %+v", r.Sources)
		}
		var rows []string
		for _, row := range r.Coverage {
			rows = append(rows, row.Job+" "+report.MemberName(row.Member))
		}
		if !slices.Equal(rows, []string{"api source=eu", "api source=us"}) {
			t.Errorf("coverage rows = %q", rows)
		}
	})

	t.Run("Findings and counts add up, and each finding keeps its member's ID.", func(t *testing.T) {
		if r.Summary.Findings.Total != len(eu.Findings)+len(us.Findings) || r.Summary.Targets.Down != 2 || r.Summary.Jobs != 2 {
			t.Errorf("summary = %+v", r.Summary)
		}
		ids := map[string]bool{}
		for _, f := range r.Findings {
			if ids[f.ID] {
				t.Errorf("two findings share the ID %s", f.ID)
			}
			ids[f.ID] = true
		}
	})

	t.Run("A check skipped for one member only counts as run, and names the member it was skipped for.", func(t *testing.T) {
		i := slices.IndexFunc(r.Summary.ChecksSkipped, func(s report.SkippedCheck) bool { return s.Check == "alerts/missing-up" })
		if i < 0 || !slices.Equal(r.Summary.ChecksSkipped[i].Members, []string{"source=us"}) {
			t.Fatalf("checks_skipped = %+v", r.Summary.ChecksSkipped)
		}
		if !slices.Contains(r.Summary.ChecksRun, "alerts/missing-up") {
			t.Errorf("checks_run = %v", r.Summary.ChecksRun)
		}
	})

	t.Run("The text report says the member of every coverage row and finding.", func(t *testing.T) {
		var b strings.Builder
		if err := report.WriteText(&b, r, report.TextOptions{}); err != nil {
			t.Fatal(err)
		}
		text := b.String()
		for _, want := range []string{`"api" (source=eu)`, `"api" (source=us)`, `no error reported (source=us)`} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
	})
}

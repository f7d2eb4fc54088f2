package report_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

func row(t *testing.T, r report.Report, job string) report.CoverageRow {
	t.Helper()
	i := slices.IndexFunc(r.Coverage, func(row report.CoverageRow) bool { return row.Job == job })
	if i < 0 {
		t.Fatalf("no coverage row for %q in %+v", job, r.Coverage)
	}
	return r.Coverage[i]
}

// matrixLine is the text report's line of a job in the coverage matrix.
func matrixLine(t *testing.T, text, job string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "  "+job+" ") {
			return l
		}
	}
	t.Fatalf("no matrix line for %s:\n%s", job, text)
	return ""
}

func TestCoverage(t *testing.T) {
	t.Run("A job's row names its alerts and counts its targets, business metrics and runbooks.", func(t *testing.T) {
		got := row(t, goldenReport(), "pushgateway")
		want := report.CoverageRow{
			Job: "pushgateway", Targets: 1, Up: 0,
			UpAlerts: []string{}, AbsenceAlerts: []string{},
			BusinessCovered: 1, BusinessTotal: 2,
			Business: []report.BusinessMetric{
				{Metric: "batch_last_success_timestamp_seconds", Kind: "staleness", CoveredBy: []string{}},
				{Metric: "jobs_processed_total", Kind: "counter", CoveredBy: []string{"BatchStalled"}},
			},
			Alerts: 1, AlertsWithRunbook: 0, AlertsWithoutRunbook: []string{"BatchStalled"},
			Dashboards: []string{},
			// The golden audit read no Alertmanager.
			Pages: []string{}, Unknown: []string{report.UnknownPages},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("row = %+v\nwant  %+v", got, want)
		}
	})

	t.Run("Rows come in the order of the matrix, one per job.", func(t *testing.T) {
		var jobs []string
		for _, r := range goldenReport().Coverage {
			jobs = append(jobs, r.Job)
		}
		if want := []string{"blackbox", hostileJob, "kubernetes-pods", "node", "pushgateway"}; !slices.Equal(jobs, want) {
			t.Errorf("jobs = %q, want %q", jobs, want)
		}
	})

	t.Run("An alert with two variants counts once, and lacks a runbook when either variant does.", func(t *testing.T) {
		withRunbook := coverage.RuleRef{Name: "ApiDown", Group: "a", Runbook: "https://runbooks.example/ApiDown"}
		without := coverage.RuleRef{Name: "ApiDown", Group: "b"}
		absent := coverage.RuleRef{Name: "ApiAbsent", Runbook: "https://runbooks.example/ApiAbsent"}
		stalled := coverage.RuleRef{Name: "OrdersStalled", Runbook: " "}
		rep := audit(auditInventory(), checks.Policy{Now: generatedAt}, []coverage.JobCoverage{{
			Job: "api", UpAlerts: []coverage.RuleRef{withRunbook, without}, AbsentAlerts: []coverage.RuleRef{absent, withRunbook},
			Business: []coverage.BusinessMetric{{Metric: "orders_total", Kind: "counter", CoveredBy: []coverage.RuleRef{stalled, without}}},
		}})
		got := row(t, rep, "api")
		if !slices.Equal(got.UpAlerts, []string{"ApiDown"}) || !slices.Equal(got.AbsenceAlerts, []string{"ApiAbsent", "ApiDown"}) {
			t.Errorf("up %q, absence %q", got.UpAlerts, got.AbsenceAlerts)
		}
		if got.Alerts != 3 || got.AlertsWithRunbook != 1 || !slices.Equal(got.AlertsWithoutRunbook, []string{"ApiDown", "OrdersStalled"}) {
			t.Errorf("alerts %d, with runbook %d, without %q", got.Alerts, got.AlertsWithRunbook, got.AlertsWithoutRunbook)
		}
	})

	t.Run("Without rules the alert columns are unknown, shown as — with a legend; the scraped column still counts.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartTargets)
		b.AddTarget(analyze.Target{Job: "node", ScrapePool: "node", Instance: "10.0.0.1:9100", Health: analyze.HealthUp})
		rep := buildReport(b.Build())
		got := row(t, rep, "node")
		if want := []string{report.UnknownUpAlerts, report.UnknownAbsenceAlerts, report.UnknownBusiness, report.UnknownAlerts, report.UnknownPages}; !slices.Equal(got.Unknown, want) {
			t.Errorf("unknown = %q, want %q", got.Unknown, want)
		}
		text := string(renderText(t, rep, false))
		if line := strings.Fields(matrixLine(t, text, `"node"`)); !slices.Equal(line, []string{`"node"`, "✓", "1/1", "—", "—", "—", "—", "—", "—", "—", "—"}) {
			t.Errorf("matrix line = %q", line)
		}
		if !strings.Contains(text, "  ✓ covered  ✗ gap  · nothing to judge  — not known: ") {
			t.Errorf("no legend for —:\n%s", text)
		}
		if md := string(renderMarkdown(t, rep)); !strings.Contains(md, "| node | 1/1 up | — | — | — | — | — | — | — | — |\n") || !strings.Contains(md, "\n— not known: ") {
			t.Errorf("Markdown row or legend missing:\n%s", md)
		}
	})

	t.Run("Without targets the scraped column is unknown, not \"none\".", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartRules)
		rep := audit(b.Build(), checks.Policy{}, []coverage.JobCoverage{{Job: "node"}})
		if got := row(t, rep, "node").Unknown; !slices.Contains(got, report.UnknownTargets) || slices.Contains(got, report.UnknownAlerts) {
			t.Errorf("unknown = %q", got)
		}
	})

	t.Run("A disabled check whose parts were read leaves its column known.", func(t *testing.T) {
		for _, r := range goldenReport().Coverage {
			// Only the pages column is unknown: the golden audit read no Alertmanager.
			if !slices.Equal(r.Unknown, []string{report.UnknownPages}) {
				t.Errorf("row %q has unknown columns %q although alerts/missing-absent is only disabled", r.Job, r.Unknown)
			}
		}
	})

	t.Run("A column whose check the audit did not include is unknown.", func(t *testing.T) {
		inv := auditInventory()
		only := []checks.Check{checks.TargetsDown{}}
		rep := report.Build(report.Input{Inventory: inv, Result: checks.Run(inv, nil, only, checks.Policy{}), Checks: only,
			Matrix: []coverage.JobCoverage{{Job: "node"}}, Now: generatedAt})
		if got, want := row(t, rep, "node").Unknown, []string{"up_alerts", "absence_alerts", "business", "alerts", "pages"}; !slices.Equal(got, want) {
			t.Errorf("unknown = %q, want %q", got, want)
		}
	})

	t.Run("Without a matrix the coverage is an empty list and the text has no matrix.", func(t *testing.T) {
		inv := auditInventory()
		all := auditChecks()
		rep := report.Build(report.Input{Inventory: inv, Result: checks.Run(inv, nil, all, checks.Policy{}), Checks: all, Now: generatedAt})
		if rep.Coverage == nil || len(rep.Coverage) != 0 {
			t.Errorf("coverage = %#v, want an empty list", rep.Coverage)
		}
		if text := string(renderText(t, rep, false)); strings.Contains(text, "Coverage") {
			t.Errorf("text has a matrix:\n%s", text)
		}
	})

	t.Run("The text matrix lines up: every column starts where its heading does, whatever the job name.", func(t *testing.T) {
		text := string(renderText(t, goldenReport(), false))
		lines := strings.Split(text, "\n")
		h := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  job ") })
		if h < 0 {
			t.Fatalf("no matrix heading:\n%s", text)
		}
		header := lines[h]
		for _, l := range lines[h+1 : h+6] {
			for _, col := range []string{"scraped", "up alert", "absence alert", "business", "logs", "secrets", "runbooks", "dashboards", "pages someone"} {
				at := utf8.RuneCountInString(header[:strings.Index(header, col)])
				runes := []rune(l)
				if at >= len(runes) || runes[at-1] != ' ' || runes[at] == ' ' {
					t.Errorf("column %q does not start at %d in %q", col, at, l)
				}
			}
		}
		if want := `  "pushgateway"                         ✗ 0/1    ✗         ✗              ✗ 1/2     —     —        ✗ 0/1     —           —`; !slices.Contains(lines, want) {
			t.Errorf("no line %q:\n%s", want, text)
		}
	})

	t.Run("With color only the gap cells are painted, so the columns stay aligned.", func(t *testing.T) {
		text := string(renderText(t, goldenReport(), true))
		line := matrixLine(t, text, `"node"`)
		if want := `  "node"                                ` + "\x1b[31m✗ 1/2\x1b[0m    ✓         \x1b[31m✗\x1b[0m              ·         —     —        ✓ 1/1     —           —"; line != want {
			t.Errorf("line = %q\nwant   %q", line, want)
		}
	})
}

func TestSuppressed(t *testing.T) {
	t.Run("Suppressed findings are listed with their reasons, apart from the findings and their total.", func(t *testing.T) {
		rep := goldenReport()
		if len(rep.Suppressed) != 1 {
			t.Fatalf("suppressed = %+v", rep.Suppressed)
		}
		s := rep.Suppressed[0]
		if s.Finding.Check != checks.AlertsNoSeverityName || s.Finding.Subject["rule"] != "ErrorLogs" || s.Reason != "vmalert sets the severity of log alerts" {
			t.Errorf("suppressed = %+v", s)
		}
		if slices.ContainsFunc(rep.Findings, func(f analyze.Finding) bool { return f.ID == s.Finding.ID }) {
			t.Error("a suppressed finding is also reported")
		}
		if rep.Summary.Findings.Total != len(rep.Findings) || rep.Summary.Findings.Suppressed != 1 {
			t.Errorf("summary = %+v", rep.Summary.Findings)
		}
	})

	t.Run("Suppressed findings come out sorted like findings, whatever order they were suppressed in.", func(t *testing.T) {
		f := func(job string) checks.Suppressed {
			return checks.Suppressed{Finding: analyze.NewFinding("jobs/no-targets", analyze.Warning, map[string]string{"job": job}, "", nil), Reason: "r-" + job}
		}
		inv := auditInventory()
		rep := report.Build(report.Input{Inventory: inv, Now: generatedAt, Result: checks.Result{
			Suppressed: []checks.Suppressed{f("zeta"), f("alpha"), f("mid")},
		}})
		var got []string
		for _, s := range rep.Suppressed {
			got = append(got, s.Finding.Subject["job"]+" "+s.Reason)
		}
		if want := []string{"alpha r-alpha", "mid r-mid", "zeta r-zeta"}; !slices.Equal(got, want) {
			t.Errorf("suppressed = %q, want %q", got, want)
		}
	})

	t.Run("Without suppressed findings the list is empty, not null, and the text has no section for it.", func(t *testing.T) {
		rep := buildReport(auditInventory())
		if rep.Suppressed == nil || len(rep.Suppressed) != 0 {
			t.Errorf("suppressed = %#v", rep.Suppressed)
		}
		if strings.Contains(string(renderText(t, rep, false)), "Suppressed") {
			t.Error("the text has a suppressed section")
		}
	})

	t.Run("The text lists each suppressed finding with its subject and reason at the end.", func(t *testing.T) {
		text := string(renderText(t, goldenReport(), false))
		want := "\nSuppressed by ignore entries:\n  alerts/no-severity rule=\"ErrorLogs\": vmalert sets the severity of log alerts\n\nFindings: 7 critical, 6 warning, 1 info; 1 suppressed\n"
		if !strings.HasSuffix(text, want) {
			t.Errorf("text does not end with %q:\n%s", want, text)
		}
	})
}

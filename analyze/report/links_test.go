package report_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/blindspot-dev/blindspot/analyze"

	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// The ScriptDown alert of hostileReport has runbook_url: javascript:…, which is no runbook.
func TestAJavascriptRunbookCountsAsNoneAndIsNeverALink(t *testing.T) {
	rep := hostileReport()

	t.Run("The coverage matrix lists the alert among those without a runbook.", func(t *testing.T) {
		i := slices.IndexFunc(rep.Coverage, func(r report.CoverageRow) bool { return r.Job == scriptJob })
		if i < 0 {
			t.Fatalf("no coverage row for %q", scriptJob)
		}
		if row := rep.Coverage[i]; row.AlertsWithRunbook != 0 || !slices.Contains(row.AlertsWithoutRunbook, "ScriptDown") {
			t.Errorf("row: %d with a runbook, without: %v; want ScriptDown without", row.AlertsWithRunbook, row.AlertsWithoutRunbook)
		}
	})

	t.Run("alerts/no-runbook reports it.", func(t *testing.T) {
		if !slices.ContainsFunc(rep.Findings, func(f analyze.Finding) bool {
			return f.Check == checks.AlertsNoRunbookName && f.Subject["rule"] == "ScriptDown"
		}) {
			t.Error("no alerts/no-runbook finding for ScriptDown")
		}
	})

	t.Run("The HTML page holds no javascript: link.", func(t *testing.T) {
		doc := parseHTML(t, renderHTML(t, rep))
		walk(doc, func(n *html.Node) {
			for _, a := range n.Attr {
				if v := strings.ToLower(strings.TrimSpace(a.Val)); (a.Key == "href" || a.Key == "src") && strings.Contains(v, "javascript:") {
					t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
				}
			}
		})
	})

	t.Run("The Markdown report holds no link or autolink to it.", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.WriteMarkdown(&buf, rep); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "ScriptDown") {
			t.Fatal("the Markdown report does not mention ScriptDown")
		}
		if m := regexp.MustCompile(`(?i)(\]\(\s*|<)javascript:`).FindString(buf.String()); m != "" {
			t.Errorf("a javascript: link in the Markdown report: %q", m)
		}
	})
}

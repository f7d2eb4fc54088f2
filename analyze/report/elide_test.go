package report_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// manyFindings is a report with n alerts/missing-business findings for each job, the metrics
// numbered from 0 in report order.
func manyFindings(n int, jobs ...string) report.Report {
	r := report.Report{Version: report.SchemaVersion, CollectedAt: collectedAt, GeneratedAt: generatedAt}
	r.Summary.ChecksRun = []string{"alerts/missing-business"}
	for _, job := range jobs {
		for i := range n {
			r.Findings = append(r.Findings, analyze.NewFinding("alerts/missing-business", analyze.Warning,
				map[string]string{"job": job, "metric": fmt.Sprintf("orders-%03d-total", i)},
				fmt.Sprintf("no alert watches orders-%03d-total", i), nil))
		}
	}
	r.Summary.Findings.Warning = len(r.Findings)
	r.Summary.Findings.Total = len(r.Findings)
	return r
}

// rendered is the report in text, Markdown and HTML.
func rendered(t *testing.T, r report.Report) map[string]string {
	t.Helper()
	var text, md bytes.Buffer
	if err := report.WriteText(&text, r, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"text": text.String(), "markdown": md.String(), "html": string(renderHTML(t, r))}
}

// wantFirst20Of100 checks that out, the output named name of 100 findings of one group, shows
// the first MaxFindingsPerGroup of them and says once that 80 more are left out.
func wantFirst20Of100(t *testing.T, name, out string) {
	t.Helper()
	for i := range 100 {
		metric := fmt.Sprintf("orders-%03d-total", i)
		if shown := strings.Contains(out, metric); shown != (i < report.MaxFindingsPerGroup) {
			t.Errorf("%s: %s shown=%v, want only the first %d", name, metric, shown, report.MaxFindingsPerGroup)
		}
	}
	if n := strings.Count(out, "and 80 more"); n != 1 {
		t.Errorf("%s: %d lines say \"and 80 more\", want 1:\n%s", name, n, out)
	}
}

func TestManyFindingsOfOneCheckForOneJobShowTheFirst20AndSayHowManyMore(t *testing.T) {
	for format, out := range rendered(t, manyFindings(100, "shop")) {
		wantFirst20Of100(t, format, out)
		if !strings.Contains(out, "the JSON report lists them all") {
			t.Errorf("%s does not point to the JSON report", format)
		}
	}
}

func TestTheTextReportSaysWhichCheckAndJobTheMoreLineIsAbout(t *testing.T) {
	out := rendered(t, manyFindings(100, "shop"))["text"]
	want := `orders-019-total
      help: docs/checks/alerts-missing-business.md
  ... and 80 more warning alerts/missing-business findings for job "shop": the JSON report lists them all
`
	if !strings.Contains(out, want) {
		t.Errorf("text report lacks\n%s\ngot:\n%s", want, out)
	}
}

func TestTwentyFindingsOfOneCheckForOneJobAreAllShownWithoutAMoreLine(t *testing.T) {
	for format, out := range rendered(t, manyFindings(report.MaxFindingsPerGroup, "shop")) {
		for i := range report.MaxFindingsPerGroup {
			if metric := fmt.Sprintf("orders-%03d-total", i); !strings.Contains(out, metric) {
				t.Errorf("%s does not show %s", format, metric)
			}
		}
		if strings.Contains(out, "more") && strings.Contains(out, "the JSON report lists them all") {
			t.Errorf("%s has a grouping line for %d findings:\n%s", format, report.MaxFindingsPerGroup, out)
		}
	}
}

func TestTheFindingsOfTwoJobsAreCutSeparately(t *testing.T) {
	r := manyFindings(30, "shop", "billing")
	for format, out := range rendered(t, r) {
		if n := strings.Count(out, "and 10 more"); n != 2 {
			t.Errorf("%s: %d lines say \"and 10 more\", want one per job:\n%s", format, n, out)
		}
		for _, job := range []string{"shop", "billing"} {
			// Text and Markdown quote the job plainly, HTML escapes the quotes.
			if !strings.Contains(out, `job "`+job+`": the JSON`) && !strings.Contains(out, "job &#34;"+job+"&#34;: the JSON") {
				t.Errorf("%s has no more line for job %q:\n%s", format, job, out)
			}
		}
	}
	// Each job shows its own first 20 (40 findings in all).
	page := rendered(t, r)["html"]
	if n := strings.Count(page, `data-check="alerts/missing-business"`); n != 2*report.MaxFindingsPerGroup {
		t.Errorf("the HTML page has %d finding rows, want %d", n, 2*report.MaxFindingsPerGroup)
	}
}

func TestTheHTMLPageWithCutGroupsStaysValidAndLinksOnlyToFindingsOnIt(t *testing.T) {
	page := renderHTML(t, manyFindings(100, "shop", "billing"))
	doc := parseHTML(t, page)
	ids := map[string]bool{}
	var elided []string
	walk(doc, func(n *html.Node) {
		if id, ok := attr(n, "id"); ok {
			if ids[id] {
				t.Errorf("id %q appears twice", id)
			}
			ids[id] = true
		}
		if c, _ := attr(n, "class"); c == "elided" {
			for li := n.FirstChild; li != nil; li = li.NextSibling {
				if li.Type == html.ElementNode {
					elided = append(elided, text(li))
				}
			}
		}
	})
	want := []string{
		`and 80 more warning alerts/missing-business findings for job "shop": the JSON report lists them all`,
		`and 80 more warning alerts/missing-business findings for job "billing": the JSON report lists them all`,
	}
	if strings.Join(elided, "\n") != strings.Join(want, "\n") {
		t.Errorf("elided list = %q, want %q", elided, want)
	}
	walk(doc, func(n *html.Node) {
		if href, ok := attr(n, "href"); ok && strings.HasPrefix(href, "#") && !ids[href[1:]] {
			t.Errorf("link to %s, which is not on the page", href)
		}
	})
}

func TestCheckSummariesAndTheSuppressedListShowTheFirst20OfAJobsFindingsOfACheck(t *testing.T) {
	many := manyFindings(100, "shop")
	check := report.NewGapCheck(many, baseline.File{}, "", analyze.Warning)
	var checkText, checkMD bytes.Buffer
	if err := report.WriteCheckText(&checkText, check); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteCheckMarkdown(&checkMD, check); err != nil {
		t.Fatal(err)
	}
	suppressed := manyFindings(0)
	for _, f := range many.Findings {
		suppressed.Suppressed = append(suppressed.Suppressed, report.SuppressedFinding{Finding: f, Reason: "accepted"})
	}
	suppressed.Summary.Findings.Suppressed = len(suppressed.Suppressed)
	outs := map[string]string{"check text": checkText.String(), "check markdown": checkMD.String()}
	for format, out := range rendered(t, suppressed) {
		outs["suppressed in "+format] = out
	}
	for name, out := range outs {
		wantFirst20Of100(t, name, out)
	}
	if want := "... and 80 more new warning alerts/missing-business findings for job \"shop\": the SARIF and JUnit outputs list them all"; !strings.Contains(checkText.String(), want) {
		t.Errorf("check text lacks %q:\n%s", want, checkText.String())
	}
}

func TestAFewSuppressedFindingsAreAllListed(t *testing.T) {
	r := manyFindings(0)
	for _, f := range manyFindings(report.MaxFindingsPerGroup, "shop").Findings {
		r.Suppressed = append(r.Suppressed, report.SuppressedFinding{Finding: f, Reason: "accepted"})
	}
	for format, out := range rendered(t, r) {
		if strings.Contains(out, "more suppressed") || !strings.Contains(out, fmt.Sprintf("orders-%03d-total", report.MaxFindingsPerGroup-1)) {
			t.Errorf("%s: not every one of %d suppressed findings is listed:\n%s", format, report.MaxFindingsPerGroup, out)
		}
	}
}

package report_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// cells splits a Markdown table row at the pipes Markdown reads as separators: those not
// escaped by an odd number of backslashes.
func cells(row string) int {
	n, slashes := 0, 0
	for _, c := range row {
		switch {
		case c == '\\':
			slashes++
			continue
		case c == '|' && slashes%2 == 0:
			n++
		}
		slashes = 0
	}
	return n - 1 // a row starts and ends with a pipe
}

func TestMarkdown(t *testing.T) {
	rep := goldenReport()
	md := string(renderMarkdown(t, rep))

	t.Run("Every row of every table has as many cells as its header, whatever the values hold.", func(t *testing.T) {
		header, tables := 0, 0
		for i, l := range strings.Split(md, "\n") {
			if !strings.HasPrefix(l, "|") {
				header = 0
				continue
			}
			if header == 0 {
				header = cells(l)
				tables++
				continue
			}
			if got := cells(l); got != header {
				t.Errorf("line %d has %d cells, its header %d: %s", i+1, got, header, l)
			}
		}
		// sources, coverage, three critical, three warning and one info check, suppressed
		if tables != 10 {
			t.Errorf("%d tables, want 10:\n%s", tables, md)
		}
	})

	t.Run("Hostile values reach the Markdown escaped: no HTML, no control character, no line of their own.", func(t *testing.T) {
		for _, raw := range []string{"<script>", "\x1b", "\x07", "\nCRITICAL everything is fine"} {
			if strings.Contains(md, raw) {
				t.Errorf("Markdown contains %q", raw)
			}
		}
		if want := `connection refused\\n\\x1b\[31mCRITICAL everything is fine`; !strings.Contains(md, want) {
			t.Errorf("the hostile error is not shown escaped as %q:\n%s", want, md)
		}
	})

	t.Run("Findings sit under a heading per severity, worst first, with a table per check linking its page.", func(t *testing.T) {
		critical, warning, info := strings.Index(md, "\n## Critical\n"), strings.Index(md, "\n## Warning\n"), strings.Index(md, "\n## Info\n")
		if critical < 0 || !(critical < warning && warning < info) {
			t.Fatalf("severity headings at %d, %d, %d:\n%s", critical, warning, info, md)
		}
		headings := regexp.MustCompile("(?m)^### \\[`([a-z/-]+)`\\]\\((\\S+)\\) \\((\\d+)\\)$").FindAllStringSubmatch(md, -1)
		var got []string
		for _, h := range headings {
			got = append(got, h[1]+" "+h[3])
			if want := report.HelpBaseURL + "docs/checks/" + strings.ReplaceAll(h[1], "/", "-") + ".md"; h[2] != want {
				t.Errorf("%s links %s, want %s", h[1], h[2], want)
			}
		}
		// Within a severity, checks come in registry order.
		want := []string{
			"targets/down 2", "alerts/missing-up 4", "rules/broken 1",
			"jobs/no-targets 2", "alerts/missing-business 1", "alerts/no-runbook 3",
			"alerts/no-severity 1",
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("check headings %q, want %q", got, want)
		}
		if !strings.Contains(md, "| rule=\"BatchStalled\" in rules/batch.yml, group \"batch.rules\" | alert \"BatchStalled\" has no runbook\\_url annotation | blindspot generate writes runbooks/BatchStalled.md") {
			t.Errorf("the runbook finding's row lacks its subject, location or fix:\n%s", md)
		}
	})

	t.Run("Suppressed findings are listed last, with their check's page and their reason.", func(t *testing.T) {
		i := strings.Index(md, "## Suppressed\n")
		if i < 0 || i < strings.Index(md, "## Info\n") {
			t.Fatalf("no suppressed section after the findings:\n%s", md)
		}
		if want := "| [`alerts/no-severity`](" + report.HelpBaseURL + "docs/checks/alerts-no-severity.md) | rule=\"ErrorLogs\" | vmalert sets the severity of log alerts |"; !strings.Contains(md[i:], want) {
			t.Errorf("suppressed section lacks %q:\n%s", want, md[i:])
		}
	})

	t.Run("A report without findings says so and has no severity, coverage or suppressed section.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartTargets)
		md := string(renderMarkdown(t, buildReport(b.Build())))
		if !strings.Contains(md, "\nNo findings.\n") {
			t.Errorf("no \"No findings.\":\n%s", md)
		}
		for _, section := range []string{"## Critical", "## Warning", "## Info", "## Coverage", "## Suppressed"} {
			if strings.Contains(md, section) {
				t.Errorf("empty report has %q:\n%s", section, md)
			}
		}
		if !strings.Contains(md, "- `jobs/no-targets` did not run: no config\n") {
			t.Errorf("the skipped check is not listed:\n%s", md)
		}
	})

	t.Run("A failing writer fails the rendering.", func(t *testing.T) {
		errFull := errors.New("disk full")
		if err := report.WriteMarkdown(failingWriter{errFull}, rep); !errors.Is(err, errFull) {
			t.Errorf("WriteMarkdown = %v, want %v", err, errFull)
		}
	})
}

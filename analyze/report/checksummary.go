package report

import (
	"fmt"
	"io"
	"strings"
)

// checkListsAll says where the findings a check summary leaves out are listed.
const checkListsAll = "the SARIF and JUnit outputs list them all"

// WriteCheckMarkdown writes the short summary of a gap check fit for $GITHUB_STEP_SUMMARY or a
// merge-request comment: the verdict, the counts, then the new findings, the resolved ones,
// the expired exceptions and the sources that could not be read. The full picture is the
// audit report; this says what changed.
func WriteCheckMarkdown(w io.Writer, g GapCheck) error {
	p := &printer{w: w}
	c := g.counts()
	p.line("## blindspot check: %s", verdict(g))
	p.line("")
	p.table("", "findings")
	p.row(fmt.Sprintf("new, %s or worse", g.FailOn), mdAlarm(fmt.Sprint(c.failing), c.failing > 0))
	p.row(fmt.Sprintf("new, below %s", g.FailOn), fmt.Sprint(c.newBelow))
	p.row("known (in the baseline)", fmt.Sprint(c.known))
	p.row("resolved since the baseline", fmt.Sprint(c.resolved))
	p.row("suppressed", fmt.Sprint(c.suppressed))
	p.row("expired exceptions", mdAlarm(fmt.Sprint(c.expired), c.expired > 0))
	p.row("total reported", fmt.Sprint(c.total))
	p.line("")
	if len(g.Comparison.New) > 0 {
		p.line("### New")
		p.line("")
		p.table("severity", "check", "subject", "finding")
		el := elide(g.Comparison.New, memberKeys(g.Report))
		for i, f := range g.Comparison.New {
			if !el.Show[i] {
				continue
			}
			p.row(mdAlarm(f.Severity.String(), f.Severity >= g.FailOn), helpLink(f), mdEscape(subjectString(f.Subject)), mdEscape(f.Message))
			if n := el.More[i]; n > 0 {
				p.row(mdAlarm(f.Severity.String(), f.Severity >= g.FailOn), helpLink(f), mdEscape(el.Scope[i]), fmt.Sprintf("… and %d more new findings of this check for %s: %s", n, mdEscape(el.Scope[i]), checkListsAll))
			}
		}
		p.line("")
	}
	if len(g.Comparison.Resolved) > 0 {
		p.line("### Resolved")
		p.line("")
		p.table("check", "subject", "first seen")
		for _, e := range g.Comparison.Resolved {
			p.row("`"+strings.ReplaceAll(e.Check, "`", "")+"`", mdEscape(subjectString(e.Subject)), e.FirstSeen.UTC().Format("2006-01-02"))
		}
		p.line("")
	}
	p.expiredTable(g.Report.Expired)
	if g.Report.Partial() {
		p.line("### Sources not read completely")
		p.line("")
		for _, s := range g.Report.Sources {
			if !s.OK {
				p.line("- %s %s: %s", mdEscape(s.Name), mdEscape(s.URL), mdEscape(s.Error))
			}
		}
		p.line("")
	}
	return p.err
}

// WriteCheckText writes the same summary as plain text for a terminal or a CI log.
func WriteCheckText(w io.Writer, g GapCheck) error {
	p := &printer{w: w}
	c := g.counts()
	p.line("blindspot check: %s", verdict(g))
	p.line("  new, %s or worse: %d; new below %s: %d; known: %d; resolved: %d; suppressed: %d; expired exceptions: %d; total reported: %d",
		g.FailOn, c.failing, g.FailOn, c.newBelow, c.known, c.resolved, c.suppressed, c.expired, c.total)
	if len(g.Comparison.New) > 0 {
		p.line("")
		p.line("New:")
		el := elide(g.Comparison.New, memberKeys(g.Report))
		for i, f := range g.Comparison.New {
			if !el.Show[i] {
				continue
			}
			p.line("  %-8s %s %s: %s", strings.ToUpper(f.Severity.String()), f.Check, clean(subjectString(f.Subject)), clean(f.Message))
			if n := el.More[i]; n > 0 {
				p.line("  ... and %d more new %s %s findings for %s: %s", n, strings.ToLower(f.Severity.String()), f.Check, el.Scope[i], checkListsAll)
			}
		}
	}
	if len(g.Comparison.Resolved) > 0 {
		p.line("")
		p.line("Resolved:")
		for _, e := range g.Comparison.Resolved {
			p.line("  %s %s (first seen %s)", e.Check, clean(subjectString(e.Subject)), e.FirstSeen.UTC().Format("2006-01-02"))
		}
	}
	p.expired(g.Report.Expired)
	for _, s := range g.Report.Sources {
		if !s.OK {
			p.line("")
			p.line("Source not read completely: %s %s: %s", clean(s.Name), clean(s.URL), clean(s.Error))
		}
	}
	return p.err
}

func verdict(g GapCheck) string {
	c := g.counts()
	var parts []string
	if c.failing > 0 {
		parts = append(parts, plural(c.failing, "new gap", "new gaps"))
	}
	if c.expired > 0 {
		parts = append(parts, plural(c.expired, "expired exception", "expired exceptions"))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no new gaps (%s or worse)", g.FailOn)
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" (failing on %s or worse)", g.FailOn)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// HelpBaseURL is where the Markdown report links the documentation pages of the checks: a
// wiki page or a pull-request comment has no repository to resolve relative paths against.
const HelpBaseURL = checks.HelpBaseURL

// WriteMarkdown writes the report as GitHub-flavoured Markdown for a wiki page or a
// pull-request comment: sources, summary, the coverage matrix, the findings under a heading per
// severity with a table per check, then the suppressed findings. Every value from the
// monitored systems goes through mdEscape.
func WriteMarkdown(w io.Writer, r Report) error {
	p := &printer{w: w}
	p.line("# blindspot audit")
	p.line("")
	p.line("Collected %s.", r.CollectedAt.Format("2006-01-02 15:04:05 UTC"))
	p.line("")
	if len(r.Sources) > 0 {
		p.line("## Sources")
		p.line("")
		p.table("source", "kind", "address", "state")
		for _, s := range r.Sources {
			p.row(mdEscape(s.Name+sourceVersion(s)), mdEscape(s.Kind), mdEscape(s.URL), sourceState(s))
		}
		p.line("")
	}

	sum := r.Summary
	p.line("## Summary")
	p.line("")
	p.line("- %s", inventoryLine(sum))
	if l := unparsedLine(sum); l != "" {
		p.line("- %s", l)
	}
	for _, s := range sum.ChecksSkipped {
		p.line("- `%s` did not run: no %s", s.Check, strings.Join(s.Missing, ", "))
	}
	for _, c := range sum.ChecksDisabled {
		p.line("- `%s` is disabled in the configuration", c)
	}
	p.line("- Findings: %s, %d warning, %d info; %d suppressed",
		mdAlarm(fmt.Sprintf("%d critical", sum.Findings.Critical), sum.Findings.Critical > 0),
		sum.Findings.Warning, sum.Findings.Info, sum.Findings.Suppressed)
	p.line("")

	if len(r.Coverage) > 0 {
		p.line("## Coverage")
		p.line("")
		p.line("Would anyone be paged if the job broke?")
		p.line("")
		p.table(matrixHeader()...)
		rows := matrix(r)
		for _, row := range rows {
			cells := []string{mdEscape(row.Job + rowMember(row.Member))}
			for _, c := range row.Cells {
				cells = append(cells, mdAlarm(c.Text, c.State == stateGap))
			}
			p.row(cells...)
		}
		if anyState(rows, stateUnknown) {
			p.line("")
			p.line("%s", unknownLegend)
		}
		p.line("")
	}

	if len(r.Findings) == 0 {
		p.line("No findings.")
		p.line("")
	}
	members := memberKeys(r)
	for _, sev := range severitiesDesc {
		groups := byCheck(r, sev)
		if len(groups) == 0 {
			continue
		}
		p.line("## %s", severityHeadings[sev])
		p.line("")
		for _, fs := range groups {
			p.line("### %s (%d)", helpLink(fs[0]), len(fs))
			p.line("")
			p.table("subject", "message", "fix")
			el := elide(fs, members)
			for i, f := range fs {
				if !el.Show[i] {
					continue
				}
				subject := subjectString(f.Subject)
				if loc := location(f); loc != "" {
					subject += " in " + loc
				}
				fix := "—"
				if f.Fix != "" {
					fix = mdEscape(f.Fix)
				}
				p.row(mdEscape(subject), mdEscape(f.Message), fix)
				if n := el.More[i]; n > 0 {
					p.row(mdEscape(el.Scope[i]), fmt.Sprintf("… and %d more findings of this check for %s: the JSON report lists them all", n, mdEscape(el.Scope[i])), "—")
				}
			}
			p.line("")
		}
	}

	if len(r.Suppressed) > 0 {
		p.line("## Suppressed")
		p.line("")
		p.table("check", "subject", "reason")
		el := elideSuppressed(r.Suppressed, members)
		for i, s := range r.Suppressed {
			if !el.Show[i] {
				continue
			}
			p.row(helpLink(s.Finding), mdEscape(subjectString(s.Finding.Subject)), mdEscape(s.Reason))
			if n := el.More[i]; n > 0 {
				p.row(helpLink(s.Finding), mdEscape(el.Scope[i]), fmt.Sprintf("… and %d more suppressed findings of this check for %s: the JSON report lists them all", n, mdEscape(el.Scope[i])))
			}
		}
		p.line("")
	}
	p.noiseTable(r.Noise)
	p.expiredTable(r.Expired)
	return p.err
}

// table starts a table with its header row.
func (p *printer) table(header ...string) {
	p.row(header...)
	p.row(slices.Repeat([]string{"---"}, len(header))...)
}

// row writes one table row of cells that are already safe Markdown.
func (p *printer) row(cells ...string) {
	p.line("| %s |", strings.Join(cells, " | "))
}

var severityHeadings = map[analyze.Severity]string{
	analyze.Critical: "Critical",
	analyze.Warning:  "Warning",
	analyze.Info:     "Info",
}

func sourceState(s Source) string {
	var parts []string
	for _, e := range groupErrors(s.Errors) {
		parts = append(parts, "could not read "+mdEscape(e.parts)+": "+mdEscape(e.err))
	}
	for _, m := range s.Missing {
		parts = append(parts, "not available: "+mdEscape(m.Part)+" ("+mdEscape(m.Reason)+")")
	}
	for _, n := range s.Notes {
		parts = append(parts, mdEscape(n))
	}
	state := "ok"
	if !s.OK {
		state = "**partial**"
	}
	if len(parts) == 0 {
		return state
	}
	return state + ": " + strings.Join(parts, "<br>")
}

// helpLink is the check of f linked to its documentation page.
func helpLink(f analyze.Finding) string {
	return fmt.Sprintf("[`%s`](%s%s)", strings.ReplaceAll(f.Check, "`", ""), HelpBaseURL, helpPath(f))
}

func mdAlarm(s string, alarm bool) string {
	if alarm {
		return "**" + s + "**"
	}
	return s
}

// mdReplacer escapes what Markdown (GitHub flavour) would read as syntax inside a table cell:
// the cell separator, code spans, emphasis, strikethrough, math, links and images, entities and
// raw HTML. The backslash comes first in the list but a Replacer works in one pass anyway, so
// no escape is escaped again.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"`", "\\`",
	"*", `\*`,
	"_", `\_`,
	"~", `\~`,
	"$", `\$`,
	"[", `\[`,
	"]", `\]`,
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
)

// mdEscape makes a value from a monitored system safe in a Markdown table cell and shows it as
// it is: control characters, newlines included, are shown escaped as in the text report (a
// newline would end the table row), then Markdown syntax is escaped.
func mdEscape(s string) string { return mdReplacer.Replace(clean(s)) }

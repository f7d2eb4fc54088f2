package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blindspot-dev/blindspot/analyze"
)

// TextOptions control the text renderer.
type TextOptions struct {
	// Color adds ANSI colors; callers enable it only when writing to a terminal.
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// WriteText writes the human-readable report: sources, inventory summary, the coverage matrix,
// the findings grouped by job, then the suppressed ones. Every value from the monitored systems
// goes through clean (or strconv.Quote, which escapes even more), so a label value cannot inject
// terminal escapes or fake lines.
func WriteText(w io.Writer, r Report, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	p.line("blindspot audit, collected %s", r.CollectedAt.Format("2006-01-02 15:04:05 UTC"))
	for _, s := range r.Sources {
		state := p.paint(ansiBold, "ok")
		if !s.OK {
			state = p.paint(ansiRed, "PARTIAL")
		}
		p.line("  source %s (%s) %s: %s", s.Name+sourceVersion(s), s.Kind, clean(s.URL), state)
		for _, e := range groupErrors(s.Errors) {
			p.line("    could not read %s: %s", e.parts, clean(e.err))
		}
		for _, m := range s.Missing {
			p.line("    not available: %s (%s)", m.Part, clean(m.Reason))
		}
		for _, n := range s.Notes {
			p.line("    %s", clean(n))
		}
	}
	sum := r.Summary
	p.line("")
	p.line("Inventory: %s", inventoryLine(sum))
	if l := unparsedLine(sum); l != "" {
		p.line("  %s", l)
	}
	for _, s := range sum.ChecksSkipped {
		p.line("  check %s did not run: no %s", s.Check, strings.Join(s.Missing, ", "))
	}
	for _, c := range sum.ChecksDisabled {
		p.line("  check %s is disabled in the configuration", c)
	}
	p.line("")

	if len(r.Coverage) > 0 {
		p.coverage(r)
		p.line("")
	}

	if len(r.Findings) == 0 {
		p.line("No findings.")
	}
	group, first := "", true
	members := memberKeys(r)
	el := elide(r.Findings, members)
	for i, f := range r.Findings {
		if !el.Show[i] {
			continue
		}
		heading := findingHeading(f)
		if first || heading != group {
			first, group = false, heading
			p.line("%s", p.paint(ansiBold, heading))
		}
		p.line("  %s %s  %s%s", p.severity(f.Severity), f.Check, clean(f.Message), memberSuffix(f.Subject, members))
		for _, k := range slices.Sorted(maps.Keys(f.Details)) {
			if v := f.Details[k]; v != "" {
				p.line("      %s: %s", k, clean(v))
			}
		}
		if loc := location(f); loc != "" {
			p.line("      in: %s", clean(loc))
		}
		if f.Fix != "" {
			p.line("      fix: %s", clean(f.Fix))
		}
		p.line("      help: %s", helpPath(f))
		if n := el.More[i]; n > 0 {
			p.line("  ... and %d more %s %s findings for %s: the JSON report lists them all", n, strings.ToLower(f.Severity.String()), f.Check, el.Scope[i])
		}
	}

	if len(r.Suppressed) > 0 {
		p.line("")
		p.line("Suppressed by ignore entries:")
		el := elideSuppressed(r.Suppressed, members)
		for i, s := range r.Suppressed {
			if !el.Show[i] {
				continue
			}
			p.line("  %s %s: %s", s.Finding.Check, clean(subjectString(s.Finding.Subject)), clean(s.Reason))
			if n := el.More[i]; n > 0 {
				p.line("  ... and %d more suppressed %s findings for %s: the JSON report lists them all", n, s.Finding.Check, el.Scope[i])
			}
		}
	}
	p.noise(r.Noise)
	p.expired(r.Expired)
	p.line("")
	p.line("Findings: %d critical, %d warning, %d info; %d suppressed",
		sum.Findings.Critical, sum.Findings.Warning, sum.Findings.Info, sum.Findings.Suppressed)
	return p.err
}

// coverage prints the compact matrix: one line per job, a symbol per column (with the ratio
// where there is one), the columns padded to their widest cell, then the legend.
func (p *printer) coverage(r Report) {
	rows := matrix(r)
	header := matrixHeader()
	type textCell struct {
		text  string
		alarm bool
	}
	lines := make([][]textCell, len(rows))
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for i, row := range rows {
		lines[i] = []textCell{{text: strconv.Quote(row.Job) + rowMember(row.Member)}}
		for _, c := range row.Cells {
			text := stateSymbols[c.State]
			if c.Short != "" {
				text += " " + c.Short
			}
			lines[i] = append(lines[i], textCell{text: text, alarm: c.State == stateGap})
		}
		for c, cl := range lines[i] {
			widths[c] = max(widths[c], utf8.RuneCountInString(cl.text))
		}
	}
	pad := func(s string, c int) string {
		if c == len(widths)-1 {
			return s
		}
		return s + strings.Repeat(" ", widths[c]-utf8.RuneCountInString(s)+2)
	}
	p.line("%s", p.paint(ansiBold, "Coverage: would anyone be paged if the job broke?"))
	var b strings.Builder
	for c, h := range header {
		b.WriteString(pad(h, c))
	}
	p.line("  %s", b.String())
	for _, l := range lines {
		b.Reset()
		for c, cl := range l {
			s := pad(cl.text, c)
			if cl.alarm {
				// Paint the cell, not its padding, so columns stay aligned.
				s = p.paint(ansiRed, cl.text) + s[len(cl.text):]
			}
			b.WriteString(s)
		}
		p.line("  %s", b.String())
	}
	p.line("  %s", matrixLegend)
}

type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) line(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}

func (p *printer) severity(s analyze.Severity) string {
	label := strings.ToUpper(s.String())
	switch s {
	case analyze.Critical:
		return p.paint(ansiRed, label)
	case analyze.Warning:
		return p.paint(ansiYellow, label)
	}
	return p.paint(ansiCyan, label)
}

type errorGroup struct{ parts, err string }

// groupErrors merges parts that failed with the same error: a server that is down fails every
// endpoint the same way, and one line says it better than six.
func groupErrors(errs []SourceError) []errorGroup {
	var out []errorGroup
	idx := map[string]int{}
	for _, e := range errs {
		if i, ok := idx[e.Error]; ok {
			out[i].parts += ", " + e.Part
			continue
		}
		idx[e.Error] = len(out)
		out = append(out, errorGroup{parts: e.Part, err: e.Error})
	}
	return out
}

// clean makes a value from a monitored system safe to print on one terminal line: control
// characters (escape sequences, newlines) are shown escaped. Invalid UTF-8 takes the slow path
// too, where each bad byte becomes U+FFFD: a lone 0x9b byte is CSI to a terminal in 8-bit mode.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

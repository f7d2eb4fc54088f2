package report

import (
	"fmt"
	"io"
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

// WriteText writes the human-readable report: sources, inventory summary, then the findings
// grouped by job. Every value from the monitored systems goes through clean, so a label value
// cannot inject terminal escapes or fake lines.
func WriteText(w io.Writer, r Report, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	p.line("blindspot audit, collected %s", r.CollectedAt.Format("2006-01-02 15:04:05 UTC"))
	for _, s := range r.Sources {
		state := p.paint(ansiBold, "ok")
		if !s.OK {
			state = p.paint(ansiRed, "PARTIAL")
		}
		p.line("  source %s (%s) %s: %s", s.Name, s.Kind, clean(s.URL), state)
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
	p.line("Inventory: %d jobs, %d targets (%d up, %d down, %d unknown), %d rule groups (%d alerting, %d recording rules), %d metric names",
		sum.Jobs, sum.Targets.Up+sum.Targets.Down+sum.Targets.Unknown, sum.Targets.Up, sum.Targets.Down, sum.Targets.Unknown,
		sum.Rules.Groups, sum.Rules.Alerting, sum.Rules.Recording, sum.MetricNames)
	if sum.Rules.Unparseable > 0 || sum.Rules.NotPromQL > 0 {
		p.line("  %d rules do not parse as PromQL, %d are not PromQL rules and were skipped", sum.Rules.Unparseable, sum.Rules.NotPromQL)
	}
	for _, s := range sum.ChecksSkipped {
		p.line("  check %s did not run: no %s", s.Check, strings.Join(s.Missing, ", "))
	}
	p.line("")

	if len(r.Findings) == 0 {
		p.line("No findings.")
	}
	job, first := "", true
	for _, f := range r.Findings {
		j, hasJob := f.Subject["job"]
		if first || j != job {
			first, job = false, j
			if hasJob {
				p.line("%s", p.paint(ansiBold, "job "+strconv.Quote(j)))
			} else {
				p.line("%s", p.paint(ansiBold, "other"))
			}
		}
		p.line("  %s %s  %s", p.severity(f.Severity), f.Check, clean(f.Message))
		for _, k := range sortedKeys(f.Details) {
			if v := f.Details[k]; v != "" {
				p.line("      %s: %s", k, clean(v))
			}
		}
	}
	p.line("")
	p.line("Findings: %d critical, %d warning, %d info", sum.Findings.Critical, sum.Findings.Warning, sum.Findings.Info)
	return p.err
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

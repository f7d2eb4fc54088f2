package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/weblink"
	"github.com/blindspot-dev/blindspot/templates"
)

// HTMLOptions control the HTML renderer.
type HTMLOptions struct {
	// Version is blindspot's version, shown in the header.
	Version string
	// Changes, when set, are shown first: what changed since an earlier audit.
	Changes *Changes
}

// WriteHTML writes the report as one self-contained page (templates/report.html.tmpl): the
// sources, the totals, the coverage matrix with each cell linking to the findings behind it,
// and a findings table that can be filtered, searched and sorted. CSS and JavaScript are
// inlined, so the page works offline. Every value from the monitored systems is escaped by
// html/template; only http and https values become links.
func WriteHTML(w io.Writer, r Report, o HTMLOptions) error {
	t, err := htmlTemplate()
	if err != nil {
		return err
	}
	p := newHTMLPage(r, o)
	if p.ScriptHash, err = scriptHash(); err != nil {
		return err
	}
	return t.Execute(w, p)
}

// scriptHash is the Content-Security-Policy source that allows the page's own script and no
// other: should a value ever slip past the escaping, the browser would still refuse to run it.
// The script takes no values, so its text is the same on every page and is hashed once.
var scriptHash = sync.OnceValues(func() (string, error) {
	t, err := htmlTemplate()
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, htmlPage{}); err != nil {
		return "", fmt.Errorf("rendering templates/%s: %w", templates.ReportHTML, err)
	}
	page := buf.String()
	start, end := strings.Index(page, "<script>"), strings.LastIndex(page, "</script>")
	if start < 0 || end < start {
		return "", fmt.Errorf("templates/%s has no <script> element", templates.ReportHTML)
	}
	sum := sha256.Sum256([]byte(page[start+len("<script>") : end]))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'", nil
})

var htmlTemplate = sync.OnceValues(func() (*template.Template, error) {
	t, err := template.New(templates.ReportHTML).Option("missingkey=error").Funcs(template.FuncMap{
		"symbol": func(s cellState) string { return stateSymbols[s] },
	}).ParseFS(templates.FS, templates.ReportHTML, templates.ReportCSS, templates.ReportJS)
	if err != nil {
		return nil, fmt.Errorf("parsing templates/%s: %w", templates.ReportHTML, err)
	}
	return t, nil
})

// htmlPage is what the template renders.
type htmlPage struct {
	Report  Report
	Version string
	// ScriptHash is the CSP source of the page's script (scriptHash).
	ScriptHash string
	Sources    []htmlSource
	// Inventory and Unparsed are the summary lines the other renderers print too.
	Inventory, Unparsed string
	Columns             []matrixColumn
	Matrix              []htmlMatrixRow
	Legend              []htmlLegend
	Findings            []htmlFinding
	// Elided says, per group of findings cut at MaxFindingsPerGroup, how many more there are.
	Elided     []htmlElided
	Suppressed []htmlFinding
	// SuppressedElided is Elided for the suppressed findings.
	SuppressedElided []htmlElided
	// Checks and Jobs fill the filters: the checks in report order, the jobs sorted.
	Checks []string
	Jobs   []htmlJob
	// NoJob is set when some finding has no job (a rule's, say).
	NoJob bool
	// Changes are HTMLOptions.Changes (nil when none were given).
	Changes *htmlChanges
}

// htmlSource is a source with the parts that failed the same way merged, as in the text report.
type htmlSource struct {
	Source
	Failed []htmlFailure
}

type htmlFailure struct{ Parts, Error string }

type htmlMatrixRow struct {
	Job   string
	Cells []htmlCell
}

type htmlCell struct {
	matrixCell
	// Target is the anchor of the first finding behind the cell ("" when none), IDs all
	// their IDs separated by spaces, for the script that filters the table down to them.
	Target string
	IDs    string
	Label  string
}

type htmlLegend struct {
	State cellState
	Text  string
}

// htmlElided is a group of findings of which only the first MaxFindingsPerGroup are shown.
type htmlElided struct {
	Severity analyze.Severity
	Check    string
	Scope    string
	More     int
}

type htmlJob struct {
	Key, Name string
}

type htmlFinding struct {
	analyze.Finding
	Rank     int
	Job      string
	HasJob   bool
	JobKey   string
	Subject  string
	Location string
	Details  []htmlDetail
	HelpURL  string
	Reason   string
	// Sparkline draws the series of the history behind the finding; nil when it has none.
	Sparkline *htmlSparkline
}

// htmlDetail is one detail of a finding; URL is set only for an http or https value.
type htmlDetail struct {
	Key, Value, URL string
}

func newHTMLPage(r Report, o HTMLOptions) htmlPage {
	p := htmlPage{
		Report:    r,
		Version:   o.Version,
		Inventory: inventoryLine(r.Summary),
		Unparsed:  unparsedLine(r.Summary),
		Columns:   matrixColumns,
	}
	for _, src := range r.Sources {
		hs := htmlSource{Source: src}
		for _, g := range groupErrors(src.Errors) {
			hs.Failed = append(hs.Failed, htmlFailure{Parts: g.parts, Error: g.err})
		}
		p.Sources = append(p.Sources, hs)
	}
	el := elide(r.Findings, memberKeys(r))
	var hidden map[string]bool // the IDs of the findings not shown
	for i, f := range r.Findings {
		if !el.Show[i] {
			if hidden == nil {
				hidden = map[string]bool{}
			}
			hidden[f.ID] = true
		}
	}
	rows := matrix(r)
	for _, row := range rows {
		hr := htmlMatrixRow{Job: row.Job + rowMember(row.Member)}
		for c, cell := range row.Cells {
			hc := htmlCell{matrixCell: cell, Label: "job " + strconv.Quote(row.Job) + ", " + matrixColumns[c].Heading}
			if hidden != nil {
				// A cell links only to findings on the page.
				cell.Findings = slices.DeleteFunc(slices.Clone(cell.Findings), func(id string) bool { return hidden[id] })
			}
			if len(cell.Findings) > 0 {
				hc.Target, hc.IDs = "f-"+cell.Findings[0], strings.Join(cell.Findings, " ")
			}
			hr.Cells = append(hr.Cells, hc)
		}
		p.Matrix = append(p.Matrix, hr)
	}
	for _, s := range []cellState{stateCovered, stateGap, stateNone, stateUnknown} {
		p.Legend = append(p.Legend, htmlLegend{State: s, Text: legendTexts[s]})
	}

	var jobs []string
	for _, f := range r.Findings {
		if !slices.Contains(p.Checks, f.Check) {
			p.Checks = append(p.Checks, f.Check)
		}
		if j, ok := f.Subject["job"]; ok {
			jobs = append(jobs, j)
		} else {
			p.NoJob = true
		}
	}
	slices.Sort(jobs)
	jobs = slices.Compact(jobs)
	keys := map[string]string{}
	for i, j := range jobs {
		keys[j] = "j" + strconv.Itoa(i)
		p.Jobs = append(p.Jobs, htmlJob{Key: keys[j], Name: j})
	}
	for i, f := range r.Findings {
		if !el.Show[i] {
			continue
		}
		hf := newHTMLFinding(f, keys)
		if s, ok := r.Sparklines[f.ID]; ok {
			hf.Sparkline = newHTMLSparkline(s)
		}
		p.Findings = append(p.Findings, hf)
		if n := el.More[i]; n > 0 {
			p.Elided = append(p.Elided, htmlElided{Severity: f.Severity, Check: f.Check, Scope: el.Scope[i], More: n})
		}
	}
	sel := elideSuppressed(r.Suppressed, memberKeys(r))
	for i, s := range r.Suppressed {
		if !sel.Show[i] {
			continue
		}
		hf := newHTMLFinding(s.Finding, keys)
		hf.Reason = s.Reason
		p.Suppressed = append(p.Suppressed, hf)
		if n := sel.More[i]; n > 0 {
			p.SuppressedElided = append(p.SuppressedElided, htmlElided{Severity: s.Finding.Severity, Check: s.Finding.Check, Scope: sel.Scope[i], More: n})
		}
	}
	p.Changes = newHTMLChanges(o.Changes, p.Findings)
	return p
}

var legendTexts = map[cellState]string{
	stateCovered: "covered",
	stateGap:     "gap",
	stateNone:    "nothing to judge",
	stateUnknown: "not known: the audit lacked what the column needs (see the checks that did not run)",
}

func newHTMLFinding(f analyze.Finding, jobKeys map[string]string) htmlFinding {
	hf := htmlFinding{
		Finding:  f,
		Rank:     int(analyze.Critical - f.Severity),
		JobKey:   "none",
		Subject:  subjectString(f.Subject),
		Location: location(f),
		HelpURL:  HelpBaseURL + helpPath(f),
	}
	if j, ok := f.Subject["job"]; ok {
		hf.Job, hf.HasJob, hf.JobKey = j, true, jobKeys[j]
	}
	for _, k := range slices.Sorted(maps.Keys(f.Details)) {
		if v := f.Details[k]; v != "" {
			hf.Details = append(hf.Details, htmlDetail{Key: k, Value: v, URL: webURL(v)})
		}
	}
	return hf
}

// webURL returns s when it is an absolute http or https URL, else "": a value from a
// monitored system becomes a link only then (never javascript: or data:).
func webURL(s string) string { return weblink.Absolute(s) }

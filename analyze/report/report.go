// Package report renders an audit: a stable JSON document (schema in docs/report.md), a
// human-readable text form and Markdown for wiki pages and pull-request comments. Renderers
// write to an io.Writer and never print on their own.
package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

// SchemaVersion is the version of the JSON report schema.
const SchemaVersion = 1

// Report is the document every renderer starts from.
type Report struct {
	Version     int                 `json:"version"`
	GeneratedAt time.Time           `json:"generated_at"`
	CollectedAt time.Time           `json:"collected_at"`
	Sources     []Source            `json:"sources"`
	Summary     Summary             `json:"summary"`
	Coverage    []CoverageRow       `json:"coverage"`
	Findings    []analyze.Finding   `json:"findings"`
	Suppressed  []SuppressedFinding `json:"suppressed"`
	// Expired lists the ignore entries past their expiry (see expired.go); absent when none.
	Expired []ExpiredException `json:"expired_exceptions,omitempty"`
	// Noise are the noise tables of the servers whose history was read (see noise.go);
	// absent when none was.
	Noise []NoiseTable `json:"noise,omitempty"`
	// Sparklines are, by finding ID, the series of the history behind some findings (see
	// sparklines), which the HTML report draws; not part of the JSON document.
	Sparklines map[string]Sparkline `json:"-"`
}

// Source is one audited source and what went wrong with it.
type Source struct {
	Name    string        `json:"name"`
	Kind    string        `json:"kind"`
	URL     string        `json:"url"`
	Version string        `json:"version,omitempty"`
	OK      bool          `json:"ok"`
	Error   string        `json:"error,omitempty"`
	Errors  []SourceError `json:"errors,omitempty"`
	Missing []Missing     `json:"missing,omitempty"`
	Notes   []string      `json:"notes,omitempty"`
}

// SourceError is a part of a source that could not be read.
type SourceError struct {
	Part  string `json:"part"`
	Error string `json:"error"`
}

// Missing is a part a source does not provide.
type Missing struct {
	Part   string `json:"part"`
	Reason string `json:"reason"`
}

// Summary counts what was audited and found.
type Summary struct {
	Jobs           int            `json:"jobs"`
	Targets        TargetSummary  `json:"targets"`
	Rules          RuleSummary    `json:"rules"`
	MetricNames    int            `json:"metric_names"`
	Findings       FindingSummary `json:"findings"`
	ChecksRun      []string       `json:"checks_run"`
	ChecksSkipped  []SkippedCheck `json:"checks_skipped,omitempty"`
	ChecksDisabled []string       `json:"checks_disabled,omitempty"`
}

type TargetSummary struct {
	Up      int `json:"up"`
	Down    int `json:"down"`
	Unknown int `json:"unknown"`
}

type RuleSummary struct {
	Groups      int `json:"groups"`
	Alerting    int `json:"alerting"`
	Recording   int `json:"recording"`
	Unparseable int `json:"unparseable"`
	NotPromQL   int `json:"not_promql"`
}

// FindingSummary counts the reported findings by severity; Total leaves out the suppressed.
type FindingSummary struct {
	Critical   int `json:"critical"`
	Warning    int `json:"warning"`
	Info       int `json:"info"`
	Total      int `json:"total"`
	Suppressed int `json:"suppressed"`
}

// SkippedCheck is a check that did not run for lack of information.
type SkippedCheck struct {
	Check   string   `json:"check"`
	Missing []string `json:"missing"`
	// Members names the fleet members the check was skipped for, in a fleet audit
	// (MemberName); absent for one server.
	Members []string `json:"members,omitempty"`
}

// SuppressedFinding is a finding an ignore entry accepted, with the entry's reason.
type SuppressedFinding struct {
	Finding analyze.Finding `json:"finding"`
	Reason  string          `json:"reason"`
}

// CoverageRow is one job of the coverage matrix: would anyone be paged if it broke?
type CoverageRow struct {
	Job string `json:"job"`
	// Targets counts the job's active targets, Up those whose last scrape succeeded.
	Targets int `json:"targets"`
	Up      int `json:"up"`
	// UpAlerts and AbsenceAlerts name the alerts that fire when the targets are down or when
	// the job vanishes.
	UpAlerts      []string `json:"up_alerts"`
	AbsenceAlerts []string `json:"absence_alerts"`
	// BusinessCovered of BusinessTotal business metrics have an alert watching them.
	BusinessCovered int              `json:"business_covered"`
	BusinessTotal   int              `json:"business_total"`
	Business        []BusinessMetric `json:"business"`
	// Alerts counts the distinct alerts covering the job, AlertsWithRunbook those that link a
	// runbook; AlertsWithoutRunbook names the others.
	Alerts               int      `json:"alerts"`
	AlertsWithRunbook    int      `json:"alerts_with_runbook"`
	AlertsWithoutRunbook []string `json:"alerts_without_runbook"`
	// Dashboards are the titles of the dashboards with a query on the job (empty when none
	// does, or when no dashboards were read: then dashboards/missing did not run).
	Dashboards []string `json:"dashboards"`
	// Pages names the receivers with a paging integration that the job's alerts reach through
	// the Alertmanager's routing tree; empty means they page nobody.
	Pages []string `json:"pages"`
	// Unknown names the columns the audit could not decide because a part was missing
	// (Unknown* constants); their values above mean nothing.
	Unknown []string `json:"unknown,omitempty"`
	// Member names the fleet member (source, cluster) the job was judged in, with the keys
	// its findings carry in their subject; absent for one server.
	Member map[string]string `json:"member,omitempty"`
}

// BusinessMetric is a metric of a job that looks like business output, and the alerts on it.
type BusinessMetric struct {
	Metric    string   `json:"metric"`
	Kind      string   `json:"kind"`
	CoveredBy []string `json:"covered_by"`
}

// The names of the coverage columns in CoverageRow.Unknown.
const (
	UnknownTargets       = "targets"        // targets and up
	UnknownUpAlerts      = "up_alerts"      // up_alerts
	UnknownAbsenceAlerts = "absence_alerts" // absence_alerts
	UnknownBusiness      = "business"       // business_covered, business_total and business
	UnknownAlerts        = "alerts"         // alerts, alerts_with_runbook and alerts_without_runbook
	UnknownPages         = "pages"          // pages
)

// unknownColumns maps the matrix columns the JSON report can mark unknown to their name in
// coverage[].unknown. A column is known when the check that decides it (its Meta's
// MatrixColumn) could run on the inventory, so the matrix and the findings never disagree
// about what was seen; a column whose check the audit's list lacks is unknown.
var unknownColumns = []struct {
	column  checks.Column
	unknown string
}{
	{checks.ColumnScraped, UnknownTargets},
	{checks.ColumnUpAlert, UnknownUpAlerts},
	{checks.ColumnAbsenceAlert, UnknownAbsenceAlerts},
	{checks.ColumnBusiness, UnknownBusiness},
	{checks.ColumnRunbooks, UnknownAlerts},
	{checks.ColumnPages, UnknownPages},
}

// Input is everything an audit produced.
type Input struct {
	Inventory *analyze.Inventory
	Result    checks.Result
	// Checks are the checks the audit was run with, disabled ones included.
	Checks []checks.Check
	// Matrix is the coverage of every job (coverage.Analysis.Matrix).
	Matrix []coverage.JobCoverage
	Now    time.Time
	// Dashboards maps each job to the titles of the dashboards querying it
	// (checks.Derived.Dashboards); nil when no dashboards were read.
	Dashboards map[string][]string
	// Pages maps each job of Matrix to the paging receivers its alerts reach
	// (checks.Derived.Pages); nil when the routing is unknown.
	Pages map[string][]string
}

// Build assembles the report of an audit.
func Build(in Input) Report {
	inv, res := in.Inventory, in.Result
	r := Report{
		Version:     SchemaVersion,
		GeneratedAt: in.Now.UTC(),
		CollectedAt: inv.CollectedAt.UTC(),
		Sources:     []Source{},
		Coverage:    []CoverageRow{},
		Findings:    slices.Clone(res.Findings),
		Suppressed:  suppressed(res.Suppressed),
		Expired:     expiredExceptions(res.Expired),
		Noise:       noiseTables(inv),
	}
	if r.Findings == nil {
		r.Findings = []analyze.Finding{}
	}
	r.Sparklines = sparklines(inv.History, r.Findings)
	for _, s := range inv.Sources {
		// Collectors pass redacted URLs on; redacting again here keeps a client's error text
		// that quotes a requested URL (query string included) out of every format.
		src := Source{Name: s.Name, Kind: s.Kind, URL: redact.Text(s.URL), Version: s.Version, OK: s.OK(), Notes: s.Notes}
		var msgs []string
		for _, e := range s.Errors {
			msg := redact.Text(e.Err)
			src.Errors = append(src.Errors, SourceError{Part: string(e.Part), Error: msg})
			if !slices.Contains(msgs, msg) {
				msgs = append(msgs, msg)
			}
		}
		src.Error = strings.Join(msgs, "; ")
		for _, m := range s.Missing {
			src.Missing = append(src.Missing, Missing{Part: string(m.Part), Reason: m.Reason})
		}
		r.Sources = append(r.Sources, src)
	}

	var unknown []string
	for _, uc := range unknownColumns {
		if !canRun(inv, in.Checks, checks.ColumnCheck(uc.column)) {
			unknown = append(unknown, uc.unknown)
		}
	}
	for _, jc := range in.Matrix {
		row := coverageRow(jc, unknown)
		row.Dashboards = append([]string{}, in.Dashboards[jc.Job]...)
		row.Pages = slices.Clone(in.Pages[jc.Job])
		if row.Pages == nil {
			row.Pages = []string{}
		}
		if in.Pages == nil && row.known(UnknownPages) {
			row.Unknown = append(row.Unknown, UnknownPages)
		}
		r.Coverage = append(r.Coverage, row)
	}

	sum := &r.Summary
	sum.Jobs = len(inv.Jobs)
	for _, t := range inv.Targets {
		switch t.Health {
		case analyze.HealthUp:
			sum.Targets.Up++
		case analyze.HealthDown:
			sum.Targets.Down++
		default:
			sum.Targets.Unknown++
		}
	}
	sum.Rules.Groups = len(inv.RuleGroups)
	for _, g := range inv.RuleGroups {
		for _, rule := range g.Rules {
			switch {
			case g.Language != "promql":
				sum.Rules.NotPromQL++
			case rule.ParseError != "":
				sum.Rules.Unparseable++
			}
			if rule.Kind == analyze.RuleAlerting {
				sum.Rules.Alerting++
			} else {
				sum.Rules.Recording++
			}
		}
	}
	sum.MetricNames = len(inv.MetricNames)
	sum.Findings = countFindings(r.Findings, len(r.Suppressed))
	sum.ChecksRun = []string{}
	for _, c := range in.Checks {
		id := c.Meta().ID
		skipped := slices.ContainsFunc(res.Skipped, func(s checks.Skipped) bool { return s.Check == id })
		if !skipped && !slices.Contains(res.Disabled, id) {
			sum.ChecksRun = append(sum.ChecksRun, id)
		}
	}
	for _, s := range res.Skipped {
		sk := SkippedCheck{Check: s.Check}
		for _, p := range s.Missing {
			sk.Missing = append(sk.Missing, string(p))
		}
		sum.ChecksSkipped = append(sum.ChecksSkipped, sk)
	}
	sum.ChecksDisabled = slices.Clone(res.Disabled)
	return r
}

// canRun reports whether the named check is among cs and the inventory holds every part it
// needs, whether or not the configuration turned it off.
func canRun(inv *analyze.Inventory, cs []checks.Check, name string) bool {
	i := slices.IndexFunc(cs, func(c checks.Check) bool { return c.Meta().ID == name })
	if i < 0 {
		return false
	}
	for _, p := range cs[i].Meta().Requires {
		if !inv.Has(p) {
			return false
		}
	}
	return true
}

// suppressed orders the suppressed findings like the reported ones.
func suppressed(in []checks.Suppressed) []SuppressedFinding {
	fs := make([]analyze.Finding, len(in))
	reasons := make(map[string]string, len(in))
	for i, s := range in {
		fs[i] = s.Finding
		reasons[s.Finding.ID] = s.Reason
	}
	analyze.SortFindings(fs)
	out := make([]SuppressedFinding, len(fs))
	for i, f := range fs {
		out[i] = SuppressedFinding{Finding: f, Reason: reasons[f.ID]}
	}
	return out
}

func coverageRow(jc coverage.JobCoverage, unknown []string) CoverageRow {
	row := CoverageRow{
		Job:                  jc.Job,
		Targets:              jc.Targets,
		Up:                   jc.Up,
		UpAlerts:             alertNames(jc.UpAlerts),
		AbsenceAlerts:        alertNames(jc.AbsentAlerts),
		Business:             []BusinessMetric{},
		BusinessTotal:        len(jc.Business),
		AlertsWithoutRunbook: []string{},
		Unknown:              slices.Clone(unknown),
	}
	for _, b := range jc.Business {
		if len(b.CoveredBy) > 0 {
			row.BusinessCovered++
		}
		row.Business = append(row.Business, BusinessMetric{Metric: b.Metric, Kind: b.Kind, CoveredBy: alertNames(b.CoveredBy)})
	}
	// Rules are counted by name, as the checks report them: an alert with a warning and a
	// critical variant is one alert, and it lacks a runbook when either variant does.
	all := alertNames(jc.Alerts())
	for _, ref := range jc.Alerts() {
		if strings.TrimSpace(ref.Runbook) == "" {
			row.AlertsWithoutRunbook = append(row.AlertsWithoutRunbook, ref.Name)
		}
	}
	slices.Sort(row.AlertsWithoutRunbook)
	row.AlertsWithoutRunbook = slices.Compact(row.AlertsWithoutRunbook)
	row.Alerts = len(all)
	row.AlertsWithRunbook = row.Alerts - len(row.AlertsWithoutRunbook)
	return row
}

// alertNames returns the sorted distinct names of refs, never nil.
func alertNames(refs []coverage.RuleRef) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// known reports whether the row's column could be decided.
func (row CoverageRow) known(column string) bool { return !slices.Contains(row.Unknown, column) }

// Partial reports whether some source could not be read completely.
func (r Report) Partial() bool {
	for _, s := range r.Sources {
		if !s.OK {
			return true
		}
	}
	return false
}

// Unread lists the sources that were not read completely, "name url: error" each.
func (r Report) Unread() []string {
	var out []string
	for _, s := range r.Sources {
		if !s.OK {
			out = append(out, fmt.Sprintf("%s %s: %s", s.Name, s.URL, s.Error))
		}
	}
	return out
}

// countFindings counts the reported findings by severity, beside the suppressed ones.
func countFindings(findings []analyze.Finding, suppressed int) FindingSummary {
	out := FindingSummary{Total: len(findings), Suppressed: suppressed}
	for _, f := range findings {
		switch f.Severity {
		case analyze.Critical:
			out.Critical++
		case analyze.Warning:
			out.Warning++
		default:
			out.Info++
		}
	}
	return out
}

package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// The coverage matrix as every renderer shows it: one row per job, one cell per column, each
// cell covered, a gap, unknown (a part the column needs was not read) or empty (nothing to
// judge), and the IDs of the findings behind it. The columns are one table (matrixColumns),
// so that adding a column is adding one entry.

// cellState is how a matrix cell looks.
type cellState string

const (
	stateCovered cellState = "covered"
	stateGap     cellState = "gap"
	stateUnknown cellState = "unknown"
	// stateNone is a cell with nothing to judge: a job with no business metric has no
	// business coverage to lack.
	stateNone cellState = "none"
)

// stateSymbols are the symbols of the compact text matrix, and of the HTML cells.
var stateSymbols = map[cellState]string{
	stateCovered: "✓",
	stateGap:     "✗",
	stateUnknown: unknownCell,
	stateNone:    "·",
}

// unknownCell marks a column the audit could not decide.
const unknownCell = "—"

const unknownLegend = unknownCell + " not known: the audit lacked what the column needs (see the checks that did not run)"

// matrixLegend explains the symbols of the compact text matrix.
const matrixLegend = "✓ covered  ✗ gap  · nothing to judge  " + unknownLegend

// matrixCell is one cell of the coverage matrix.
type matrixCell struct {
	State cellState
	// Text is the cell in words: "yes", "NO", "1/2 up", "none", "—".
	Text string
	// Short is what the compact text matrix shows after the symbol ("1/2"), "" for the
	// symbol alone.
	Short string
	// Title explains the cell: the alerts that cover the job, or why the cell is unknown.
	Title string
	// Findings are the IDs of the findings behind the cell, reported then suppressed.
	Findings []string
}

// matrixColumn is one column of the coverage matrix.
type matrixColumn struct {
	// ID names the column in HTML ids and classes; the check whose Meta names it as its
	// MatrixColumn decides the column.
	ID      checks.Column
	Heading string
	// cell computes the column's cell of row; check is the ID of the check deciding it.
	cell func(x *matrixIndex, row CoverageRow, check string) matrixCell
}

// matrixColumns are the columns after the job, in order.
var matrixColumns = []matrixColumn{
	{checks.ColumnScraped, "scraped", scrapedCell},
	{checks.ColumnUpAlert, "up alert", alertsCell(UnknownUpAlerts, func(r CoverageRow) []string { return r.UpAlerts })},
	{checks.ColumnAbsenceAlert, "absence alert", alertsCell(UnknownAbsenceAlerts, func(r CoverageRow) []string { return r.AbsenceAlerts })},
	{checks.ColumnBusiness, "business", businessCell},
	{checks.ColumnLogs, "logs", logsCell},
	{checks.ColumnSecrets, "secrets", secretsCell},
	{checks.ColumnRunbooks, "runbooks", runbooksCell},
	{checks.ColumnDashboards, "dashboards", dashboardsCell},
	{checks.ColumnPages, "pages someone", pagesCell},
}

// matrixHeader is the heading row of the text and Markdown matrices.
func matrixHeader() []string {
	out := []string{"job"}
	for _, c := range matrixColumns {
		out = append(out, c.Heading)
	}
	return out
}

// matrixRow is one job of the matrix with its cells in matrixColumns order.
type matrixRow struct {
	Job string
	// Member is the fleet member the job was judged in (nil for one server).
	Member map[string]string
	Cells  []matrixCell
}

// matrix computes every cell of the report's coverage matrix.
func matrix(r Report) []matrixRow {
	x := newMatrixIndex(r)
	deciding := make([]string, len(matrixColumns))
	for c, col := range matrixColumns {
		deciding[c] = checks.ColumnCheck(col.ID)
	}
	out := make([]matrixRow, len(r.Coverage))
	for i, row := range r.Coverage {
		out[i] = matrixRow{Job: row.Job, Member: row.Member, Cells: make([]matrixCell, len(matrixColumns))}
		for c, col := range matrixColumns {
			out[i].Cells[c] = col.cell(x, row, deciding[c])
		}
	}
	return out
}

// anyState reports whether some cell of the matrix is in state s.
func anyState(rows []matrixRow, s cellState) bool {
	return slices.ContainsFunc(rows, func(r matrixRow) bool {
		return slices.ContainsFunc(r.Cells, func(c matrixCell) bool { return c.State == s })
	})
}

// matrixIndex finds the findings behind a cell and says why a check did not run.
type matrixIndex struct {
	// byJob and byRule map a check and the job (or rule) of the subject to finding IDs.
	byJob, byRule map[[2]string][]string
	ran           map[string]bool
	notRun        map[string]string
}

func newMatrixIndex(r Report) *matrixIndex {
	x := &matrixIndex{byJob: map[[2]string][]string{}, byRule: map[[2]string][]string{}, ran: map[string]bool{}, notRun: map[string]string{}}
	all := slices.Clone(r.Findings)
	for _, s := range r.Suppressed {
		all = append(all, s.Finding)
	}
	for _, f := range all {
		if job, ok := f.Subject["job"]; ok {
			k := [2]string{f.Check, job}
			x.byJob[k] = append(x.byJob[k], f.ID)
		} else if job := f.Details["job"]; job != "" && f.Subject["scrape_pool"] != "" {
			// A pool without targets whose configuration fixes their job label is that
			// job's row too (jobs/no-targets says which job in its details).
			k := [2]string{f.Check, job}
			x.byJob[k] = append(x.byJob[k], f.ID)
		}
		if rule, ok := f.Subject["rule"]; ok {
			k := [2]string{f.Check, rule}
			x.byRule[k] = append(x.byRule[k], f.ID)
		}
	}
	for _, c := range r.Summary.ChecksRun {
		x.ran[c] = true
	}
	for _, s := range r.Summary.ChecksSkipped {
		x.notRun[s.Check] = fmt.Sprintf("check %s did not run: no %s", s.Check, strings.Join(s.Missing, ", "))
	}
	for _, c := range r.Summary.ChecksDisabled {
		x.notRun[c] = fmt.Sprintf("check %s is disabled in the configuration", c)
	}
	return x
}

// jobFindings are the findings of the checks about job.
func (x *matrixIndex) jobFindings(job string, checkNames ...string) []string {
	var out []string
	for _, c := range checkNames {
		out = append(out, x.byJob[[2]string{c, job}]...)
	}
	return out
}

// unknown is the cell of a column the named check decides and could not.
func (x *matrixIndex) unknown(check string) matrixCell {
	why, ok := x.notRun[check]
	if !ok {
		why = "check " + check + " is not in this audit"
	}
	return matrixCell{State: stateUnknown, Text: unknownCell, Title: "not known: " + why}
}

func scrapedCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !row.known(UnknownTargets) {
		return x.unknown(check)
	}
	fs := x.jobFindings(row.Job, check, checks.JobsNoTargetsName)
	if row.Targets == 0 {
		return matrixCell{State: stateGap, Text: "none", Short: "none", Title: "no active target", Findings: fs}
	}
	c := matrixCell{
		State: stateCovered, Text: fmt.Sprintf("%d/%d up", row.Up, row.Targets), Short: fmt.Sprintf("%d/%d", row.Up, row.Targets),
		Title: fmt.Sprintf("%d of %d active targets up", row.Up, row.Targets), Findings: fs,
	}
	if row.Up < row.Targets {
		c.State = stateGap
	}
	return c
}

// alertsCell is a column that is covered when some alert watches the job.
func alertsCell(column string, alerts func(CoverageRow) []string) func(*matrixIndex, CoverageRow, string) matrixCell {
	return func(x *matrixIndex, row CoverageRow, check string) matrixCell {
		if !row.known(column) {
			return x.unknown(check)
		}
		names := alerts(row)
		if len(names) == 0 {
			return matrixCell{State: stateGap, Text: "NO", Title: "no alert", Findings: x.jobFindings(row.Job, check)}
		}
		return matrixCell{State: stateCovered, Text: "yes", Title: "alerts: " + strings.Join(names, ", ")}
	}
}

// ratioCell is a column of n covered of total.
func ratioCell(n, total int, title string, fs []string) matrixCell {
	if total == 0 {
		return matrixCell{State: stateNone, Text: "none", Title: title}
	}
	c := matrixCell{State: stateCovered, Text: fmt.Sprintf("%d/%d", n, total), Title: title, Findings: fs}
	c.Short = c.Text
	if n < total {
		c.State = stateGap
	}
	return c
}

func businessCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !row.known(UnknownBusiness) {
		return x.unknown(check)
	}
	var watched, unwatched []string
	for _, b := range row.Business {
		if len(b.CoveredBy) > 0 {
			watched = append(watched, b.Metric)
		} else {
			unwatched = append(unwatched, b.Metric)
		}
	}
	title := "no business metric"
	if row.BusinessTotal > 0 {
		title = fmt.Sprintf("%d of %d business metrics watched", row.BusinessCovered, row.BusinessTotal)
		if len(unwatched) > 0 {
			title += "; not watched: " + strings.Join(unwatched, ", ")
		}
	}
	return ratioCell(row.BusinessCovered, row.BusinessTotal, title, x.jobFindings(row.Job, check))
}

func runbooksCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !row.known(UnknownAlerts) {
		return x.unknown(check)
	}
	var fs []string
	for _, name := range row.AlertsWithoutRunbook {
		fs = append(fs, x.byRule[[2]string{check, name}]...)
	}
	title := "no alert covers the job"
	if row.Alerts > 0 {
		title = fmt.Sprintf("%d of %d alerts link a runbook", row.AlertsWithRunbook, row.Alerts)
		if len(row.AlertsWithoutRunbook) > 0 {
			title += "; without: " + strings.Join(row.AlertsWithoutRunbook, ", ")
		}
	}
	return ratioCell(row.AlertsWithRunbook, row.Alerts, title, fs)
}

// logsCell is decided by the findings of logs/unaggregated alone: the report holds no other
// trace of the streams. A disabled check leaves the column unknown for that reason.
func logsCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !x.ran[check] {
		return x.unknown(check)
	}
	if fs := x.jobFindings(row.Job, check); len(fs) > 0 {
		return matrixCell{State: stateGap, Text: "NO", Title: "no Loki stream of the job in the log window", Findings: fs}
	}
	if row.Up == 0 {
		return matrixCell{State: stateNone, Text: "none", Title: "no healthy target whose logs could be looked for"}
	}
	return matrixCell{State: stateCovered, Text: "yes", Title: "the job's logs reach Loki"}
}

// secretsCell is covered when no secret was found in the job's sampled log lines.
func secretsCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !x.ran[check] {
		return x.unknown(check)
	}
	if fs := x.jobFindings(row.Job, check); len(fs) > 0 {
		return matrixCell{State: stateGap, Text: "FOUND", Short: strconv.Itoa(len(fs)),
			Title: fmt.Sprintf("secrets in the logs: %d stream and pattern pairs", len(fs)), Findings: fs}
	}
	if logs := logsCell(x, row, checks.ColumnCheck(checks.ColumnLogs)); logs.State == stateGap || logs.State == stateNone {
		return matrixCell{State: stateNone, Text: "none", Title: "no log lines of the job were read"}
	}
	return matrixCell{State: stateCovered, Text: "no", Title: "no secret pattern in the sampled log lines"}
}

// dashboardsCell counts the dashboards querying the job; a job dashboards/missing reported is a
// gap. Unknown when no dashboards were read.
func dashboardsCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !x.ran[check] {
		return x.unknown(check)
	}
	if fs := x.jobFindings(row.Job, check); len(fs) > 0 {
		return matrixCell{State: stateGap, Text: "NO", Title: "no dashboard queries the job", Findings: fs}
	}
	if len(row.Dashboards) == 0 {
		return matrixCell{State: stateNone, Text: "none", Title: "no healthy target to watch"}
	}
	n := strconv.Itoa(len(row.Dashboards))
	return matrixCell{State: stateCovered, Text: n, Short: n, Title: "dashboards: " + strings.Join(row.Dashboards, ", ")}
}

// pagesCell is covered when the job's alerts reach a paging receiver through the Alertmanager's
// routing tree; the findings behind a gap are those of alerts/unrouted on the job's alerts.
func pagesCell(x *matrixIndex, row CoverageRow, check string) matrixCell {
	if !row.known(UnknownPages) {
		return x.unknown(check)
	}
	if len(row.Pages) > 0 {
		return matrixCell{State: stateCovered, Text: "yes", Title: "pages: " + strings.Join(row.Pages, ", ")}
	}
	if row.Alerts == 0 {
		return matrixCell{State: stateNone, Text: "none", Title: "no alert covers the job"}
	}
	alerts := slices.Concat(row.UpAlerts, row.AbsenceAlerts)
	for _, b := range row.Business {
		alerts = append(alerts, b.CoveredBy...)
	}
	slices.Sort(alerts)
	var fs []string
	for _, name := range slices.Compact(alerts) {
		fs = append(fs, x.byRule[[2]string{check, name}]...)
	}
	return matrixCell{State: stateGap, Text: "NO", Title: "the job's alerts reach no paging receiver", Findings: fs}
}

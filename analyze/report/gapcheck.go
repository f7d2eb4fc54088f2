package report

import (
	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
)

// GapCheck is the outcome of `blindspot check`: an audit compared with a baseline. It fails on
// the new findings at or above FailOn and on expired exceptions.
type GapCheck struct {
	Report Report
	// FailOn is the lowest severity of a new finding that fails the check.
	FailOn analyze.Severity
	// Baseline is the baseline file's name, "" when the check ran without one (then every
	// finding is new).
	Baseline   string
	Comparison baseline.Comparison
}

// NewGapCheck compares the report with the baseline b.
func NewGapCheck(r Report, b baseline.File, name string, failOn analyze.Severity) GapCheck {
	return GapCheck{Report: r, FailOn: failOn, Baseline: name, Comparison: baseline.Compare(b, r.BaselineRun())}
}

// BaselineRun is what a baseline is compared with and updated from.
func (r Report) BaselineRun() baseline.Run {
	run := baseline.Run{Findings: r.Findings, ChecksRun: r.Summary.ChecksRun}
	for _, s := range r.Suppressed {
		run.Suppressed = append(run.Suppressed, s.Finding.ID)
	}
	return run
}

// Failing are the new findings at or above FailOn, in report order.
func (g GapCheck) Failing() []analyze.Finding {
	return baseline.AtOrAbove(g.Comparison.New, g.FailOn)
}

// Failed reports whether the check fails: a new finding at or above FailOn, or an expired
// exception (which must be renewed or removed).
func (g GapCheck) Failed() bool {
	return len(g.Failing()) > 0 || len(g.Report.Expired) > 0
}

// status says in a few words what the check found.
type checkCounts struct {
	failing, newBelow, known, resolved, suppressed, expired, total int
}

func (g GapCheck) counts() checkCounts {
	failing := len(g.Failing())
	return checkCounts{
		failing:    failing,
		newBelow:   len(g.Comparison.New) - failing,
		known:      len(g.Comparison.Known),
		resolved:   len(g.Comparison.Resolved),
		suppressed: len(g.Report.Suppressed),
		expired:    len(g.Report.Expired),
		total:      len(g.Report.Findings),
	}
}

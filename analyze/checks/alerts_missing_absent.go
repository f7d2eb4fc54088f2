package checks

import (
	"fmt"
	"strconv"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// AlertsMissingAbsentName is the ID of the AlertsMissingAbsent check.
const AlertsMissingAbsentName = "alerts/missing-absent"

// AlertsMissingAbsent reports jobs for which no alert fires when the job vanishes: when
// service discovery returns nothing there is no up series left for `up == 0` to compare, so
// only absent() notices.
type AlertsMissingAbsent struct{ cov *lazyCoverage }

// NewAlertsMissingAbsent returns the check with its own coverage analysis; All shares one
// analysis between the coverage checks instead.
func NewAlertsMissingAbsent(o Options) Check { return AlertsMissingAbsent{cov: newLazyCoverage(o)} }

func (AlertsMissingAbsent) Name() string               { return AlertsMissingAbsentName }
func (AlertsMissingAbsent) Severity() analyze.Severity { return analyze.Warning }
func (AlertsMissingAbsent) Requires() []analyze.Part {
	return []analyze.Part{analyze.PartTargets, analyze.PartRules}
}

func (c AlertsMissingAbsent) coverageAnalysis(inv *analyze.Inventory) *coverage.Analysis {
	return c.cov.get(inv)
}

func (c AlertsMissingAbsent) Run(inv *analyze.Inventory) []analyze.Finding {
	a := c.cov.get(inv)
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if len(a.Job(j.Name).AbsentAlerts) > 0 {
			continue
		}
		f := analyze.NewFinding(c.Name(), c.Severity(), map[string]string{"job": j.Name},
			fmt.Sprintf("no alert fires when job %s vanishes and leaves no up series to compare", strconv.Quote(j.Name)),
			map[string]string{"targets": strconv.Itoa(j.Active())})
		vanished := &parser.Call{Func: parser.Functions["absent"], Args: parser.Expressions{upSelector(j.Name)}}
		f.Fix = generatedAlert(j.Name, "Absent", vanished, "5m")
		out = append(out, f)
	}
	return out
}

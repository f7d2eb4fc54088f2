package checks

import (
	"fmt"
	"strconv"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// AlertsMissingUpName is the ID of the AlertsMissingUp check.
const AlertsMissingUpName = "alerts/missing-up"

// AlertsMissingUp reports jobs for which no loaded alerting rule fires when their targets are
// down. Coverage is decided on the rules' syntax trees (see docs/coverage.md).
type AlertsMissingUp struct{ cov *lazyCoverage }

// NewAlertsMissingUp returns the check with its own coverage analysis; All shares one
// analysis between the coverage checks instead.
func NewAlertsMissingUp(o Options) Check { return AlertsMissingUp{cov: newLazyCoverage(o)} }

func (AlertsMissingUp) Name() string               { return AlertsMissingUpName }
func (AlertsMissingUp) Severity() analyze.Severity { return analyze.Critical }
func (AlertsMissingUp) Requires() []analyze.Part {
	return []analyze.Part{analyze.PartTargets, analyze.PartRules}
}

func (c AlertsMissingUp) coverageAnalysis(inv *analyze.Inventory) *coverage.Analysis {
	return c.cov.get(inv)
}

func (c AlertsMissingUp) Run(inv *analyze.Inventory) []analyze.Finding {
	a := c.cov.get(inv)
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if len(a.Job(j.Name).UpAlerts) > 0 {
			continue
		}
		f := analyze.NewFinding(c.Name(), c.Severity(), map[string]string{"job": j.Name},
			fmt.Sprintf("no alert fires when the targets of job %s are down", strconv.Quote(j.Name)),
			map[string]string{"targets": strconv.Itoa(j.Active())})
		down := &parser.BinaryExpr{Op: parser.EQLC, LHS: upSelector(j.Name), RHS: &parser.NumberLiteral{Val: 0}}
		f.Fix = generatedAlert(j.Name, "TargetDown", down, "2m")
		out = append(out, f)
	}
	return out
}

// upSelector is up{job="<job>"}, built as a syntax tree so that any job name prints quoted
// and escaped correctly.
func upSelector(job string) *parser.VectorSelector { return promqlbuild.Selector("up", job) }

// generatedAlert describes the rule `blindspot generate` writes for a job.
func generatedAlert(job, suffix string, expr parser.Expr, forDuration string) string {
	return fmt.Sprintf("blindspot generate writes rules/%s.yaml with alert %s%s: %s for %s",
		promqlbuild.FileStem(job), promqlbuild.AlertPrefix(job), suffix, expr.String(), forDuration)
}

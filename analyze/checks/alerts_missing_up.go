package checks

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// AlertsMissingUpName is the ID of the AlertsMissingUp check.
const AlertsMissingUpName = "alerts/missing-up"

// AlertsMissingUp reports jobs for which no loaded alerting rule fires when their targets are
// down. Coverage is decided on the rules' syntax trees (see docs/coverage.md).
type AlertsMissingUp struct {
	// upFor is the for: of the up alert blindspot generate writes (generate.up_for).
	upFor time.Duration
}

// NewAlertsMissingUp returns the check whose fixes quote the generate options of o.
func NewAlertsMissingUp(o Options) Check {
	return AlertsMissingUp{upFor: o.withDefaults().Generated.UpFor}
}

func (AlertsMissingUp) Meta() Meta {
	return Meta{ID: AlertsMissingUpName, Severity: analyze.Critical, Scope: ScopeJob, MatrixColumn: ColumnUpAlert, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartTargets, analyze.PartRules}, SubjectKeys: []string{"job"},
		Summary: "no alert fires when the job's targets are down",
		Finds:   "a job no alert covers when its targets are down",
	}
}

func (c AlertsMissingUp) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	a := d.Coverage
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if len(a.Job(j.Name).UpAlerts) > 0 {
			continue
		}
		f := c.Meta().finding(map[string]string{"job": j.Name},
			fmt.Sprintf("no alert fires when the targets of job %s are down", strconv.Quote(j.Name)),
			map[string]string{"targets": strconv.Itoa(j.Active())})
		f.Fix = generatedAlert(j.Name, "TargetDown", promqlbuild.TargetDown(j.Name), cmp.Or(c.upFor, defaultUpFor))
		out = append(out, f)
	}
	return out
}

// generatedAlert describes the rule `blindspot generate` writes for a job.
func generatedAlert(job, suffix string, expr parser.Expr, forDuration time.Duration) string {
	return fmt.Sprintf("blindspot generate writes rules/%s.yaml with alert %s%s: %s for %s",
		promqlbuild.FileStem(job), promqlbuild.AlertPrefix(job), suffix, expr.String(), model.Duration(forDuration))
}

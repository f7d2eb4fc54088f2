package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// AlertsMissingAbsentName is the ID of the AlertsMissingAbsent check.
const AlertsMissingAbsentName = "alerts/missing-absent"

// AlertsMissingAbsent reports jobs for which no alert fires when the job vanishes: when
// service discovery returns nothing there is no up series left for `up == 0` to compare, so
// only absent() notices. A scrape pool without targets whose job label comes from relabeling
// is reported as the pool (subject scrape_pool), watched through Prometheus's own per-pool
// target gauge.
type AlertsMissingAbsent struct {
	// absentFor is the for: of the absence alert blindspot generate writes (generate.absent_for).
	absentFor time.Duration
}

// NewAlertsMissingAbsent returns the check whose fixes quote the generate options of o.
func NewAlertsMissingAbsent(o Options) Check {
	return AlertsMissingAbsent{absentFor: o.withDefaults().Generated.AbsentFor}
}

func (AlertsMissingAbsent) Meta() Meta {
	return Meta{ID: AlertsMissingAbsentName, Severity: analyze.Warning, Scope: ScopeJob, MatrixColumn: ColumnAbsenceAlert, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartTargets, analyze.PartRules}, SubjectKeys: []string{"job"},
		SubjectDoc: "`job`; `scrape_pool` for a pool without targets whose job label discovery or relabeling decides",
		Summary:    "no alert fires when the job vanishes",
		Finds:      "a job no alert covers when it vanishes (all targets gone, series absent)",
	}
}

func (c AlertsMissingAbsent) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	a := d.Coverage
	absentFor := cmp.Or(c.absentFor, defaultAbsentFor) // the zero value of the check takes the default
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if len(a.Job(j.Name).AbsentAlerts) > 0 {
			continue
		}
		f := c.Meta().finding(map[string]string{"job": j.Name},
			fmt.Sprintf("no alert fires when job %s vanishes and leaves no up series to compare", strconv.Quote(j.Name)),
			map[string]string{"targets": strconv.Itoa(j.Active())})
		f.Fix = generatedAlert(j.Name, "Absent", promqlbuild.JobAbsent(j.Name), absentFor)
		out = append(out, f)
	}
	for _, p := range inv.Pools {
		// A pool without targets whose job label the configuration does not fix has no job
		// that absent(up{job=…}) could name: Prometheus's own per-pool gauge watches it.
		if p.Active > 0 || p.JobLabel != "" || len(a.PoolAbsentAlerts(p.Name)) > 0 {
			continue
		}
		f := c.Meta().finding(map[string]string{"scrape_pool": p.Name},
			fmt.Sprintf("no alert fires when scrape pool %s has no targets: discovery or relabeling decides its targets' job label, so no absent(up{job=…}) can watch it", strconv.Quote(p.Name)),
			map[string]string{"targets": "0", PoolMetricDetail: poolMetricState(inv)})
		if f.Details[PoolMetricDetail] == PoolMetricNotStored {
			f.Fix = fmt.Sprintf("make Prometheus scrape itself (%s is not stored), then blindspot generate writes an alert on %s",
				promqlbuild.PoolTargetsMetric, promqlbuild.PoolEmpty(p.Name).String())
		} else {
			f.Fix = generatedAlert(p.Name, "NoTargets", promqlbuild.PoolEmpty(p.Name), absentFor)
		}
		out = append(out, f)
	}
	return out
}

// PoolMetricDetail is the detail of a scrape pool's alerts/missing-absent finding that says
// whether Prometheus stores its own per-pool target gauge, which the generated alert reads:
// PoolMetricStored, PoolMetricNotStored, or "unknown" when the metric names were not read.
const (
	PoolMetricDetail    = "pool_metric"
	PoolMetricStored    = "stored"
	PoolMetricNotStored = "not stored"
)

func poolMetricState(inv *analyze.Inventory) string {
	if !inv.Has(analyze.PartMetricNames) {
		return "unknown"
	}
	if _, ok := slices.BinarySearch(inv.MetricNames, promqlbuild.PoolTargetsMetric); ok {
		return PoolMetricStored
	}
	return PoolMetricNotStored
}

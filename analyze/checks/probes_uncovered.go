package checks

import (
	"fmt"
	"strconv"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// uncoveredProbeJobs are the findings of probe/failing's other kind: the probe jobs whose
// probe_success no loaded alert covers, decided in the two worlds alerts/missing-up decides up
// alerts in (every probe of the job failing, then succeeding). A probe job's up says only
// that the prober answered; probe_success is what says the probed endpoint works. The
// subject is the job alone, so that it never meets a failing probe's.
func uncoveredProbeJobs(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	var out []analyze.Finding
	for _, job := range d.Coverage.ProbeJobs() {
		if len(d.Coverage.ProbeAlerts(job)) > 0 {
			continue
		}
		probes := 0
		if j := inv.Job(job); j != nil {
			probes = j.Active()
		}
		msg := fmt.Sprintf("no alert fires when the probes of job %s fail: its probe_success is to what it probes what up is to a scraped target, and an alert on up only says the prober answers",
			strconv.Quote(job))
		f := probesFailingMeta.finding(map[string]string{"job": job}, msg, map[string]string{
			"kind":   "uncovered",
			"probes": strconv.Itoa(probes),
		})
		f.Fix = fmt.Sprintf("alert on %s for 1m; blindspot generate writes it with the blackbox-exporter ruleset (alert ProbeFailed) for a job whose series carry probe_success",
			probeFailed(job).String())
		out = append(out, f)
	}
	return out
}

// probeFailed is `probe_success{job="…"} == 0`.
func probeFailed(job string) parser.Expr {
	return &parser.BinaryExpr{Op: parser.EQLC, LHS: promqlbuild.Selector(coverage.ProbeSuccess, job), RHS: &parser.NumberLiteral{Val: 0}}
}

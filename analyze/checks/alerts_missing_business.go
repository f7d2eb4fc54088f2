package checks

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// AlertsMissingBusinessName is the ID of the AlertsMissingBusiness check.
const AlertsMissingBusinessName = "alerts/missing-business"

// AlertsMissingBusiness reports the business metrics of a job (counters that look like
// application output, last-success gauges of batch jobs) that no alerting rule watches: no
// alert fires when the counter stops increasing (an alert on its rate going above a threshold
// reads it but does not) or when the last-success time grows old, directly or through
// recording rules. When the work stops, nothing pages.
//
// Its fixes describe the alerts blindspot generate writes: a counter that has not increased
// over the business window, a last-success time older than stale_after (by default a daily
// batch that missed one run, with an hour's slack).
type AlertsMissingBusiness struct {
	window, staleAfter time.Duration
}

// NewAlertsMissingBusiness returns the check whose fixes quote the generate options of o;
// which metrics are business metrics is Derive's (Options.Business).
func NewAlertsMissingBusiness(o Options) Check {
	g := o.withDefaults().Generated
	return AlertsMissingBusiness{window: g.BusinessWindow, staleAfter: g.StaleAfter}
}

func (AlertsMissingBusiness) Meta() Meta {
	return Meta{ID: AlertsMissingBusinessName, Severity: analyze.Warning, Scope: ScopeJob, MatrixColumn: ColumnBusiness, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartJobMetrics, analyze.PartRules}, SubjectKeys: []string{"job", "metric"},
		Summary: "a business counter or last-success gauge no alert fires on when it stops",
		Finds:   "a business counter without an alert on its rate dropping, or a last-success gauge without an alert on its age. Details: `kind` (`counter` or `staleness`)",
	}
}

func (c AlertsMissingBusiness) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	a := d.Coverage
	var out []analyze.Finding
	for _, job := range a.BusinessJobs() {
		for _, m := range a.Business(job) {
			if len(m.CoveredBy) > 0 {
				continue
			}
			var msg, fix string
			switch {
			case m.Kind == coverage.KindStaleness && len(m.ReadBy) > 0:
				msg = fmt.Sprintf("job %s records the time of its last success in %s; %s read it, but none fires when it grows old: nothing pages when the job stops succeeding",
					strconv.Quote(job), strconv.Quote(m.Metric), ruleNames(m.ReadBy))
				fix = fmt.Sprintf("blindspot generate writes an alert on %s (%s without a success)",
					c.staleExpr(m.Metric, job), model.Duration(c.stale()))
			case m.Kind == coverage.KindStaleness:
				msg = fmt.Sprintf("job %s records the time of its last success in %s, but no alert reads it: nothing pages when the job stops succeeding",
					strconv.Quote(job), strconv.Quote(m.Metric))
				fix = fmt.Sprintf("blindspot generate writes an alert on %s (%s without a success)",
					c.staleExpr(m.Metric, job), model.Duration(c.stale()))
			case len(m.ReadBy) > 0:
				msg = fmt.Sprintf("job %s exposes the counter %s; %s read it, but none fires when it stops increasing: nothing pages when the work stops",
					strconv.Quote(job), strconv.Quote(m.Metric), ruleNames(m.ReadBy))
				fix = fmt.Sprintf("blindspot generate writes an alert on %s", c.rateDropExpr(m.Metric, job))
			default:
				msg = fmt.Sprintf("job %s exposes the counter %s, but no alert reads it: nothing pages when it stops increasing",
					strconv.Quote(job), strconv.Quote(m.Metric))
				fix = fmt.Sprintf("blindspot generate writes an alert on %s", c.rateDropExpr(m.Metric, job))
			}
			details := map[string]string{"kind": m.Kind}
			if len(m.ReadBy) > 0 {
				details["read_by"] = ruleNames(m.ReadBy)
			}
			f := c.Meta().finding(map[string]string{"job": job, "metric": m.Metric}, msg, details)
			f.Fix = fix
			out = append(out, f)
		}
	}
	return out
}

// ruleNames lists alerts by name, quoted and comma-separated.
func ruleNames(refs []coverage.RuleRef) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = strconv.Quote(r.Name)
	}
	return strings.Join(names, ", ")
}

// rateDropExpr is `rate(metric{job="…"}[10m]) == 0`, with the configured window.
func (c AlertsMissingBusiness) rateDropExpr(metric, job string) parser.Expr {
	window := cmp.Or(c.window, defaultBusinessWindow) // the zero value of the check takes the default
	return &parser.BinaryExpr{
		Op: parser.EQLC,
		LHS: &parser.Call{
			Func: parser.Functions["rate"],
			Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: promqlbuild.Selector(metric, job), Range: window}},
		},
		RHS: &parser.NumberLiteral{Val: 0},
	}
}

// stale is how old a last-success time may grow before the generated alert fires.
func (c AlertsMissingBusiness) stale() time.Duration {
	return cmp.Or(c.staleAfter, defaultStaleAfter)
}

// staleExpr is `time() - metric{job="…"} > 90000`, with the configured age.
func (c AlertsMissingBusiness) staleExpr(metric, job string) parser.Expr {
	return promqlbuild.Stale(metric, job, c.stale())
}

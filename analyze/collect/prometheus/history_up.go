package prometheus

import (
	"context"
	"slices"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// upCoarseStep is the step of the coarse pass over the jobs' up series (upChangedQuery): what
// the server evaluates is about the steps times the series, and a window a step wide reads
// each sample about once, whatever the step.
const upCoarseStep = time.Hour

// upSelector is `up`, or `up{job=~"a|b"}` when job is set, offset by offset.
func upSelector(offset time.Duration, job *labels.Matcher) *parser.VectorSelector {
	s := nameSelector("up", offset)
	if job != nil {
		s.LabelMatchers = append(s.LabelMatchers, job)
	}
	return s
}

// upChangedQuery is, for a window w,
//
//	count by (job) (present_over_time(up[w])) unless on (job) (count by (job) (up) >= on (job) count by (job) (present_over_time(up[w])))
//
// which, at a step t, has a point for each job that had more up series within the window
// before t than at t: one whose up series all stopped, one that lost some, or whose series
// were replaced. A job that lost nothing within the window gives none.
func upChangedQuery(window time.Duration) parser.Expr {
	present := func() parser.Expr {
		return &parser.AggregateExpr{Op: parser.COUNT, Grouping: []string{"job"}, Expr: &parser.Call{
			Func: parser.Functions["present_over_time"],
			Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: upSelector(0, nil), Range: window}},
		}}
	}
	onJob := func(card parser.VectorMatchCardinality) *parser.VectorMatching {
		return &parser.VectorMatching{Card: card, MatchingLabels: []string{"job"}, On: true}
	}
	now := &parser.AggregateExpr{Op: parser.COUNT, Grouping: []string{"job"}, Expr: upSelector(0, nil)}
	kept := &parser.BinaryExpr{Op: parser.GTE, LHS: now, RHS: present(), VectorMatching: onJob(parser.CardOneToOne)}
	return &parser.BinaryExpr{Op: parser.LUNLESS, LHS: present(), RHS: &parser.ParenExpr{Expr: kept}, VectorMatching: onJob(parser.CardManyToMany)}
}

// jobMatchers are `job=~"a|b"`, one per batch of JobMetricsBatch jobs, each name quoted so
// that it matches only itself.
func jobMatchers(jobs []string) ([]*labels.Matcher, error) {
	var out []*labels.Matcher
	for start := 0; start < len(jobs); start += JobMetricsBatch {
		m, err := literalsMatcher("job", jobs[start:min(start+JobMetricsBatch, len(jobs))])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// collectUpChanges reads what upHistoryQuery and targetCountQuery answer over r, at r's step,
// without asking them of every job:
//
//   - the coarse pass: upChangedQuery over r at upCoarseStep, with windows of a coarse step,
//     r's step and the server's lookbackDelta (an instant `up` at t is a sample of the
//     lookbackDelta up to t), so that they overlap and reach the step before r's start
//     (what the one-minute queries compare their first step with): which jobs lost up series
//     at some time of r, the last hour included;
//   - the fine pass: upHistoryQuery and targetCountQuery over r at r's step, only for those
//     jobs, JobMetricsBatch jobs a query.
//
// Both queries count by job, so that a job's answer does not depend on the others'; and a job
// the coarse pass does not name lost no up series, so it neither stopped (jobHistories) nor
// had more targets than now (targetCounts): the answers hold what these read from a single
// one-minute pass over every job. A lookback shorter than three coarse steps is read in the
// fine pass alone, over every job. On error, what says what was being read.
func collectUpChanges(ctx context.Context, api promv1.API, r promv1.Range, lookbackDelta time.Duration) (jobs, targets model.Matrix, what string, err error) {
	coarse := ((upCoarseStep + r.Step - 1) / r.Step) * r.Step
	lookback := r.End.Sub(r.Start)
	if lookback < 3*coarse {
		return fineUpChanges(ctx, api, r, []*labels.Matcher{nil})
	}
	n := (lookback + coarse - 1) / coarse
	changed, err := queryMatrix(ctx, api, upChangedQuery(coarse+r.Step+lookbackDelta).String(),
		promv1.Range{Start: r.End.Add(-time.Duration(n) * coarse), End: r.End, Step: coarse})
	if err != nil {
		return nil, nil, "reading which jobs had up series", err
	}
	var names []string
	for _, s := range changed {
		if job := string(s.Metric["job"]); job != "" && len(s.Values) > 0 {
			names = append(names, job)
		}
	}
	if len(names) == 0 {
		return nil, nil, "", nil
	}
	slices.Sort(names)
	matchers, err := jobMatchers(slices.Compact(names))
	if err != nil {
		return nil, nil, "building the up history queries", err
	}
	return fineUpChanges(ctx, api, r, matchers)
}

// fineUpChanges runs upHistoryQuery and targetCountQuery over r for each matcher (nil: every
// job).
func fineUpChanges(ctx context.Context, api promv1.API, r promv1.Range, matchers []*labels.Matcher) (jobs, targets model.Matrix, what string, err error) {
	for _, m := range matchers {
		j, err := queryMatrix(ctx, api, upHistoryQuery(r.Step, m).String(), r)
		if err != nil {
			return nil, nil, "reading which jobs had up series", err
		}
		t, err := queryMatrix(ctx, api, targetCountQuery(r.Step, m).String(), r)
		if err != nil {
			return nil, nil, "reading how many up series each job had", err
		}
		jobs, targets = append(jobs, j...), append(targets, t...)
	}
	return jobs, targets, "", nil
}

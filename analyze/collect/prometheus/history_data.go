package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// successGrouping is what the success queries fold a gauge's series by: the finding's subject.
var successGrouping = []string{"job", "instance", model.MetricNameLabel}

// successQueries build, per batch of JobMetricsBatch names, the range query
//
//	min by (job, instance, __name__) ({__name__=~"a|b"})
//	  > on (job, instance, __name__)
//	min by (job, instance, __name__) ({__name__=~"a|b"} offset step)
//
// which has a point only at the steps where a gauge rose, valued with the success time it
// rose to (a gauge that moves every six hours costs four points a day), and the instant query
// of its first line, the gauges' values at the end.
func successQueries(names []string, step time.Duration) (rose, instant []string, err error) {
	matchers, err := batchMatchers(names)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range matchers {
		rose = append(rose, risenQuery(parser.MIN, successGrouping, m, step).String())
		instant = append(instant, aggregateOf(parser.MIN, successGrouping, m, 0).String())
	}
	return rose, instant, nil
}

// successKey is a gauge folded by successGrouping.
type successKey struct{ job, instance, metric string }

func successKeyOf(m model.Metric) successKey {
	return successKey{string(m["job"]), string(m["instance"]), string(m[model.MetricNameLabel])}
}

// collectSuccesses reads the last-success gauges names (defaultBusinessNames): their values
// at the end of r (one instant query per batch) and when they rose during r (one range query
// per batch). A gauge without a job or a name, or whose value is no time (not a finite
// positive number of seconds), is left out.
func collectSuccesses(ctx context.Context, api promv1.API, names []string, r promv1.Range) (out []analyze.SuccessHistory, what string, err error) {
	if len(names) == 0 {
		return nil, "", nil
	}
	rose, instant, err := successQueries(names, r.Step)
	if err != nil {
		return nil, "building the last-success gauge queries", err
	}
	byKey := map[successKey]*analyze.SuccessHistory{}
	var order []successKey
	for i, q := range instant {
		v, _, _, err := api.Query(ctx, q, r.End)
		if err != nil {
			return nil, fmt.Sprintf("reading the last-success gauges (query %d of %d)", i+1, len(instant)), err
		}
		vec, err := vectorOf(v)
		if err != nil {
			return nil, "reading the last-success gauges", err
		}
		for _, s := range vec {
			k := successKeyOf(s.Metric)
			last, ok := unixTime(float64(s.Value))
			if k.job == "" || k.metric == "" || !ok || byKey[k] != nil {
				continue
			}
			byKey[k] = &analyze.SuccessHistory{Job: k.job, Instance: k.instance, Metric: k.metric, Last: last}
			order = append(order, k)
		}
	}
	if i, err := rangeQueries(ctx, api, rose, r, func(m model.Matrix) {
		for _, s := range m {
			h := byKey[successKeyOf(s.Metric)]
			if h == nil {
				continue // gone by the end: nothing to judge
			}
			h.Advances = len(s.Values)
			for j := 1; j < len(s.Values); j++ {
				prev, okPrev := unixTime(float64(s.Values[j-1].Value))
				cur, okCur := unixTime(float64(s.Values[j].Value))
				if okPrev && okCur {
					h.LongestInterval = max(h.LongestInterval, cur.Sub(prev))
				}
			}
		}
	}); err != nil {
		return nil, fmt.Sprintf("reading when the last-success gauges rose (query %d of %d)", i+1, len(rose)), err
	}
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, "", nil
}

// unixTime reads a gauge's value as Unix seconds, to the second; false when it cannot be a
// time (0 for "never", NaN, a value in milliseconds past the year 9999).
func unixTime(v float64) (time.Time, bool) {
	if math.IsNaN(v) || v <= 0 || v > 253402300799 {
		return time.Time{}, false
	}
	return time.Unix(int64(math.Round(v)), 0).UTC(), true
}

// Labels the target count query marks its points with.
const (
	targetsLabel  = "targets"
	targetsBefore = "before"
	targetsAfter  = "after"
)

// targetCountQuery is
//
//	label_replace(count by (job) (up offset step) unless on (job) (count by (job) (up) == on (job) count by (job) (up offset step)), "targets", "before", "", "")
//	or
//	label_replace(count by (job) (up) unless on (job) (count by (job) (up offset step) == on (job) count by (job) (up)), "targets", "after", "", "")
//
// which has points only at the steps where a job's number of up series changed (or the job
// appeared or disappeared): the count one step before and the count at the step. A job
// scraped all along by the same targets gives none.
//
// With job set, only the up series it matches are read (collectUpChanges).
func targetCountQuery(step time.Duration, job *labels.Matcher) parser.Expr {
	count := func(offset time.Duration) parser.Expr {
		return &parser.AggregateExpr{Op: parser.COUNT, Grouping: []string{"job"}, Expr: upSelector(offset, job)}
	}
	onJob := func(card parser.VectorMatchCardinality) *parser.VectorMatching {
		return &parser.VectorMatching{Card: card, MatchingLabels: []string{"job"}, On: true}
	}
	changed := func(name string, this, other time.Duration) parser.Expr {
		same := &parser.BinaryExpr{Op: parser.EQLC, LHS: count(other), RHS: count(this), VectorMatching: onJob(parser.CardOneToOne)}
		return labelReplace(&parser.BinaryExpr{Op: parser.LUNLESS, LHS: count(this), RHS: &parser.ParenExpr{Expr: same}, VectorMatching: onJob(parser.CardManyToMany)},
			targetsLabel, name, "", "")
	}
	return &parser.BinaryExpr{Op: parser.LOR, LHS: changed(targetsBefore, step, 0), RHS: changed(targetsAfter, 0, step), VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany}}
}

// targetCounts reads, from the answer of targetCountQuery, the jobs whose count of up series
// fell and that still have some at the end, sorted: the most they had, until when, and how
// many now.
// A job's count between two change points is the count after the first, so the most it had
// is the largest count either side of a change; the count now is the one after its last
// change, none when its last change was its disappearance.
func targetCounts(m model.Matrix, step time.Duration) []analyze.TargetCountHistory {
	type change struct {
		at            model.Time
		before, after int // -1: absent
	}
	byJob := map[string]map[model.Time]*change{}
	for _, s := range m {
		job, side := string(s.Metric["job"]), string(s.Metric[targetsLabel])
		if job == "" || (side != targetsBefore && side != targetsAfter) {
			continue
		}
		if byJob[job] == nil {
			byJob[job] = map[model.Time]*change{}
		}
		for _, p := range s.Values {
			c := byJob[job][p.Timestamp]
			if c == nil {
				c = &change{at: p.Timestamp, before: -1, after: -1}
				byJob[job][p.Timestamp] = c
			}
			if side == targetsBefore {
				c.before = int(p.Value)
			} else {
				c.after = int(p.Value)
			}
		}
	}
	var out []analyze.TargetCountHistory
	for job, at := range byJob {
		changes := make([]*change, 0, len(at))
		for _, c := range at {
			changes = append(changes, c)
		}
		slices.SortFunc(changes, func(a, b *change) int { return cmp.Compare(a.at, b.at) })
		now := changes[len(changes)-1].after
		most := 0
		for _, c := range changes {
			most = max(most, c.before, c.after)
		}
		if now <= 0 || now >= most {
			continue
		}
		var until time.Time
		for _, c := range changes {
			if c.before == most {
				until = c.at.Time().Add(-step).UTC()
			}
		}
		out = append(out, analyze.TargetCountHistory{Job: job, Most: most, MostUntil: until, Now: now})
	}
	// Sorted, so that a snapshot's file does not depend on map order.
	slices.SortFunc(out, func(a, b analyze.TargetCountHistory) int { return cmp.Compare(a.Job, b.Job) })
	return out
}

// collectHistoryData reads what history_data.go adds to h: the last-success gauges gauges
// (collectSuccesses); the jobs that lost targets (targetCountQuery) are read with the jobs' up
// history (collectUpChanges). On error, what says what was being read.
func collectHistoryData(ctx context.Context, api promv1.API, gauges []string, r promv1.Range, h *analyze.History) (what string, err error) {
	h.Successes, what, err = collectSuccesses(ctx, api, gauges, r)
	return what, err
}

package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// counterCoarseStep is the step of the coarse pass over the business counters: what the server
// evaluates is proportional to the steps times the series, so an hour costs a sixtieth of the
// one-minute step over the same lookback.
const counterCoarseStep = time.Hour

// counterBusyGap is the longest pause, over the last coarse step, of a counter the coarse pass
// is enough for (busyCounter): below it, twice the pause (the backtest's rate window) stays
// within the usual rate windows.
const counterBusyGap = 15 * time.Minute

// counterKey is a counter of a job.
type counterKey struct{ job, metric string }

// counterPoints are, per counter, the points of a range query, sorted by time.
type counterPoints map[counterKey][]model.SamplePair

func (p counterPoints) add(m model.Matrix) {
	for _, s := range m {
		k := counterKey{string(s.Metric["job"]), string(s.Metric[model.MetricNameLabel])}
		if k.job == "" || k.metric == "" || len(s.Values) == 0 {
			continue
		}
		p[k] = append(p[k], s.Values...)
	}
}

// counterCoarseQueries are counterHistoryQueries at a coarse step: per batch of
// JobMetricsBatch names,
//
//	sum by (job, __name__) ({__name__=~"a|b"}) > on (job, __name__) sum by (job, __name__) ({__name__=~"a|b"} offset step)
//
// which, read at that step, has a point (the job's counter summed over its series) only at the
// steps where the sum is higher than a step before. Each selector costs the server about what
// a job_metrics query does, whatever the steps, so the query has no more than these two.
func counterCoarseQueries(names []string, step time.Duration) ([]string, error) {
	return counterHistoryQueries(names, step)
}

// collectCounters reads when the business counters names rose over r, in at most three range
// queries per batch of JobMetricsBatch names, whatever the number of jobs:
//
//   - the coarse pass: counterCoarseQueries over r at counterCoarseStep, which says in which
//     hours each counter's sum rose (not the hour it appeared in, nor a rise undone by a reset
//     within the hour);
//   - the recent pass: counterHistoryQueries over the last coarse step at r's step, which says
//     exactly when each rose lately;
//   - the fine pass: counterHistoryQueries over r at r's step, for the names of the counters
//     the first two cannot settle (busyCounter), which is none on an estate whose counters all
//     rise all the time.
//
// A counter that moved only in the last coarse step is read from the recent pass, exactly. A
// busy counter is summed up from the coarse and recent passes (busyHistory). Every other one
// is read from the fine pass, exactly as a single one-minute pass would. A lookback shorter
// than three coarse steps is read in the fine pass alone.
func collectCounters(ctx context.Context, api promv1.API, names []string, r promv1.Range, buckets seriesBuckets) ([]analyze.CounterHistory, string, error) {
	names = historyCounters(names)
	if len(names) == 0 {
		return nil, "", nil
	}
	coarse := ((counterCoarseStep + r.Step - 1) / r.Step) * r.Step
	n := int(r.End.Sub(r.Start) / coarse)
	if n < 3 {
		return fineCounters(ctx, api, names, r, buckets, nil)
	}
	queries, err := counterCoarseQueries(names, coarse)
	if err != nil {
		return nil, "building the coarse counter history query", err
	}
	older := counterPoints{}
	for i, q := range queries {
		m, err := queryMatrix(ctx, api, q, promv1.Range{Start: r.End.Add(-time.Duration(n) * coarse), End: r.End, Step: coarse})
		if err != nil {
			return nil, fmt.Sprintf("reading in which hours the business counters moved (query %d of %d)", i+1, len(queries)), err
		}
		older.add(m)
	}
	recentStart := r.End.Add(-coarse)
	if queries, err = counterHistoryQueries(names, r.Step); err != nil {
		return nil, "building the counter history query", err
	}
	recent := counterPoints{}
	for i, q := range queries {
		m, err := queryMatrix(ctx, api, q, promv1.Range{Start: recentStart, End: r.End, Step: r.Step})
		if err != nil {
			return nil, fmt.Sprintf("reading when the business counters rose lately (query %d of %d)", i+1, len(queries)), err
		}
		recent.add(m)
	}

	settled := map[counterKey]analyze.CounterHistory{}
	var fine []string
	for k, points := range older {
		points = slices.DeleteFunc(points, func(p model.SamplePair) bool { return p.Timestamp.Time().After(recentStart) })
		switch {
		case len(points) == 0:
			continue // moved in the last coarse step only: the recent pass has all of it
		case busyCounter(points, recent[k], recentStart, r.End, coarse, r.Step):
			settled[k] = busyHistory(k, points, recent[k])
		default:
			fine = append(fine, k.metric)
		}
	}
	for k, points := range recent {
		if _, ok := settled[k]; !ok && !slices.Contains(fine, k.metric) {
			if c, ok := counterHistoryOf(k, points, buckets); ok {
				settled[k] = c
			}
		}
	}
	slices.Sort(fine)
	return fineCounters(ctx, api, slices.Compact(fine), r, buckets, settled)
}

// fineCounters reads the counters names at r's step over r (counterHistoryQueries): what it
// answers replaces what settled held for the same counters. It returns all of them, sorted by
// job and metric.
func fineCounters(ctx context.Context, api promv1.API, names []string, r promv1.Range, buckets seriesBuckets, settled map[counterKey]analyze.CounterHistory) ([]analyze.CounterHistory, string, error) {
	queries, err := counterHistoryQueries(names, r.Step)
	if err != nil {
		return nil, "building the counter history query", err
	}
	read := map[counterKey]bool{}
	all := counterPoints{}
	for i, q := range queries {
		m, err := queryMatrix(ctx, api, q, r)
		if err != nil {
			return nil, fmt.Sprintf("reading when the business counters rose (query %d of %d)", i+1, len(queries)), err
		}
		all.add(m)
	}
	out := make([]analyze.CounterHistory, 0, len(settled)+len(all))
	for k, points := range all {
		if c, ok := counterHistoryOf(k, points, buckets); ok {
			out = append(out, c)
			read[k] = true
		}
	}
	for k, c := range settled {
		if !read[k] && !slices.Contains(names, k.metric) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b analyze.CounterHistory) int {
		return cmp.Or(cmp.Compare(a.Job, b.Job), cmp.Compare(a.Metric, b.Metric))
	})
	return out, "", nil
}

// counterHistoryOf is counterHistories of one counter's points.
func counterHistoryOf(k counterKey, points []model.SamplePair, buckets seriesBuckets) (analyze.CounterHistory, bool) {
	out := counterHistories(model.Matrix{{Metric: model.Metric{"job": model.LabelValue(k.job), model.MetricNameLabel: model.LabelValue(k.metric)}, Values: points}}, buckets)
	if len(out) != 1 {
		return analyze.CounterHistory{}, false
	}
	return out[0], true
}

// busyCounter reports whether the coarse pass's points before recentStart (older) and the
// recent pass's points (recent, from recentStart to end) are enough for a counter: it moved in
// every coarse step from its first to recentStart, rose at least twice lately, in the last
// three steps (so it cannot be flat), and never paused counterBusyGap or longer lately, nor
// between recentStart and its first recent rise.
func busyCounter(older, recent []model.SamplePair, recentStart, end time.Time, coarse, step time.Duration) bool {
	if len(recent) < 2 || end.Sub(recent[len(recent)-1].Timestamp.Time()) >= 3*step ||
		!older[len(older)-1].Timestamp.Time().Equal(recentStart) {
		return false
	}
	for i := 1; i < len(older); i++ {
		if older[i].Timestamp.Sub(older[i-1].Timestamp) != coarse {
			return false
		}
	}
	prev := recentStart
	for _, p := range recent {
		if p.Timestamp.Time().Sub(prev) >= counterBusyGap {
			return false
		}
		prev = p.Timestamp.Time()
	}
	return true
}

// busyHistory sums up a busy counter (busyCounter) from the coarse points before the recent
// pass and the recent pass's points: its first increase is its first coarse step (the end of
// the hour it first moved in), its increases are the coarse steps and the recent rises (fewer
// than the steps it rose at), its longest gap is the longest of the last coarse step (it moved
// in every hour before), and its rise is what its sum gained from point to point.
func busyHistory(k counterKey, older, recent []model.SamplePair) analyze.CounterHistory {
	c := analyze.CounterHistory{Job: k.job, Metric: k.metric, Increases: len(older) + len(recent),
		FirstIncrease: older[0].Timestamp.Time().UTC(), LastIncrease: recent[len(recent)-1].Timestamp.Time().UTC()}
	points := append(slices.Clone(older), recent...)
	for i := 1; i < len(points); i++ {
		if d := float64(points[i].Value - points[i-1].Value); d > 0 {
			c.Rise += d
		}
	}
	for i := 1; i < len(recent); i++ {
		c.LongestGap = max(c.LongestGap, recent[i].Timestamp.Sub(recent[i-1].Timestamp))
	}
	return c
}

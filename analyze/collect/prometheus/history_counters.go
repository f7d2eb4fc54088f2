package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
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

// Bounds of one counter history query (counterBatches).
const (
	// counterBatchNames is the most names one query asks about: a form body of about 60 KiB
	// at the scale estate's names (a regular expression of literals, which Prometheus looks
	// up in its index as a set).
	counterBatchNames = 2000
	// counterBatchPoints bounds the points one query may answer (a point per job exposing
	// one of its names, per step): a tenth of Prometheus's default query.max-samples
	// (50,000,000), which a range query's answer counts against.
	counterBatchPoints = 5_000_000
)

// counterBatches splits names, in order, into the batches of one counter history query
// each over r: no more than counterBatchNames names, and no more jobs exposing them (jobs,
// one for a name it does not hold) than keep the answer within counterBatchPoints points when
// every one of them rises at every step of r. A name whose jobs alone exceed that is a batch
// of its own.
func counterBatches(names []string, jobs map[string]int, r promv1.Range) [][]string {
	points := int(r.End.Sub(r.Start)/r.Step) + 1
	maxJobs := max(1, counterBatchPoints/points)
	var out [][]string
	var batch []string
	n := 0
	for _, name := range names {
		j := max(1, jobs[name])
		if len(batch) > 0 && (len(batch) == counterBatchNames || n+j > maxJobs) {
			out, batch, n = append(out, batch), nil, 0
		}
		batch, n = append(batch, name), n+j
	}
	if len(batch) > 0 {
		out = append(out, batch)
	}
	return out
}

// rangeQueries runs queries over r, no more than jobMetricsParallel at a time, and returns
// their matrices in order. The first error stops the others: it is returned with the index
// of its query.
func rangeQueries(ctx context.Context, api promv1.API, queries []string, r promv1.Range) ([]model.Matrix, int, error) {
	out := make([]model.Matrix, len(queries))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		failed   = -1
		firstErr error
	)
	fail := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if failed < 0 {
			failed, firstErr = i, err
			cancel()
		}
	}
	sem := make(chan struct{}, jobMetricsParallel)
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				fail(i, context.Cause(ctx))
				return
			}
			m, err := queryMatrix(ctx, api, q, r)
			if err != nil {
				fail(i, err)
				return
			}
			out[i] = m
		})
	}
	wg.Wait()
	if failed >= 0 {
		return nil, failed, firstErr
	}
	return out, 0, nil
}

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

// counterCoarseQueries are counterHistoryQueries at a coarse step: per batch of names,
//
//	sum by (job, __name__) ({__name__=~"a|b"}) > on (job, __name__) sum by (job, __name__) ({__name__=~"a|b"} offset step)
//
// which, read at that step, has a point (the job's counter summed over its series) only at the
// steps where the sum is higher than a step before. Each selector costs the server about what
// a job_metrics query does, whatever the steps, so the query has no more than these two.
func counterCoarseQueries(batches [][]string, step time.Duration) ([]string, error) {
	return counterHistoryQueries(batches, step)
}

// collectCounters reads when the business counters names rose over r, in at most three range
// queries per batch of names (counterBatches of the jobs exposing each name, in jobs), run
// jobMetricsParallel at a time:
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
func collectCounters(ctx context.Context, api promv1.API, names []string, jobs map[string]int, r promv1.Range, buckets seriesBuckets) ([]analyze.CounterHistory, string, error) {
	names = historyCounters(names)
	if len(names) == 0 {
		return nil, "", nil
	}
	coarse := ((counterCoarseStep + r.Step - 1) / r.Step) * r.Step
	n := int(r.End.Sub(r.Start) / coarse)
	if n < 3 {
		return fineCounters(ctx, api, names, jobs, r, buckets, nil)
	}
	coarseRange := promv1.Range{Start: r.End.Add(-time.Duration(n) * coarse), End: r.End, Step: coarse}
	queries, err := counterCoarseQueries(counterBatches(names, jobs, coarseRange), coarse)
	if err != nil {
		return nil, "building the coarse counter history query", err
	}
	older := counterPoints{}
	matrices, i, err := rangeQueries(ctx, api, queries, coarseRange)
	if err != nil {
		return nil, fmt.Sprintf("reading in which hours the business counters moved (query %d of %d)", i+1, len(queries)), err
	}
	for _, m := range matrices {
		older.add(m)
	}
	recentStart := r.End.Add(-coarse)
	recentRange := promv1.Range{Start: recentStart, End: r.End, Step: r.Step}
	if queries, err = counterHistoryQueries(counterBatches(names, jobs, recentRange), r.Step); err != nil {
		return nil, "building the counter history query", err
	}
	recent := counterPoints{}
	if matrices, i, err = rangeQueries(ctx, api, queries, recentRange); err != nil {
		return nil, fmt.Sprintf("reading when the business counters rose lately (query %d of %d)", i+1, len(queries)), err
	}
	for _, m := range matrices {
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
	return fineCounters(ctx, api, slices.Compact(fine), jobs, r, buckets, settled)
}

// fineCounters reads the counters names at r's step over r (counterHistoryQueries): what it
// answers replaces what settled held for the same counters. It returns all of them, sorted by
// job and metric.
func fineCounters(ctx context.Context, api promv1.API, names []string, jobs map[string]int, r promv1.Range, buckets seriesBuckets, settled map[counterKey]analyze.CounterHistory) ([]analyze.CounterHistory, string, error) {
	queries, err := counterHistoryQueries(counterBatches(names, jobs, r), r.Step)
	if err != nil {
		return nil, "building the counter history query", err
	}
	read := map[counterKey]bool{}
	all := counterPoints{}
	matrices, i, err := rangeQueries(ctx, api, queries, r)
	if err != nil {
		return nil, fmt.Sprintf("reading when the business counters rose (query %d of %d)", i+1, len(queries)), err
	}
	for _, m := range matrices {
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

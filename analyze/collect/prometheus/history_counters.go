package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"maps"
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
	// one of its names, per step): about 16 MB once decoded, of which jobMetricsParallel are
	// in flight, and a fiftieth of Prometheus's default query.max-samples (50,000,000), which
	// a range query's answer counts against.
	counterBatchPoints = 1_000_000
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

// rangeQueries runs queries over r, no more than jobMetricsParallel at a time, and hands each
// answer to each as it comes, one at a time, so that none is held longer than each takes. The
// first error stops the others: it is returned with the index of its query.
func rangeQueries(ctx context.Context, api promv1.API, queries []string, r promv1.Range, each func(model.Matrix)) (int, error) {
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
			if err := acquire(ctx, sem); err != nil {
				fail(i, err)
				return
			}
			defer func() { <-sem }()
			m, err := queryMatrix(ctx, api, q, r)
			if err != nil {
				fail(i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if failed < 0 {
				each(m)
			}
		})
	}
	wg.Wait()
	if failed >= 0 {
		return failed, firstErr
	}
	return 0, nil
}

// counterKey is a counter of a job.
type counterKey struct{ job, metric string }

// keyOf is the counter of a series of a counter history query (counterHistoryQueries); false
// for one without a job or a name, or without points.
func keyOf(s *model.SampleStream) (counterKey, bool) {
	return counterOf(s, model.MetricNameLabel)
}

// riseKeyOf is keyOf of a series of a counter rise query (counterRiseQueries), which names the
// counter in riseMetricLabel.
func riseKeyOf(s *model.SampleStream) (counterKey, bool) {
	return counterOf(s, riseMetricLabel)
}

// counterOf is the counter of a series whose job is in the label job and whose name is in the
// label name.
func counterOf(s *model.SampleStream, name model.LabelName) (counterKey, bool) {
	k := counterKey{string(s.Metric["job"]), string(s.Metric[name])}
	return k, k.job != "" && k.metric != "" && len(s.Values) > 0
}

// coarseCounter sums up the coarse pass's points of a counter up to the start of the recent
// pass: what busyCounter and busyHistory read of them.
type coarseCounter struct {
	// first and last are the times of its first and last point, of which there are points.
	first, last model.Time
	points      int
	// every says that it has a point at every coarse step from first to last.
	every bool
	// rise is what its sum gained from point to point.
	rise float64
}

// sumUpCoarse sums up the points (sorted by time) up to recentStart of a counter; false when
// there is none (it moved in the last coarse step only).
func sumUpCoarse(points []model.SamplePair, recentStart time.Time, coarse time.Duration) (coarseCounter, bool) {
	n := len(points)
	for n > 0 && points[n-1].Timestamp.Time().After(recentStart) {
		n--
	}
	if n == 0 {
		return coarseCounter{}, false
	}
	c := coarseCounter{first: points[0].Timestamp, last: points[n-1].Timestamp, points: n, every: true}
	for i := 1; i < n; i++ {
		if points[i].Timestamp.Sub(points[i-1].Timestamp) != coarse {
			c.every = false
		}
		if d := float64(points[i].Value - points[i-1].Value); d > 0 {
			c.rise += d
		}
	}
	return c, true
}

// collectCounters reads when the business counters names (defaultBusinessNames) rose over r,
// in at most three range queries per batch of names (counterBatches of the jobs exposing each
// name, in jobs), run jobMetricsParallel at a time:
//
//   - the coarse pass: counterHistoryQueries over r at counterCoarseStep, which says in which
//     hours each counter's sum rose (not the hour it appeared in, nor a rise undone by a reset
//     within the hour); not run on a server whose data (dataStart, when known) starts within
//     the last coarse step, where it would answer nothing;
//   - the recent pass: counterRiseQueries over the last coarse step at r's step, which says
//     exactly when each rose lately;
//   - the fine pass: counterRiseQueries over r at r's step, for the names of the counters
//     the first two cannot settle (busyCounter), which is none on an estate whose counters all
//     rise all the time.
//
// A counter that moved only in the last coarse step is read from the recent pass, exactly. A
// busy counter is summed up from the coarse and recent passes (busyHistory). Every other one
// is read from the fine pass, exactly as a single one-minute pass would. A lookback shorter
// than three coarse steps is read in the fine pass alone. No answer is kept: each is summed up
// as it comes (the coarse points of a counter into a coarseCounter, the recent and the fine
// ones into its history), so what the passes hold grows with the counters, not their points.
func collectCounters(ctx context.Context, api promv1.API, names []string, jobs map[string]int, r promv1.Range, buckets seriesBuckets, dataStart time.Time) ([]analyze.CounterHistory, string, error) {
	if len(names) == 0 {
		return nil, "", nil
	}
	coarse := ((counterCoarseStep + r.Step - 1) / r.Step) * r.Step
	n := int(r.End.Sub(r.Start) / coarse)
	if n < 3 {
		return fineCounters(ctx, api, names, jobs, r, buckets, nil)
	}
	coarseRange := promv1.Range{Start: r.End.Add(-time.Duration(n) * coarse), End: r.End, Step: coarse}
	// On a server whose data starts within the last coarse step, no step of the coarse pass
	// has an hour before it to compare with: the pass would answer nothing, and is neither
	// asked nor built (a tenth of a second for a hundred thousand names).
	var queries []string
	if !comparesNothing(coarseRange, dataStart) {
		var err error
		if queries, err = counterHistoryQueries(counterBatches(names, jobs, coarseRange), coarse); err != nil {
			return nil, "building the coarse counter history query", err
		}
	}
	// The coarse points are summed up as each answer comes (coarseCounter): a week of them
	// would cost 169 points a counter to hold.
	recentStart := r.End.Add(-coarse)
	older := map[counterKey]coarseCounter{}
	i, err := rangeQueries(ctx, api, queries, coarseRange, func(m model.Matrix) {
		for _, s := range m {
			if k, ok := keyOf(s); ok {
				if c, ok := sumUpCoarse(s.Values, recentStart, coarse); ok {
					older[k] = c
				}
			}
		}
	})
	if err != nil {
		return nil, fmt.Sprintf("reading in which hours the business counters moved (query %d of %d)", i+1, len(queries)), err
	}
	recentRange := promv1.Range{Start: recentStart, End: r.End, Step: r.Step}
	if queries, err = counterRiseQueries(counterBatches(names, jobs, recentRange), r.Step); err != nil {
		return nil, "building the counter history query", err
	}
	// The recent points are summed up as each answer comes too: a busy counter from them
	// and its coarse summary (busyHistory); one the coarse pass saw no point of before the
	// recent pass moved in the last coarse step only, and the recent pass has all of it.
	settled := map[counterKey]analyze.CounterHistory{}
	if i, err = rangeQueries(ctx, api, queries, recentRange, func(m model.Matrix) {
		for _, s := range m {
			k, ok := riseKeyOf(s)
			if !ok {
				continue
			}
			if c, ok := older[k]; ok {
				if busyCounter(c, s.Values, recentStart, r.End, r.Step) {
					settled[k] = busyHistory(k, c, s.Values)
				}
			} else if c, ok := counterHistoryOf(k, s.Values, buckets); ok {
				settled[k] = c
			}
		}
	}); err != nil {
		return nil, fmt.Sprintf("reading when the business counters rose lately (query %d of %d)", i+1, len(queries)), err
	}
	// Every other counter is read again in the fine pass, with every job's counter of the
	// same name (what the fine pass reads of a name replaces what was settled of it).
	fine := map[string]bool{}
	for k := range older {
		if _, ok := settled[k]; !ok {
			fine[k.metric] = true
		}
	}
	return fineCounters(ctx, api, slices.Sorted(maps.Keys(fine)), jobs, r, buckets, settled)
}

// fineCounters reads the counters names at r's step over r (counterRiseQueries): what it
// answers replaces what settled held for the same counters. It returns all of them, sorted by
// job and metric.
func fineCounters(ctx context.Context, api promv1.API, names []string, jobs map[string]int, r promv1.Range, buckets seriesBuckets, settled map[counterKey]analyze.CounterHistory) ([]analyze.CounterHistory, string, error) {
	queries, err := counterRiseQueries(counterBatches(names, jobs, r), r.Step)
	if err != nil {
		return nil, "building the counter history query", err
	}
	// Each answer is summed up as it comes: a week of a counter's points is 10,080 at one
	// minute.
	read := map[counterKey]analyze.CounterHistory{}
	i, err := rangeQueries(ctx, api, queries, r, func(m model.Matrix) {
		for _, s := range m {
			if k, ok := riseKeyOf(s); ok {
				if c, ok := counterHistoryOf(k, s.Values, buckets); ok {
					read[k] = c
				}
			}
		}
	})
	if err != nil {
		return nil, fmt.Sprintf("reading when the business counters rose (query %d of %d)", i+1, len(queries)), err
	}
	// What the fine pass read of a name replaces what the others settled of it.
	asked := map[string]bool{}
	for _, n := range names {
		asked[n] = true
	}
	// The keys are sorted rather than the histories, a quarter of their size: a large server's
	// counters are a hundred thousand.
	keys := make([]counterKey, 0, len(read)+len(settled))
	for k := range read {
		keys = append(keys, k)
	}
	for k := range settled {
		if _, ok := read[k]; !ok && !asked[k.metric] {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b counterKey) int {
		return cmp.Or(cmp.Compare(a.job, b.job), cmp.Compare(a.metric, b.metric))
	})
	out := make([]analyze.CounterHistory, len(keys))
	for i, k := range keys {
		if c, ok := read[k]; ok {
			out[i] = c
		} else {
			out[i] = settled[k]
		}
	}
	return out, "", nil
}

// busyCounter reports whether the coarse pass's points before recentStart (older) and the
// recent pass's points (recent, from recentStart to end) are enough for a counter: it moved in
// every coarse step from its first to recentStart, rose at least twice lately, in the last
// three steps (so it cannot be flat), and never paused counterBusyGap or longer lately, nor
// between recentStart and its first recent rise.
func busyCounter(older coarseCounter, recent []model.SamplePair, recentStart, end time.Time, step time.Duration) bool {
	if len(recent) < 2 || end.Sub(recent[len(recent)-1].Timestamp.Time()) >= 3*step ||
		!older.last.Time().Equal(recentStart) || !older.every {
		return false
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
// pass and the recent pass's rises: its first increase is its first coarse step (the end of
// the hour it first moved in), its increases are the coarse steps and the recent rises after
// the last of them (fewer than the steps it rose at), its longest gap is the longest of the
// last coarse step (it moved in every hour before), and its rise is what its sum gained from
// coarse point to coarse point and then at each later recent rise. (A recent rise at the last
// coarse step is within the hour that step already counts.)
func busyHistory(k counterKey, older coarseCounter, recent []model.SamplePair) analyze.CounterHistory {
	c := analyze.CounterHistory{Job: k.job, Metric: k.metric, Increases: older.points,
		FirstIncrease: older.first.Time().UTC(), LastIncrease: recent[len(recent)-1].Timestamp.Time().UTC(), Rise: older.rise}
	for _, p := range recent {
		if p.Timestamp > older.last {
			c.Increases++
			c.Rise += float64(p.Value)
		}
	}
	for i := 1; i < len(recent); i++ {
		c.LongestGap = max(c.LongestGap, recent[i].Timestamp.Sub(recent[i-1].Timestamp))
	}
	return c
}

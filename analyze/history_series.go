package analyze

import "time"

// SeriesBuckets is the most buckets the history's series divide the lookback into: enough to
// draw a small sparkline, few enough to store for every counter.
const SeriesBuckets = 48

// SeriesStep is the width of the buckets of a lookback divided into at most SeriesBuckets: a
// whole multiple of step (the resolution of the range queries), so that every step falls in
// one bucket. Zero when step is.
func SeriesStep(lookback, step time.Duration) time.Duration {
	if step <= 0 {
		return 0
	}
	n := (lookback + SeriesBuckets*step - 1) / (SeriesBuckets * step)
	return max(n, 1) * step
}

// SeriesLen is how many buckets of width step cover lookback (SeriesBuckets at most when step
// is SeriesStep's).
func SeriesLen(lookback, step time.Duration) int {
	if step <= 0 || lookback <= 0 {
		return 0
	}
	return int((lookback + step - 1) / step)
}

// SeriesBucket is the bucket that t falls in, of the n buckets of width step that end at end
// (History.SeriesStep): a time on a bucket's end falls in that bucket, as a range query's
// point at t says what happened in the step before it. False when t is outside them.
func SeriesBucket(end time.Time, step time.Duration, n int, t time.Time) (int, bool) {
	if step <= 0 || t.After(end) {
		return 0, false
	}
	i := n - 1 - int(end.Sub(t)/step)
	return i, i >= 0
}

package prometheus

import (
	"context"
	"fmt"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// seriesBuckets are the buckets of the history's series (analyze.History.SeriesStep): n of
// width step, the last ending at end; queryStep is the step of the range queries.
type seriesBuckets struct {
	end       time.Time
	step      time.Duration
	n         int
	queryStep time.Duration
}

// newSeriesBuckets divides the range of h into at most analyze.SeriesBuckets buckets of whole
// steps.
func newSeriesBuckets(h analyze.History) seriesBuckets {
	step := analyze.SeriesStep(h.Lookback, h.Step)
	return seriesBuckets{end: h.End, step: step, n: analyze.SeriesLen(h.Lookback, step), queryStep: h.Step}
}

// keepsSeries reports whether the series of counter c is kept: only when c may be flat at the
// end, the one use of a counter's series (the sparkline of business/flatlined). A counter that
// rose more than once is flat only after three times its longest gap, itself at least a step,
// so one that rose in the last three steps is not, and its series (most counters' on a large
// server) is not held.
func (b seriesBuckets) keepsSeries(c analyze.CounterHistory) bool {
	return c.Increases <= 1 || b.end.Sub(c.LastIncrease) >= 3*b.queryStep
}

// increases is how much a counter rose in each bucket, from the points of
// counterRiseQueries (a point only at the steps where it rose, valued with how much): the
// first point's counts 0, as a counter's Rise does not count it.
func (b seriesBuckets) increases(rises []model.SamplePair) []float64 {
	if b.n == 0 {
		return nil
	}
	out := make([]float64, b.n)
	for _, p := range rises[min(1, len(rises)):] {
		if j, ok := analyze.SeriesBucket(b.end, b.step, b.n, p.Timestamp.Time()); ok {
			out[j] += float64(p.Value)
		}
	}
	return out
}

// upSeriesQueries build, per batch of JobMetricsBatch job names,
//
//	count by (job) (max_over_time(up{job=~"a|b"}[bucket]))
//
// which, read at the end of each bucket, is how many up series each job had in the bucket.
func upSeriesQueries(jobs []string, bucket time.Duration) ([]string, error) {
	matchers, err := jobMatchers(jobs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, job := range matchers {
		expr := &parser.AggregateExpr{
			Op:       parser.COUNT,
			Grouping: []string{"job"},
			Expr: &parser.Call{Func: parser.Functions["max_over_time"], Args: parser.Expressions{
				&parser.MatrixSelector{VectorSelector: upSelector(0, job), Range: bucket},
			}},
		}
		out = append(out, expr.String())
	}
	return out, nil
}

// collectUpSeries fills the Series of the jobs h holds (those that stopped) with how many up
// series each had per bucket: one range query a bucket apart per batch of JobMetricsBatch
// jobs, none when no job stopped.
func collectUpSeries(ctx context.Context, api promv1.API, h *analyze.History, b seriesBuckets) error {
	if len(h.Jobs) == 0 || b.n == 0 {
		return nil
	}
	names := make([]string, len(h.Jobs))
	for i, j := range h.Jobs {
		names[i] = j.Name
	}
	queries, err := upSeriesQueries(names, b.step)
	if err != nil {
		return fmt.Errorf("building the query: %w", err)
	}
	r := promv1.Range{Start: b.end.Add(-time.Duration(b.n-1) * b.step), End: b.end, Step: b.step}
	series := map[string][]float64{}
	for i, q := range queries {
		m, err := queryMatrix(ctx, api, q, r)
		if err != nil {
			return fmt.Errorf("query %d of %d: %w", i+1, len(queries), err)
		}
		for _, s := range m {
			job := string(s.Metric["job"])
			out := series[job]
			if out == nil {
				out = make([]float64, b.n)
				series[job] = out
			}
			for _, v := range s.Values {
				if j, ok := analyze.SeriesBucket(b.end, b.step, b.n, v.Timestamp.Time()); ok {
					out[j] = float64(v.Value)
				}
			}
		}
	}
	for i := range h.Jobs {
		h.Jobs[i].Series = series[h.Jobs[i].Name]
		if h.Jobs[i].Series == nil {
			h.Jobs[i].Series = make([]float64, b.n)
		}
	}
	return nil
}

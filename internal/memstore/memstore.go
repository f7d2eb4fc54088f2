// Package memstore is a read-only, in-memory storage.Queryable of series for Prometheus'
// PromQL engine: enough to evaluate expressions over a few described series (the coverage
// worlds, promtool's test groups).
package memstore

import (
	"context"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// Series is one series: its labels and samples in time order.
type Series struct {
	Labels  labels.Labels
	Samples []Sample
}

// Sample is one sample at T (milliseconds since the epoch): the float F or, when FH is set, a
// float histogram.
type Sample struct {
	T  int64
	F  float64
	FH *histogram.FloatHistogram
}

// Storage serves its series to the engine.
type Storage struct {
	series []Series
	// till is the last time served (Until); samples after it are not.
	till int64
}

// New holds series; they must not be changed afterwards.
func New(series []Series) *Storage {
	ss := slices.Clone(series)
	slices.SortFunc(ss, func(a, b Series) int { return labels.Compare(a.Labels, b.Labels) })
	return &Storage{series: ss, till: math.MaxInt64}
}

// Until is the storage of the same series holding only the samples up to till (milliseconds
// since the epoch), as a lazy loader holds them at that time.
func (m *Storage) Until(till int64) *Storage {
	return &Storage{series: m.series, till: till}
}

// Querier implements storage.Queryable.
func (m *Storage) Querier(mint, maxt int64) (storage.Querier, error) {
	return querier{series: m.series, mint: mint, maxt: min(maxt, m.till)}, nil
}

type querier struct {
	series     []Series
	mint, maxt int64
}

func (q querier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	var out []storage.Series
	for _, s := range q.matching(ms) {
		var in []chunks.Sample
		for _, smpl := range s.Samples {
			if smpl.T >= q.mint && smpl.T <= q.maxt {
				in = append(in, sample{t: smpl.T, f: smpl.F, fh: smpl.FH})
			}
		}
		out = append(out, storage.NewListSeries(s.Labels, in))
	}
	return &seriesSet{series: out, i: -1}
}

func (q querier) matching(ms []*labels.Matcher) []Series {
	var out []Series
	for _, s := range q.series {
		if !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches(s.Labels.Get(m.Name)) }) {
			out = append(out, s)
		}
	}
	return out
}

func (q querier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vs []string
	for _, s := range q.matching(ms) {
		if v := s.Labels.Get(name); v != "" {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs), nil, nil
}

func (q querier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var ns []string
	for _, s := range q.matching(ms) {
		s.Labels.Range(func(l labels.Label) { ns = append(ns, l.Name) })
	}
	slices.Sort(ns)
	return slices.Compact(ns), nil, nil
}

func (querier) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                      { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series              { return s.series[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

type sample struct {
	t  int64
	f  float64
	fh *histogram.FloatHistogram
}

func (s sample) T() int64                      { return s.t }
func (sample) ST() int64                       { return 0 }
func (s sample) F() float64                    { return s.f }
func (sample) H() *histogram.Histogram         { return nil }
func (s sample) FH() *histogram.FloatHistogram { return s.fh }

func (s sample) Type() chunkenc.ValueType {
	if s.fh != nil {
		return chunkenc.ValFloatHistogram
	}
	return chunkenc.ValFloat
}

func (s sample) Copy() chunks.Sample {
	c := s
	if s.fh != nil {
		c.fh = s.fh.Copy()
	}
	return c
}

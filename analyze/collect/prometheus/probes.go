package prometheus

import (
	"context"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// probeSuccess is the metric a blackbox exporter (and any prober) sets to 0 when a probe
// fails.
const probeSuccess = "probe_success"

// probeSelector selects probe_success, offset by offset.
func probeSelector(offset time.Duration) *parser.VectorSelector {
	return nameSelector(probeSuccess, offset)
}

// nameSelector selects the series of the metric name, offset by offset.
func nameSelector(name string, offset time.Duration) *parser.VectorSelector {
	return &parser.VectorSelector{Name: name, OriginalOffset: offset, LabelMatchers: []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name),
	}}
}

// probeIs is `probe_success offset offset == value`.
func probeIs(offset time.Duration, value float64) parser.Expr {
	return &parser.BinaryExpr{Op: parser.EQLC, LHS: probeSelector(offset), RHS: &parser.NumberLiteral{Val: value}}
}

// probeFailingQuery is `probe_success == 0`: the probes failing at the time it is asked.
func probeFailingQuery() parser.Expr { return probeIs(0, 0) }

// probeStartsQuery is
//
//	probe_success == 0 and probe_success offset step == 1
//	or
//	probe_success == 0 unless probe_success offset step
//
// which has a point only at the steps where a probe began to fail (after succeeding, or when
// first seen failing): a probe succeeding or failing all along gives none.
func probeStartsQuery(step time.Duration) parser.Expr {
	manyToMany := func() *parser.VectorMatching { return &parser.VectorMatching{Card: parser.CardManyToMany} }
	return &parser.BinaryExpr{
		Op:             parser.LOR,
		LHS:            &parser.BinaryExpr{Op: parser.LAND, LHS: probeIs(0, 0), RHS: probeIs(step, 1), VectorMatching: manyToMany()},
		RHS:            &parser.BinaryExpr{Op: parser.LUNLESS, LHS: probeIs(0, 0), RHS: probeSelector(step), VectorMatching: manyToMany()},
		VectorMatching: manyToMany(),
	}
}

// collectProbes reads the probes failing at the end of r (one instant query) and, when some
// are, since when (one range query over r answering only where a failure began). A probe is
// its job and instance; of several failing series of one probe, the one failing longest
// gives its start.
func collectProbes(ctx context.Context, api promv1.API, r promv1.Range) ([]analyze.ProbeHistory, error) {
	v, _, _, err := api.Query(ctx, probeFailingQuery().String(), r.End)
	if err != nil {
		return nil, err
	}
	failing, err := vectorOf(v)
	if err != nil {
		return nil, err
	}
	if len(failing) == 0 {
		return nil, nil
	}
	m, err := queryMatrix(ctx, api, probeStartsQuery(r.Step).String(), r)
	if err != nil {
		return nil, err
	}
	began := map[model.Fingerprint]time.Time{}
	for _, s := range m {
		if len(s.Values) > 0 {
			began[seriesOf(s.Metric)] = s.Values[len(s.Values)-1].Timestamp.Time().UTC()
		}
	}
	type probe struct{ job, instance string }
	since := map[probe]time.Time{}
	var order []probe
	for _, s := range failing {
		p := probe{string(s.Metric["job"]), string(s.Metric["instance"])}
		if p.job == "" {
			continue
		}
		at := began[seriesOf(s.Metric)] // zero: failing throughout
		prev, seen := since[p]
		if !seen {
			order = append(order, p)
		}
		if !seen || at.Before(prev) {
			since[p] = at
		}
	}
	out := make([]analyze.ProbeHistory, 0, len(order))
	for _, p := range order {
		out = append(out, analyze.ProbeHistory{Job: p.job, Instance: p.instance, Since: since[p]})
	}
	return out, nil
}

// seriesOf identifies a series whatever its metric name (a comparison may keep or drop it).
func seriesOf(m model.Metric) model.Fingerprint {
	c := m.Clone()
	delete(c, model.MetricNameLabel)
	return c.Fingerprint()
}

package unittests

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/memstore"
)

// testStart is where promtool's input series begin and its evaluations start.
var testStart = time.Unix(0, 0).UTC()

// expectFiring evaluates the alert over the failing series as promtool's rule manager will,
// checks that it fires at the eval time with exactly the test case's labels, and returns the
// expected alert with its annotations expanded.
func expectFiring(a generate.Alert, tc generate.TestCase) (expAlert, error) {
	w, err := newWorld(tc.FailingSeries, tc.Interval)
	if err != nil {
		return expAlert{}, err
	}
	defer w.close()

	// promtool checks the alerts of the last evaluation at or before eval_time.
	at := testStart.Add(tc.EvalTime.Truncate(EvaluationInterval))
	want := labels.FromMap(tc.FiringLabels)

	// An alert fires once it has been active for its `for`: it must be there, with the same
	// labels, at every evaluation from the one `for` before up to eval_time.
	held := time.Duration(0)
	var last alertInstance
	for t := at; ; t = t.Add(-EvaluationInterval) {
		alerts, err := w.alerts(a, t)
		if err != nil {
			return expAlert{}, err
		}
		i := slices.IndexFunc(alerts, func(x alertInstance) bool { return labels.Equal(x.labels, want) })
		if t.Equal(at) {
			if len(alerts) != 1 || i < 0 {
				return expAlert{}, fmt.Errorf("at %s Prometheus would have alerts %s, the test case expects one with %s",
					duration(t.Sub(testStart)), alertLabels(alerts), want)
			}
			last = alerts[i]
		} else if i < 0 {
			return expAlert{}, fmt.Errorf("the alert is active only since %s, so at %s it has not been active for its for (%s)",
				duration(t.Add(EvaluationInterval).Sub(testStart)), duration(at.Sub(testStart)), a.For)
		}
		if held >= a.For {
			break
		}
		if !t.After(testStart) {
			return expAlert{}, fmt.Errorf("evaluations start at 0s, so at %s the alert cannot have been active for its for (%s)",
				duration(at.Sub(testStart)), a.For)
		}
		held += EvaluationInterval
	}
	return expAlert{ExpLabels: tc.FiringLabels, ExpAnnotations: last.annotations}, nil
}

// expectSilent checks that the alert's expression is empty over the healthy series at the
// eval time: a healthy case that stayed silent only because `for` had not passed yet would
// prove little.
func expectSilent(a generate.Alert, healthy []generate.Series, tc generate.TestCase) error {
	w, err := newWorld(healthy, tc.Interval)
	if err != nil {
		return err
	}
	defer w.close()
	at := testStart.Add(tc.EvalTime.Truncate(EvaluationInterval))
	alerts, err := w.alerts(a, at)
	if err != nil {
		return err
	}
	if len(alerts) > 0 {
		return fmt.Errorf("at %s the expression still returns %s", duration(at.Sub(testStart)), alertLabels(alerts))
	}
	return nil
}

// alertInstance is one alert an evaluation of an alerting rule yields.
type alertInstance struct {
	labels      labels.Labels // without alertname, as promtool's exp_labels
	annotations map[string]string
}

func alertLabels(as []alertInstance) string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.labels.String())
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// world is the storage and engine of one promtool test group.
type world struct {
	engine *promql.Engine
	store  *memstore.Storage
}

// newWorld loads input series the way promtool's lazy loader does: the i-th value of a series
// is its sample at i×interval, "_" leaves a gap, and a later definition of the same series
// replaces an earlier one.
func newWorld(input []generate.Series, interval time.Duration) (*world, error) {
	p := parser.NewParser(parser.Options{})
	byLabels := map[string]int{}
	var ss []memstore.Series
	for _, in := range input {
		line := in.Series + " " + in.Values
		if strings.ContainsAny(line, "\r\n") {
			return nil, fmt.Errorf("input series %q %q spans lines, which promtool cannot load", in.Series, in.Values)
		}
		lset, vals, err := p.ParseSeriesDesc(line)
		if err != nil {
			return nil, fmt.Errorf("parsing input series %q %q: %w", in.Series, in.Values, err)
		}
		s := memstore.Series{Labels: lset}
		for i, v := range vals {
			if v.Omitted {
				continue
			}
			t := timestamp.FromTime(testStart.Add(time.Duration(i) * interval))
			s.Samples = append(s.Samples, memstore.Sample{T: t, F: v.Value, FH: v.Histogram})
		}
		if i, ok := byLabels[lset.String()]; ok {
			ss[i] = s
			continue
		}
		byLabels[lset.String()] = len(ss)
		ss = append(ss, s)
	}
	// The options of promtool's engine: its defaults, with @ and negative offsets enabled and
	// subqueries without a step evaluated at the evaluation interval.
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:               10000,
		Timeout:                  100 * time.Second,
		NoStepSubqueryIntervalFn: func(int64) int64 { return EvaluationInterval.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
	return &world{engine: engine, store: memstore.New(ss)}, nil
}

func (w *world) close() { _ = w.engine.Close() }

// query evaluates expr at t as rules.EngineQueryFunc does, over the samples loaded up to t
// (promtool loads samples lazily, up to each evaluation).
func (w *world) query(ctx context.Context, expr string, t time.Time) (promql.Vector, error) {
	q, err := w.engine.NewInstantQuery(ctx, w.store.Until(timestamp.FromTime(t)), nil, expr, t)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{promql.Sample{T: v.T, F: v.V, Metric: labels.Labels{}}}, nil
	default:
		return nil, errors.New("rule result is not a vector or scalar")
	}
}

// alerts evaluates the alerting rule at t like rules.AlertingRule.Eval: the sample's labels
// without __name__, the rule's labels expanded on top, and the annotations expanded, all with
// the template data and the convenience variables Prometheus gives them.
func (w *world) alerts(a generate.Alert, t time.Time) ([]alertInstance, error) {
	ctx := context.Background()
	res, err := w.query(ctx, a.Expr.String(), t)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s at %s: %w", a.Expr, duration(t.Sub(testStart)), err)
	}
	out := make([]alertInstance, 0, len(res))
	for _, smpl := range res {
		data := template.AlertTemplateData(smpl.Metric.Map(), map[string]string{}, "", smpl)
		expand := func(what, text string) (string, error) {
			e := template.NewTemplateExpander(ctx, templateDefs+text, "__alert_"+a.Name, data,
				model.Time(timestamp.FromTime(t)), template.QueryFunc(w.query), nil, nil)
			s, err := e.Expand()
			if err != nil {
				return "", fmt.Errorf("expanding %s: %w", what, err)
			}
			return s, nil
		}

		lb := labels.NewBuilder(smpl.Metric)
		lb.Del(model.MetricNameLabel)
		for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
			v, err := expand("label "+k, a.Labels[k])
			if err != nil {
				return nil, err
			}
			lb.Set(k, v)
		}
		annots := make(map[string]string, len(a.Annotations))
		for _, k := range slices.Sorted(maps.Keys(a.Annotations)) {
			v, err := expand("annotation "+k, a.Annotations[k])
			if err != nil {
				return nil, err
			}
			annots[k] = v
		}
		out = append(out, alertInstance{labels: lb.Labels(), annotations: annots})
	}
	return out, nil
}

// templateDefs are the convenience variables rules.AlertingRule.Eval puts in front of every
// label and annotation template.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

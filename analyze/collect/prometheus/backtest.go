package prometheus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// BacktestBatch is how many alerts one range query of Backtest evaluates.
const BacktestBatch = 10

// backtestLabel marks which alert of a batch a series of the answer belongs to.
const backtestLabel = "blindspot_backtest_alert"

// BacktestRule is an alert to evaluate over the lookback.
type BacktestRule struct {
	Name string
	Expr parser.Expr
	For  time.Duration
}

// BacktestRange is the range the alerts are evaluated over: the history's Start, End and Step.
type BacktestRange struct {
	Start, End time.Time
	Step       time.Duration
}

// RangeOf is the range of what the history read.
func RangeOf(h analyze.History) BacktestRange {
	return BacktestRange{Start: h.Start, End: h.End, Step: h.Step}
}

// BacktestResult is how one alert would have behaved over the range: its firing episodes (of
// all its series, each `for` applied) and the time at least one of its series fired.
type BacktestResult struct {
	Name     string
	Episodes int
	Firing   time.Duration
}

// Backtest evaluates each rule's expression over r with range queries, BacktestBatch rules
// to a query run jobMetricsParallel at a time (rangeQueries), and applies its `for` the way
// Prometheus's rule manager does: a series is pending from the first step it appears, fires
// once it has appeared at every step for `for`, keeps firing while it appears at every step,
// and a step without it resets it. Each step a series fires counts as one step of firing time.
// The results are in the order of rules.
func Backtest(ctx context.Context, client api.Client, rules []BacktestRule, r BacktestRange) ([]BacktestResult, error) {
	if r.Step <= 0 || !r.End.After(r.Start) {
		return nil, fmt.Errorf("backtest: an empty range (%s to %s, step %s)", r.Start, r.End, r.Step)
	}
	var queries []string
	for start := 0; start < len(rules); start += BacktestBatch {
		queries = append(queries, backtestQuery(rules[start:min(start+BacktestBatch, len(rules))], start).String())
	}
	out := make([]BacktestResult, len(rules))
	// A rule's series all come in the answer of its batch: each answer is summed up as it
	// comes.
	i, err := rangeQueries(ctx, promv1.NewAPI(client), queries, promv1.Range{Start: r.Start, End: r.End, Step: r.Step}, func(m model.Matrix) {
		series := map[int][]*model.SampleStream{}
		for _, s := range m {
			i, err := strconv.Atoi(string(s.Metric[backtestLabel]))
			if err != nil || i < 0 || i >= len(rules) {
				continue
			}
			series[i] = append(series[i], s)
		}
		for i, ss := range series {
			out[i] = Episodes(ss, r.Step, rules[i].For)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("backtesting %s: %s", rules[i*BacktestBatch].Name, describe(err))
	}
	for i, rule := range rules {
		out[i].Name = rule.Name
	}
	return out, nil
}

// backtestQuery is
//
//	label_replace(expr0, "blindspot_backtest_alert", "0", "", "") or label_replace(expr1, …, "1", "", "") or …
//
// which answers the series of every rule of the batch, each marked with its index among all
// the rules (first, that of the batch's first rule).
func backtestQuery(rules []BacktestRule, first int) parser.Expr {
	var q parser.Expr
	for i, r := range rules {
		marked := labelReplace(r.Expr, backtestLabel, strconv.Itoa(first+i), "", "")
		if q == nil {
			q = marked
			continue
		}
		q = &parser.BinaryExpr{Op: parser.LOR, LHS: q, RHS: marked, VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany}}
	}
	return q
}

// Episodes applies hold (an alert's `for`) to the series of one alert's range answer at step:
// the episodes are the stretches of consecutive steps at which a series appears that last at
// least hold, each firing from the first step hold after its start to its last step. Firing is
// the time at least one series fired, a step for each step fired.
func Episodes(series []*model.SampleStream, step, hold time.Duration) BacktestResult {
	var res BacktestResult
	type interval struct{ from, to time.Time } // [from, to)
	var firing []interval
	for _, s := range series {
		vs := s.Values
		for i := 0; i < len(vs); {
			// The run of consecutive steps from vs[i] to vs[j-1].
			j := i + 1
			for j < len(vs) && vs[j].Timestamp.Time().Sub(vs[j-1].Timestamp.Time()) <= step {
				j++
			}
			active, last := vs[i].Timestamp.Time(), vs[j-1].Timestamp.Time()
			// Prometheus fires at the first evaluation at which the condition has held for hold.
			fires := active.Add(((hold + step - 1) / step) * step)
			if !fires.After(last) {
				res.Episodes++
				firing = append(firing, interval{fires, last.Add(step)})
			}
			i = j
		}
	}
	slices.SortFunc(firing, func(a, b interval) int { return cmp.Or(a.from.Compare(b.from), a.to.Compare(b.to)) })
	var end time.Time
	for _, f := range firing {
		if f.from.Before(end) {
			f.from = end
		}
		if f.to.After(f.from) {
			res.Firing += f.to.Sub(f.from)
			end = f.to
		}
	}
	return res
}

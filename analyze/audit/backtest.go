package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/bundle"
	"github.com/blindspot-dev/blindspot/generate/rules"
)

// maxTuning bounds how many times an alert that fired too often is given a longer window and
// `for` and evaluated again before it is left out as too noisy.
const maxTuning = 3

// minTunedFor is the shortest `for` a tuned alert is given.
const minTunedFor = 10 * time.Minute

// Backtested is how one generated alert would have behaved over the lookback.
type Backtested struct {
	Alert  string
	Result generate.BacktestResult
	// Tuned says the alert was given a longer window or `for` to fire less often; Noisy that
	// it still fired too often, or could not be tuned, and is not written.
	Tuned, Noisy bool
}

// historyWindows are the rate windows the counters of h ask for: twice the longest gap each
// showed between two increases, in whole minutes.
func historyWindows(h analyze.History) map[generate.JobMetric]time.Duration {
	out := map[generate.JobMetric]time.Duration{}
	for _, c := range h.Counters {
		if c.LongestGap > 0 {
			w := 2 * c.LongestGap
			out[generate.JobMetric{Job: c.Job, Metric: c.Metric}] = ((w + time.Minute - 1) / time.Minute) * time.Minute
		}
	}
	return out
}

// withHistory gives o what the member's history says without asking the server again: the
// windows of its business counters. Without history o is unchanged.
func withHistory(inv *analyze.Inventory, o generate.Options) generate.Options {
	if inv.Has(analyze.PartHistory) {
		o.Backtest = &generate.Backtest{Windows: historyWindows(inv.History)}
	}
	return o
}

// backtest evaluates every alert o plans for the member over the history the audit read, on
// the live server at live: it learns which Pushgateway groups are pushed periodically, gives
// the alerts that fired more than o.MaxBacktestEpisodes times a longer window and `for` (at
// most maxTuning times) and leaves out those still too noisy. It returns the options to
// generate with and what each alert written would have done. A server that cannot answer
// leaves the alerts untested, and a note says so.
func backtest(ctx context.Context, live httpconfig.Options, inv *analyze.Inventory, findings []analyze.Finding, matrix []coverage.JobCoverage, o generate.Options) (generate.Options, []Backtested, []string, error) {
	o = generate.DefaultOptions(withHistory(inv, o))
	client, err := prometheus.NewClient(live)
	if err != nil {
		return o, nil, nil, err
	}
	r := prometheus.RangeOf(inv.History)
	bt := &generate.Backtest{
		Lookback: inv.History.Lookback, Windows: o.Backtest.Windows,
		Results: map[string]generate.BacktestResult{}, Tuning: map[string]generate.Tuning{},
		Noisy: map[string]generate.BacktestResult{}, Unperiodic: map[string]string{},
	}
	untested := func(err error) (generate.Options, []Backtested, []string, error) {
		o.Backtest = &generate.Backtest{Windows: bt.Windows}
		return o, nil, []string{"the generated alerts were not backtested: " + err.Error()}, nil
	}
	groups, err := prometheus.PushHistory(ctx, client, r)
	if err != nil {
		return untested(err)
	}
	for _, g := range groups {
		if ok, why := g.Periodic(r.Step); !ok && bt.Unperiodic[g.Job] == "" {
			bt.Unperiodic[g.Job] = fmt.Sprintf("its Pushgateway group %s was %s, so a missing push cannot be told from its schedule", g.Labels, why)
		}
	}
	o.Backtest = bt

	var pending map[string]bool // the alerts to evaluate again; nil: all of them
	for attempt := 0; ; attempt++ {
		files, err := bundle.Plan(inv, findings, matrix, o)
		if err != nil {
			return o, nil, nil, err
		}
		var alerts []generate.Alert
		var batch []prometheus.BacktestRule
		for _, f := range files {
			for _, a := range f.Alerts {
				if pending == nil || pending[a.Name] {
					alerts = append(alerts, a)
					batch = append(batch, prometheus.BacktestRule{Name: a.Name, Expr: a.Expr, For: a.For})
				}
			}
		}
		if len(batch) == 0 {
			break
		}
		results, err := prometheus.Backtest(ctx, client, batch, r)
		if err != nil {
			return untested(err)
		}
		pending = map[string]bool{}
		for i, res := range results {
			a, got := alerts[i], generate.BacktestResult{Episodes: res.Episodes, Firing: res.Firing}
			bt.Results[a.Name] = got
			if got.Episodes <= o.MaxBacktestEpisodes {
				continue
			}
			if !rules.Tunable(a.Kind) || attempt == maxTuning {
				bt.Noisy[a.Name] = got
				delete(bt.Results, a.Name)
				continue
			}
			t := generate.Tuning{For: max(2*a.For, minTunedFor)}
			if a.Kind == generate.KindRateDrop {
				t.Window = 2 * o.Window(a.Job, a.Metric)
				if prev, ok := bt.Tuning[a.Name]; ok && prev.Window > 0 {
					t.Window = 2 * prev.Window
				}
			}
			bt.Tuning[a.Name] = t
			pending[a.Name] = true
		}
		if len(pending) == 0 {
			break
		}
	}
	for name := range bt.Noisy {
		delete(bt.Tuning, name)
	}

	// What each alert written would have done, in the order of the rule files.
	files, err := bundle.Plan(inv, findings, matrix, o)
	if err != nil {
		return o, nil, nil, err
	}
	var out []Backtested
	for _, f := range files {
		for _, a := range f.Alerts {
			if res, ok := bt.Results[a.Name]; ok {
				_, tuned := bt.Tuning[a.Name]
				out = append(out, Backtested{Alert: a.Name, Result: res, Tuned: tuned})
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(bt.Noisy)) {
		out = append(out, Backtested{Alert: name, Result: bt.Noisy[name], Noisy: true})
	}
	return o, out, nil, nil
}

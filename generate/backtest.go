package generate

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// DefaultMaxBacktestEpisodes is how many times a generated alert may have fired over the
// lookback before it is tuned or left out (generate.max_backtest_episodes): more than once
// every day of the default week of history.
const DefaultMaxBacktestEpisodes = 7

// Backtest is what the history of the audited server says of the alerts to generate: the
// windows its business counters need, how often each alert would have fired over the lookback,
// and what that changed. Nil without history: generation is then what the options alone say.
type Backtest struct {
	// Lookback is the span the alerts were evaluated over; 0 when they were not (the history
	// was read from a snapshot: only the windows apply).
	Lookback time.Duration
	// Windows are the shortest rate windows the business counters allow, by job and metric:
	// twice the longest quiet gap each showed, so that the rate-drop alert does not fire in a
	// normal pause.
	Windows map[JobMetric]time.Duration
	// Results are the backtests of the alerts written, by alert name.
	Results map[string]BacktestResult
	// Tuning are the longer windows and `for` given to alerts that fired too often, by name.
	Tuning map[string]Tuning
	// Noisy are the alerts that would still have fired more than MaxBacktestEpisodes times
	// after tuning (or that cannot be tuned): they are not written. By name.
	Noisy map[string]BacktestResult
	// Unperiodic are the jobs whose Pushgateway groups are not pushed periodically over the
	// lookback (pushed once, or at irregular intervals), with why: their "no recent push"
	// alert is not written.
	Unperiodic map[string]string
}

// JobMetric names a counter of a job.
type JobMetric struct{ Job, Metric string }

// Tuning is what an alert that fired too often is given instead of the defaults: a longer
// rate window (rate-drop alerts) and a longer `for`.
type Tuning struct {
	Window time.Duration
	For    time.Duration
}

// BacktestResult is how an alert would have behaved over the lookback: how many times it
// would have fired (firing episodes, with its `for` applied, of any of its series) and for how
// long in all.
type BacktestResult struct {
	Episodes int
	Firing   time.Duration
}

// Sentence says the result in words: "would have fired 2 times in the last 7d, for 3h10m in
// all" or "would not have fired in the last 7d".
func (r BacktestResult) Sentence(lookback time.Duration) string {
	span := Days(lookback)
	switch r.Episodes {
	case 0:
		return "would not have fired in the last " + span
	case 1:
		return fmt.Sprintf("would have fired once in the last %s, for %s", span, Days(r.Firing))
	}
	return fmt.Sprintf("would have fired %d times in the last %s, for %s in all", r.Episodes, span, Days(r.Firing))
}

// Phrase is Sentence without the span: "would have fired 2 times, for 3h10m in all".
func (r BacktestResult) Phrase() string {
	switch r.Episodes {
	case 0:
		return "would not have fired"
	case 1:
		return "would have fired once, for " + Days(r.Firing)
	}
	return fmt.Sprintf("would have fired %d times, for %s in all", r.Episodes, Days(r.Firing))
}

// Days writes a duration the way Prometheus does, but in days rather than weeks (7d, not 1w),
// rounded down to the minute.
func Days(d time.Duration) string {
	d = d.Truncate(time.Minute)
	if d < 7*24*time.Hour {
		return model.Duration(d).String()
	}
	days := d / (24 * time.Hour)
	s := fmt.Sprintf("%dd", days)
	if rest := d - days*24*time.Hour; rest > 0 {
		s += model.Duration(rest).String()
	}
	return s
}

// Window is the rate window of the business counter metric of job: the configured window, or
// the longer one its history asks for.
func (o Options) Window(job, metric string) time.Duration {
	w := o.Business.Window
	if o.Backtest != nil {
		w = max(w, o.Backtest.Windows[JobMetric{Job: job, Metric: metric}])
	}
	return w
}

// Tuned returns the tuning of the alert called name, if it was tuned.
func (o Options) Tuned(name string) (Tuning, bool) {
	if o.Backtest == nil {
		return Tuning{}, false
	}
	t, ok := o.Backtest.Tuning[name]
	return t, ok
}

package prometheus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// DefaultLookback is how far back the history is read unless history.lookback says otherwise.
const DefaultLookback = 7 * 24 * time.Hour

// MaxPointsPerSeries bounds the points of one series of a range query: Prometheus refuses a
// query of more than 11,000, and the step is chosen to stay below that (a week at one minute
// is 10,080).
const MaxPointsPerSeries = 10_800

// minHistoryStep is the finest step the history is read at.
const minHistoryStep = time.Minute

// HistoryOptions say what CollectHistory reads.
type HistoryOptions struct {
	// Lookback is how far back to read (DefaultLookback when 0), clipped to the server's
	// retention.
	Lookback time.Duration
	// End is the end of the range: the time of the audit.
	End time.Time
	// Counters are the metric names the job_metrics part found (Builder.JobMetricNames); the
	// counters among them that the defaults do not exclude are the ones whose increases are
	// read, and the last-success gauges among them (the default staleness globs) are read too.
	Counters []string
	// CounterJobs counts, per name of Counters, the jobs exposing it (Builder.JobMetricJobs),
	// which bounds the series a counter history query answers (counterBatches); a name it
	// does not hold counts as one job.
	CounterJobs map[string]int
	// Storage is what the server's configuration says of its storage (Builder.StorageOf):
	// with it, the queries start where the server's data does (dataStartOf). Nil when it is
	// not known: they read the whole lookback.
	Storage *analyze.Storage
}

// HistoryResult is what CollectHistory read: the history when OK, and what to add to the
// source (errors, and a note when the lookback was clipped).
type HistoryResult struct {
	History analyze.History
	OK      bool
	Errors  []analyze.SourceError
	Notes   []string
}

// AddTo records the result in b, on the source called source.
func (r HistoryResult) AddTo(b *analyze.Builder, source string) {
	r.setHistory(b)
	b.AnnotateSource(source, r.Errors, r.Notes)
}

// AddToSource records the history in b and its errors and notes on src: a source that
// replaces the one b holds.
func (r HistoryResult) AddToSource(b *analyze.Builder, src *analyze.Source) {
	r.setHistory(b)
	src.Errors = append(src.Errors, r.Errors...)
	src.Notes = append(src.Notes, r.Notes...)
}

func (r HistoryResult) setHistory(b *analyze.Builder) {
	if r.OK {
		b.SetHistory(r.History)
		b.AddPart(analyze.PartHistory)
	}
}

// CollectHistory reads what the server stored over the lookback with one range query per
// kind of question, whatever the number of jobs and metrics (the counters in batches:
// counterBatches): when jobs' up series stopped or started, and how many each had
// (collectUpChanges: a coarse pass, and a one-minute pass only for the jobs that lost up
// series); at which steps each business counter candidate rose (collectCounters: a coarse
// pass, a pass over the last hour, and a one-minute pass only for the counters those two do
// not settle); how many up series the stopped jobs had per bucket of the lookback (a range
// query a bucket apart, only when some stopped: collectUpSeries); which probes fail at its end
// (probe_success == 0, an instant query), and since when (a range query, only when some
// fail); and when alerts fired and rule groups were loaded (collectAlertHistory: one range and
// one instant query). The range queries answer only at the steps where something changed.
// Its step keeps every series under MaxPointsPerSeries points, and its end is a multiple of
// the step since the epoch (onSteps). The lookback is clipped to the server's retention, read
// from /api/v1/status/flags or, failing that, /api/v1/status/runtimeinfo; a note says so. The
// range queries start where the server's data does (dataStartOf, asked beside the flags;
// fromDataStart), with the same answers. A failed query is an error of the history part,
// which is then not held.
func CollectHistory(ctx context.Context, client api.Client, o HistoryOptions) HistoryResult {
	api := promv1.NewAPI(client)
	var res HistoryResult
	requested := o.Lookback
	if requested <= 0 {
		requested = DefaultLookback
	}
	lookback := requested
	// Where the data starts is asked beside the flags.
	dataStart := make(chan time.Time, 1)
	go func() { dataStart <- dataStartOf(ctx, client, o.Storage) }()
	// The business counters and last-success gauges among the names, picked while the server
	// answers (a large server's names take a tenth of a second).
	counterNames, gaugeNames := defaultBusinessNames(o.Counters)
	settings := settingsOf(ctx, api)
	// A server whose data would start after the audit's time says something wrong: it is
	// asked about the whole lookback.
	start := <-dataStart
	if start.After(o.End) {
		start = time.Time{}
	}
	if !start.IsZero() {
		api = fromDataStart{API: api, start: start}
	}
	switch retention := settings.retention; {
	case retention <= 0:
		res.Notes = append(res.Notes, fmt.Sprintf("history: the server's retention could not be read; the lookback of %s is not clipped", days(requested)))
	case retention < requested:
		lookback = retention
		res.Notes = append(res.Notes, fmt.Sprintf("history: the lookback of %s is clipped to the server's retention of %s", days(requested), days(retention)))
	}
	step := historyStep(lookback)
	// The range queries' steps fall on multiples of step since the epoch, as the subqueries'
	// of counterRiseQueries do.
	end := onSteps(o.End, step)
	h := analyze.History{Requested: requested, Lookback: lookback, Start: end.Add(-lookback), End: end, Step: step}
	r := promv1.Range{Start: end.Add(-lookback.Truncate(step)), End: h.End, Step: step}

	fail := func(what string, err error) HistoryResult {
		res.Errors = append(res.Errors, analyze.SourceError{Part: analyze.PartHistory, Err: fmt.Sprintf("%s: %s", what, describe(err))})
		return res
	}
	jobs, targets, what, err := collectUpChanges(ctx, api, r, settings.lookbackDelta)
	if err != nil {
		return fail(what, err)
	}
	h.Jobs = jobHistories(jobs, step)
	h.TargetCounts = targetCounts(targets, step)
	buckets := newSeriesBuckets(h)
	h.SeriesStep = buckets.step
	if err := collectUpSeries(ctx, api, &h, buckets); err != nil {
		return fail("reading how many up series the stopped jobs had", err)
	}

	counters, what, err := collectCounters(ctx, api, counterNames, o.CounterJobs, r, buckets, start)
	if err != nil {
		return fail(what, err)
	}
	h.Counters = counters
	if h.Probes, err = collectProbes(ctx, api, r); err != nil {
		return fail("reading which probes fail", err)
	}
	if what, err := collectHistoryData(ctx, api, gaugeNames, r, &h); err != nil {
		return fail(what, err)
	}
	if h.Alerts, err = collectAlertHistory(ctx, api, r); err != nil {
		return fail("reading when alerts fired", err)
	}
	res.History, res.OK = h, true
	return res
}

// onSteps is the last multiple of step since the epoch at or before t.
func onSteps(t time.Time, step time.Duration) time.Time {
	ms, s := t.UnixMilli(), step.Milliseconds()
	return time.UnixMilli(ms - ((ms%s)+s)%s).In(t.Location())
}

// historyStep is the step of the range queries over lookback: whole minutes, and coarse
// enough that no series has more than MaxPointsPerSeries points.
func historyStep(lookback time.Duration) time.Duration {
	step := (lookback + MaxPointsPerSeries - 1) / MaxPointsPerSeries
	step = ((step + minHistoryStep - 1) / minHistoryStep) * minHistoryStep
	return max(step, minHistoryStep)
}

// days writes a duration in days when it is whole days (7d rather than model's 1w).
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return model.Duration(d).String()
}

// defaultLookbackDelta is Prometheus's default query.lookback-delta.
const defaultLookbackDelta = 5 * time.Minute

// serverSettings are what the history needs to know of the server's settings.
type serverSettings struct {
	// retention is the server's retention time (0 when it is not known).
	retention time.Duration
	// lookbackDelta is how far back an instant selector finds a series' sample
	// (query.lookback-delta; defaultLookbackDelta when the server does not say).
	lookbackDelta time.Duration
}

// settingsOf reads the server's settings from its flags. The retention is
// storage.tsdb.retention.time or, failing that, the time part of runtimeinfo's
// storageRetention ("15d", "15d or 512MiB"); neither may say one (a size-only retention,
// Thanos, an error).
func settingsOf(ctx context.Context, api promv1.API) serverSettings {
	s := serverSettings{lookbackDelta: defaultLookbackDelta}
	if flags, err := api.Flags(ctx); err == nil {
		if d, err := model.ParseDuration(flags["storage.tsdb.retention.time"]); err == nil && d > 0 {
			s.retention = time.Duration(d)
		}
		if d, err := model.ParseDuration(flags["query.lookback-delta"]); err == nil && d > 0 {
			s.lookbackDelta = time.Duration(d)
		}
	}
	if s.retention > 0 {
		return s
	}
	info, err := api.Runtimeinfo(ctx)
	if err != nil {
		return s
	}
	for part := range strings.SplitSeq(info.StorageRetention, " or ") {
		if d, err := model.ParseDuration(strings.TrimSpace(part)); err == nil && d > 0 {
			s.retention = time.Duration(d)
			return s
		}
	}
	return s
}

// queryMatrix runs a range query and returns its matrix.
func queryMatrix(ctx context.Context, api promv1.API, query string, r promv1.Range) (model.Matrix, error) {
	v, _, _, err := api.QueryRange(ctx, query, r)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case model.Matrix:
		return m, nil
	case nil:
		return nil, fmt.Errorf("the range query answered with no result")
	default:
		return nil, fmt.Errorf("the range query answered a %s, not a matrix", v.Type())
	}
}

// upHistoryQuery is presenceEventsQuery of up by job:
//
//	label_replace(count by (job) (up offset step) unless on (job) count by (job) (up), "event", "stopped", "", "")
//	or
//	label_replace(count by (job) (up) unless on (job) count by (job) (up offset step), "event", "started", "", "")
//
// which has a point only at the steps where a job's up series stopped or started: a job
// scraped all along gives none, whatever the number of steps.
//
// With job set, only the up series it matches are read (collectUpChanges).
func upHistoryQuery(step time.Duration, job *labels.Matcher) parser.Expr {
	return presenceEventsQuery(func(offset time.Duration) parser.Expr { return upSelector(offset, job) }, "job", step)
}

// The label and values upHistoryQuery marks its events with.
const (
	eventLabel   = "event"
	eventStopped = "stopped"
	eventStarted = "started"
)

// jobHistories are the jobs whose last event is that their up series stopped, last seen the
// step before.
func jobHistories(m model.Matrix, step time.Duration) []analyze.JobHistory {
	type last struct {
		at      model.Time
		stopped bool
	}
	events := map[string]last{}
	for _, s := range m {
		job, event := string(s.Metric["job"]), string(s.Metric[eventLabel])
		if job == "" || len(s.Values) == 0 || (event != eventStopped && event != eventStarted) {
			continue
		}
		at := s.Values[len(s.Values)-1].Timestamp
		if e, ok := events[job]; !ok || at > e.at {
			events[job] = last{at: at, stopped: event == eventStopped}
		}
	}
	var out []analyze.JobHistory
	for job, e := range events {
		if e.stopped {
			out = append(out, analyze.JobHistory{Name: job, LastSeen: e.at.Time().Add(-step).UTC()})
		}
	}
	return out
}

// defaultBusinessNames splits the names among names that the default business exclusions
// keep into counters (by name: _total) and last-success gauges (the default staleness globs),
// each sorted and without repeats. Only the embedded defaults choose, so that a snapshot holds
// the same answers whatever configuration replays it; the checks apply the user's
// business_metrics settings to what was read.
func defaultBusinessNames(names []string) (counters, gauges []string) {
	defaults, err := rulesets.DefaultBusiness()
	if err != nil {
		return nil, nil
	}
	exclude, staleness := rulesets.NewGlobs(defaults.Exclude), rulesets.NewGlobs(defaults.Staleness)
	for _, n := range names {
		switch {
		case exclude.Match(n):
		case staleness.Match(n):
			gauges = append(gauges, n)
		case analyze.IsCounter(n, func(string) []string { return nil }):
			counters = append(counters, n)
		}
	}
	slices.Sort(counters)
	slices.Sort(gauges)
	return slices.Compact(counters), slices.Compact(gauges)
}

// setMatchValues is the most literals one regular-expression matcher of the history holds.
// Prometheus looks an alternation of up to 256 literals up in its index as a set; a longer one
// it matches against every value the label has (model/labels' maxSetMatches), which on the
// scale estate's 98,000 names cost a sixth of the server's time for the counter passes.
// (A variable so that tests can make a few names several selectors.)
var setMatchValues = 250

// counterHistoryQueries build, per batch of names (counterBatches),
//
//	sum by (job, __name__) ({__name__=~"a|b"}) > on (job, __name__) sum by (job, __name__) ({__name__=~"a|b"} offset step)
//
// which has a point only at the steps where a job's counter (summed over its series) rose: a
// steady counter gives a point a step, a flat one none. A reset lowers the sum and gives none.
// A batch of more than setMatchValues names is one such comparison per setMatchValues of
// them, joined with `or on (job, __name__)` (a plain or would match the series of one job
// and drop the later names' as duplicates: it ignores the metric name). It reads every series
// twice; it is the form of the coarse pass, whose steps need not fall on multiples of its step
// (counterRiseQueries).
func counterHistoryQueries(batches [][]string, step time.Duration) ([]string, error) {
	return batchQueries(batches, func(m *labels.Matcher) parser.Expr { return risenQuery(parser.SUM, counterGrouping, m, step) },
		func(e parser.Expr) parser.Expr { return e })
}

// counterGrouping is what the counter queries fold a counter's series by: one per job and
// metric name.
var counterGrouping = []string{"job", model.MetricNameLabel}

// riseMetricLabel is the label counterRiseQueries answer a counter's name in: idelta drops
// the metric name.
const riseMetricLabel = "metric"

// counterRiseQueries build, per batch of names (counterBatches),
//
//	idelta(label_replace(sum by (job, __name__) ({__name__=~"a|b"}), "metric", "$1", "__name__", "(.+)")[2*step:step]) > 0
//
// which has a point only at the steps where a job's counter (summed over its series) rose,
// valued with how much it rose since the step before, and names the counter in the label
// metric. It reads every series once, where the comparison with an offset twin
// (counterHistoryQueries) reads it twice, which was most of what the server spent on the
// history. The subquery's steps fall on multiples of step since the epoch, so the range
// queries it is asked in must too (CollectHistory's end, and every start a whole number of
// steps before it): then its two points at each step are that step and the one before,
// exactly what the offset compared. A batch of more than setMatchValues names is one sum per
// setMatchValues of them, joined with `or on (job, __name__)`.
func counterRiseQueries(batches [][]string, step time.Duration) ([]string, error) {
	return batchQueries(batches, func(m *labels.Matcher) parser.Expr { return aggregateOf(parser.SUM, counterGrouping, m, 0) },
		func(sums parser.Expr) parser.Expr {
			named := labelReplace(sums, riseMetricLabel, "$1", model.MetricNameLabel, "(.+)")
			return &parser.BinaryExpr{Op: parser.GTR,
				LHS: &parser.Call{Func: parser.Functions["idelta"], Args: parser.Expressions{&parser.SubqueryExpr{Expr: named, Range: 2 * step, Step: step}}},
				RHS: &parser.NumberLiteral{Val: 0}}
		})
}

// batchQueries build, per batch of names, one expression per setMatchValues of its names
// (part, of the matcher of those names), joined with `or on (job, __name__)` and handed to
// whole.
func batchQueries(batches [][]string, part func(*labels.Matcher) parser.Expr, whole func(parser.Expr) parser.Expr) ([]string, error) {
	var out []string
	for _, batch := range batches {
		var expr parser.Expr
		for names := range slices.Chunk(batch, setMatchValues) {
			m, err := namesMatcher(names)
			if err != nil {
				return nil, err
			}
			if e := part(m); expr == nil {
				expr = e
			} else {
				expr = or(expr, e, counterGrouping...)
			}
		}
		if expr != nil {
			out = append(out, whole(expr).String())
		}
	}
	return out, nil
}

// labelReplace is `label_replace(e, "dst", "replacement", "src", "regex")`.
func labelReplace(e parser.Expr, dst, replacement, src, regex string) parser.Expr {
	return &parser.Call{Func: parser.Functions["label_replace"], Args: parser.Expressions{e,
		&parser.StringLiteral{Val: dst}, &parser.StringLiteral{Val: replacement},
		&parser.StringLiteral{Val: src}, &parser.StringLiteral{Val: regex}}}
}

// risenQuery is
//
//	op by (grouping) ({m}) > on (grouping) op by (grouping) ({m} offset step)
//
// which has a point only at the steps where the aggregate rose, valued with what it rose to.
func risenQuery(op parser.ItemType, grouping []string, m *labels.Matcher, step time.Duration) parser.Expr {
	return &parser.BinaryExpr{
		Op:             parser.GTR,
		LHS:            aggregateOf(op, grouping, m, 0),
		RHS:            aggregateOf(op, grouping, m, step),
		VectorMatching: &parser.VectorMatching{Card: parser.CardOneToOne, MatchingLabels: grouping, On: true},
	}
}

// aggregateOf is `op by (grouping) ({m} offset offset)`.
func aggregateOf(op parser.ItemType, grouping []string, m *labels.Matcher, offset time.Duration) parser.Expr {
	return &parser.AggregateExpr{Op: op, Grouping: grouping,
		Expr: &parser.VectorSelector{LabelMatchers: []*labels.Matcher{m}, OriginalOffset: offset}}
}

// counterHistoryOf summarises the steps at which counter k rose, from the points of
// counterRiseQueries (sorted by time, each valued with how much it rose since the step
// before). Its rise counts those after the first, which is the rise from FirstIncrease to
// LastIncrease; Series spreads the same rises over buckets, for the counters that may be
// flat (keepsSeries). False for a counter without points.
func counterHistoryOf(k counterKey, rises []model.SamplePair, buckets seriesBuckets) (analyze.CounterHistory, bool) {
	if len(rises) == 0 {
		return analyze.CounterHistory{}, false
	}
	c := analyze.CounterHistory{Job: k.job, Metric: k.metric, Increases: len(rises),
		FirstIncrease: rises[0].Timestamp.Time().UTC(), LastIncrease: rises[len(rises)-1].Timestamp.Time().UTC()}
	for i := 1; i < len(rises); i++ {
		c.LongestGap = max(c.LongestGap, rises[i].Timestamp.Sub(rises[i-1].Timestamp))
		c.Rise += float64(rises[i].Value)
	}
	if buckets.keepsSeries(c) {
		c.Series = buckets.increases(rises)
	}
	return c, true
}

package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

const week = 7 * 24 * time.Hour

// Severities of the generated alerts. Targets that are down page; an absent job is often a
// deliberate change (a job removed or renamed) and a rate drop or an old last success is a
// heuristic on metrics blindspot guessed are business metrics, so they warn.
const (
	severityUp       = "critical"
	severityAbsent   = "warning"
	severityBusiness = "warning"
)

// Instances of the test series; the exporter's and a typical application's port.
const (
	testInstanceUp       = "test:9100"
	testInstanceBusiness = "test:9091"
)

// newAlert builds the alert of one gap: its expression as a syntax tree, its labels and
// annotations, and the worlds its promtool test feeds it.
func newAlert(g gap, name string, o generate.Options) generate.Alert {
	o = tunedOptions(o, g, name)
	job, owned := g.job, g.job
	if g.kind == generate.KindPoolEmpty {
		// g.job is the pool: no job's dashboard applies, and its owner is the team whose
		// generate.owners glob matches the pool's name (the name the user configured).
		job = ""
	}
	a := generate.Alert{
		Name:    name,
		Kind:    g.kind,
		Job:     job,
		Metric:  g.metric,
		Runbook: "runbooks/" + name + ".md",
		Labels:  map[string]string{"generated_by": GeneratedBy},
		Annotations: map[string]string{
			"runbook_url": templateText(runbookURL(o.RunbookBaseURL, "runbooks/"+name+".md")),
		},
	}
	if o.GrafanaURL != "" && job != "" {
		a.Annotations["dashboard_url"] = templateText(strings.TrimSuffix(o.GrafanaURL, "/") + "/d/" + promqlbuild.DashboardUID(g.job))
	}
	b := o.Business
	metric := templateText(g.metric)
	switch {
	case g.kind == generate.KindUp:
		a.Expr = promqlbuild.TargetDown(g.job)
		a.For = o.UpFor
		a.Labels["severity"] = severityUp
		a.Annotations["summary"] = "Target {{ $labels.instance }} of job {{ $labels.job }} is down"
		a.Annotations["description"] = fmt.Sprintf(
			"Prometheus has failed to scrape {{ $labels.instance }} of job {{ $labels.job }} (up == 0) for more than %s.",
			model.Duration(a.For))
		a.Test = upTest(g.job, a.For)

	case g.kind == generate.KindAbsent:
		a.Expr = promqlbuild.JobAbsent(g.job)
		a.For = o.AbsentFor
		a.Labels["severity"] = severityAbsent
		a.Annotations["summary"] = "Job {{ $labels.job }} has no targets"
		a.Annotations["description"] = fmt.Sprintf(
			"Prometheus has had no target of job {{ $labels.job }} (no up series) for more than %s: service discovery finds none, or the job left the scrape configuration.",
			model.Duration(a.For))
		a.Test = absentTest(g.job, a.For)

	case g.kind == generate.KindPoolEmpty:
		a.Pool = g.job
		a.Expr = promqlbuild.PoolEmpty(g.job)
		a.For = o.AbsentFor
		a.Labels["severity"] = severityAbsent
		a.Annotations["summary"] = "Scrape pool {{ $labels.scrape_job }} has no targets"
		a.Annotations["description"] = fmt.Sprintf(
			"Prometheus has had no active target in scrape pool {{ $labels.scrape_job }} for more than %s: service discovery finds none, or relabeling drops them all.",
			model.Duration(a.For))
		a.Test = poolEmptyTest(g.job, a.For)

	case g.kind == generate.KindStaleness:
		// time() - m is the age of the last success: the gauge holds its Unix time.
		a.Expr = promqlbuild.Stale(g.metric, g.job, b.StaleAfter)
		a.For = b.For
		a.Labels["severity"] = severityBusiness
		a.Annotations["summary"] = fmt.Sprintf("Job {{ $labels.job }} has not succeeded for more than %s", model.Duration(b.StaleAfter))
		a.Annotations["description"] = fmt.Sprintf(
			"%s of {{ $labels.instance }} (job {{ $labels.job }}) says the last success was {{ $value | humanizeDuration }} ago, more than %s, for more than %s.",
			metric, model.Duration(b.StaleAfter), model.Duration(a.For))
		a.Test = staleTest(g.metric, g.job, b.StaleAfter, a.For)

	case b.Mode == ModeRelative:
		// The rate is below ratio × the rate a week earlier, and a week earlier there was
		// traffic: a new metric or a quiet week does not page.
		now := rate(g.metric, g.job, b.Window, 0)
		a.Expr = &parser.BinaryExpr{
			Op: parser.LAND,
			LHS: &parser.BinaryExpr{
				Op:             parser.LSS,
				LHS:            now,
				RHS:            &parser.BinaryExpr{Op: parser.MUL, LHS: number(b.Ratio), RHS: rate(g.metric, g.job, b.Window, week)},
				VectorMatching: &parser.VectorMatching{Card: parser.CardOneToOne},
			},
			RHS:            &parser.BinaryExpr{Op: parser.GTR, LHS: rate(g.metric, g.job, b.Window, week), RHS: number(0)},
			VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany},
		}
		a.For = b.For
		a.Labels["severity"] = severityBusiness
		percent := strconv.FormatFloat(b.Ratio*100, 'g', 6, 64) + "%"
		a.Annotations["summary"] = fmt.Sprintf("%s of job {{ $labels.job }} dropped below %s of last week", metric, percent)
		a.Annotations["description"] = fmt.Sprintf(
			"The rate of %s on {{ $labels.instance }} (job {{ $labels.job }}) over %s is {{ $value | humanize }}/s, below %s of its rate at the same time a week earlier, for more than %s.",
			metric, model.Duration(b.Window), percent, model.Duration(a.For))
		a.Test = relativeTest(g.metric, g.job, b.Window, a.For)

	default:
		// Absolute: the rate is at most the threshold; "== 0" says "stopped" plainly and is
		// what alerts/missing-business announces.
		cmp := &parser.BinaryExpr{Op: parser.EQLC, LHS: rate(g.metric, g.job, b.Window, 0), RHS: number(0)}
		if b.Threshold > 0 {
			cmp.Op = parser.LTE
			cmp.RHS = number(b.Threshold)
		}
		a.Expr = cmp
		a.For = b.For
		a.Labels["severity"] = severityBusiness
		if b.Threshold > 0 {
			t := strconv.FormatFloat(b.Threshold, 'g', -1, 64) + "/s"
			a.Annotations["summary"] = fmt.Sprintf("%s of job {{ $labels.job }} fell to %s or less", metric, t)
			a.Annotations["description"] = fmt.Sprintf(
				"The rate of %s on {{ $labels.instance }} (job {{ $labels.job }}) over %s is {{ $value | humanize }}/s, at most %s, for more than %s.",
				metric, model.Duration(b.Window), t, model.Duration(a.For))
		} else {
			a.Annotations["summary"] = fmt.Sprintf("%s of job {{ $labels.job }} stopped increasing", metric)
			a.Annotations["description"] = fmt.Sprintf(
				"%s on {{ $labels.instance }} (job {{ $labels.job }}) has not increased over %s, for more than %s.",
				metric, model.Duration(b.Window), model.Duration(a.For))
		}
		a.Test = absoluteTest(g.metric, g.job, b.Window, b.Threshold, a.For)
	}

	firing := a.Test.FiringLabels
	for k, v := range a.Labels {
		firing[k] = v
	}
	if team := o.OwnerOf(owned); team != "" && owned != "" {
		// Prometheus expands label values as templates too; promtool expects the expansion.
		a.Labels[o.OwnerLabel] = templateText(team)
		firing[o.OwnerLabel] = team
	}
	return a
}

// rate is rate(metric{job="…"}[window] offset offset).
func rate(metric, job string, window, offset time.Duration) *parser.Call {
	vs := promqlbuild.Selector(metric, job)
	vs.OriginalOffset = offset
	return &parser.Call{
		Func: parser.Functions["rate"],
		Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: vs, Range: window}},
	}
}

func number(v float64) *parser.NumberLiteral { return &parser.NumberLiteral{Val: v} }

// templateText makes a literal safe inside an annotation or label, which Prometheus expands
// as a Go template: text that could open an action is written as a quoted string constant
// inside one ({{ "…" }}), which expands to the text itself.
func templateText(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return "{{ " + strconv.Quote(s) + " }}"
}

// runbookURL is the runbook's path under base, or the bare path without a base.
func runbookURL(base, p string) string {
	if base == "" {
		return p
	}
	return strings.TrimSuffix(base, "/") + "/" + p
}

// The promtool test worlds. The unit-test generator evaluates the rules every minute; each
// world runs at least ten steps of its interval past the evaluation, so that no series has
// gone stale by then.

// seriesOf prints an input series in PromQL notation with the library, the same selector the
// alert uses plus the extra labels: metric{instance="…",job="…"}, or
// {__name__="…",instance="…",job="…"} for a UTF-8 metric name.
func seriesOf(metric, job string, extra map[string]string) string {
	vs := promqlbuild.Selector(metric, job)
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, k, extra[k]))
	}
	return vs.String()
}

// samples is how many steps of interval a world needs to reach past eval.
func samples(eval, interval time.Duration) int { return int(eval/interval) + 10 }

// repeat is a value held for n more steps after the first: "5x20".
func repeat(v float64, n int) string { return formatValue(v) + "x" + strconv.Itoa(n) }

// grow is a series starting at start and growing by inc for n more steps: "0+10x20".
func grow(start, inc float64, n int) string {
	return formatValue(start) + "+" + formatValue(inc) + "x" + strconv.Itoa(n)
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// round6 rounds to six significant digits, so that a computed increment reads 0.03 rather
// than 0.030000000000000002.
func round6(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if err != nil {
		return v
	}
	return r
}

func upTest(job string, forDuration time.Duration) generate.TestCase {
	const interval = time.Minute
	eval := roundUp(forDuration+2*time.Minute, interval)
	instance := map[string]string{"instance": testInstanceUp}
	n := samples(eval, interval)
	return generate.TestCase{
		Interval:      interval,
		FailingSeries: []generate.Series{{Series: seriesOf("up", job, instance), Values: repeat(0, n)}},
		HealthySeries: []generate.Series{{Series: seriesOf("up", job, instance), Values: repeat(1, n)}},
		EvalTime:      eval,
		FiringLabels:  map[string]string{"job": job, "instance": testInstanceUp},
	}
}

func absentTest(job string, forDuration time.Duration) generate.TestCase {
	const interval = time.Minute
	eval := roundUp(forDuration+2*time.Minute, interval)
	instance := map[string]string{"instance": testInstanceUp}
	n := samples(eval, interval)
	return generate.TestCase{
		Interval: interval,
		// Another job is scraped: absent() must look at this job only.
		FailingSeries: []generate.Series{{Series: seriesOf("up", job+"-other", instance), Values: repeat(1, n)}},
		HealthySeries: []generate.Series{{Series: seriesOf("up", job, instance), Values: repeat(1, n)}},
		EvalTime:      eval,
		// absent() takes its labels from the selector's equality matchers: job only.
		FiringLabels: map[string]string{"job": job},
	}
}

// Labels of the per-pool gauge in the test worlds: Prometheus scraping itself.
const (
	testInstancePrometheus = "test:9090"
	testJobPrometheus      = "prometheus"
)

func poolEmptyTest(pool string, forDuration time.Duration) generate.TestCase {
	const interval = time.Minute
	eval := roundUp(forDuration+2*time.Minute, interval)
	n := samples(eval, interval)
	series := func(pool string) string {
		vs := promqlbuild.PoolSelector(pool)
		vs.LabelMatchers = append(vs.LabelMatchers,
			labels.MustNewMatcher(labels.MatchEqual, "instance", testInstancePrometheus),
			labels.MustNewMatcher(labels.MatchEqual, "job", testJobPrometheus))
		return vs.String()
	}
	other := generate.Series{Series: series(pool + "-other"), Values: repeat(3, n)}
	return generate.TestCase{
		Interval: interval,
		// Another pool with targets sits next to the empty one: only this pool counts.
		FailingSeries: []generate.Series{{Series: series(pool), Values: repeat(0, n)}, other},
		// Prometheus 2.x has no gauge for a pool whose discovery never sent a target group.
		ExtraFailing:  [][]generate.Series{{other}},
		HealthySeries: []generate.Series{{Series: series(pool), Values: repeat(2, n)}},
		EvalTime:      eval,
		FiringLabels:  map[string]string{"scrape_job": pool},
	}
}

func staleTest(metric, job string, staleAfter, forDuration time.Duration) generate.TestCase {
	// Long ages are fed with sparser samples, but never sparser than the 5m lookback: a
	// gauge sampled less often goes stale between samples and the alert would never stay
	// active for its `for`.
	interval := time.Minute
	if staleAfter+forDuration > 2000*interval {
		interval = 5 * time.Minute
	}
	eval := roundUp(staleAfter+forDuration+2*interval, interval)
	instance := map[string]string{"instance": testInstanceBusiness}
	n := samples(eval, interval)
	return generate.TestCase{
		Interval: interval,
		// The last success was at 0s and never again.
		FailingSeries: []generate.Series{{Series: seriesOf(metric, job, instance), Values: repeat(0, n)}},
		// Every sample is a success: the value is its own time in seconds.
		HealthySeries: []generate.Series{{Series: seriesOf(metric, job, instance), Values: grow(0, interval.Seconds(), n)}},
		EvalTime:      eval,
		FiringLabels:  map[string]string{"job": job, "instance": testInstanceBusiness},
	}
}

// rateInterval is the sample interval of a rate world: at most max, and at least three
// samples in the window so that every rate sees two. The candidates divide a week, which the
// relative world spans.
func rateInterval(window, max time.Duration) time.Duration {
	for _, d := range []time.Duration{10 * time.Minute, 5 * time.Minute, 2 * time.Minute, time.Minute, 30 * time.Second, 20 * time.Second} {
		if d <= max && 3*d <= window {
			return d
		}
	}
	return 20 * time.Second // windows are at least 1m
}

func absoluteTest(metric, job string, window time.Duration, threshold float64, forDuration time.Duration) generate.TestCase {
	interval := rateInterval(window, time.Minute)
	eval := roundUp(window+forDuration+2*interval, interval)
	instance := map[string]string{"instance": testInstanceBusiness}
	n := samples(eval, interval)
	step := interval.Seconds()
	failing := repeat(5, n) // flat: stopped
	healthy := grow(0, 10, n)
	if threshold > 0 {
		// Growing, at half the threshold; healthy grows at least twice as fast as it.
		failing = grow(5, round6(threshold*step/2), n)
		if 10/step <= 2*threshold {
			healthy = grow(0, 2*threshold*step, n)
		}
	}
	return generate.TestCase{
		Interval:      interval,
		FailingSeries: []generate.Series{{Series: seriesOf(metric, job, instance), Values: failing}},
		HealthySeries: []generate.Series{{Series: seriesOf(metric, job, instance), Values: healthy}},
		EvalTime:      eval,
		FiringLabels:  map[string]string{"job": job, "instance": testInstanceBusiness},
	}
}

// relativeTest needs a week of history: the failing world grows steadily for a week and then
// stops, so that the rate drops to nothing against a week earlier; the healthy world grows
// steadily throughout; the guard's world had no traffic a week ago and has none now.
func relativeTest(metric, job string, window, forDuration time.Duration) generate.TestCase {
	interval := rateInterval(window, 10*time.Minute)
	eval := roundUp(week+window+forDuration+2*interval, interval)
	instance := map[string]string{"instance": testInstanceBusiness}
	weekSteps := int(week / interval)
	n := samples(eval, interval)
	const inc = 100
	s := seriesOf(metric, job, instance)
	return generate.TestCase{
		Interval:      interval,
		FailingSeries: []generate.Series{{Series: s, Values: grow(0, inc, weekSteps) + " " + repeat(inc*float64(weekSteps), n-weekSteps-1)}},
		HealthySeries: []generate.Series{{Series: s, Values: grow(0, inc, n)}},
		ExtraHealthy:  [][]generate.Series{{{Series: s, Values: repeat(5, n)}}},
		EvalTime:      eval,
		FiringLabels:  map[string]string{"job": job, "instance": testInstanceBusiness},
	}
}

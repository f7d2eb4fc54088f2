package coverage

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Kinds of business metric (BusinessMetric.Kind).
const (
	// KindCounter is a counter that should not stop increasing.
	KindCounter = "counter"
	// KindStaleness is a gauge holding the time of a batch job's last success, which should
	// not grow old.
	KindStaleness = "staleness"
)

// businessIndex finds the business metrics of each job and the alerts that watch them. The
// candidates are what the collector found per job (inventory part job_metrics: counters and
// last-success gauges outside the embedded exclusions, among other names it asked about); the
// user's options narrow or widen that choice here, so that one snapshot can be replayed under
// any configuration.
//
// A counter is covered by an alert that fires when it stops increasing: the alerts that read
// it on the way to the job (watchIndex) are evaluated in two worlds, the counter flat and
// increasing, the way up alerts are (evalContext.covers). An alert on the rate going above a
// threshold reads the counter but does not cover it. A last-success gauge is evaluated the same
// way, stale (a time long past) and fresh (now): an alert on its age covers it.
type businessIndex struct {
	byJob      map[string][]businessMetric
	sortedJobs []string
}

type businessMetric struct {
	metric, kind string
	coveredBy    []*analyze.Rule
	// readBy are the alerts that read the metric but do not fire when it stops moving.
	readBy []*analyze.Rule
}

func newBusinessIndex(inv *analyze.Inventory, rules *ruleIndex, o BusinessOptions) *businessIndex {
	idx := &businessIndex{byJob: map[string][]businessMetric{}}
	if !inv.Has(analyze.PartJobMetrics) {
		return idx
	}
	defaults, err := rulesets.DefaultBusiness()
	if err != nil {
		// The embedded list is tested at build time; were it unreadable, reporting every
		// go_ and process_ counter of every job would bury the real findings.
		return idx
	}
	sel := newBusinessSelector(defaults, o, inv)
	watch := newWatchIndex(rules)
	ctx := newEvalContext(inv, rules)
	for job, metrics := range inv.JobMetrics {
		if !sel.acceptsJob(job) {
			continue
		}
		var ms []businessMetric
		for _, m := range metrics {
			kind := sel.kindOf(m)
			if kind == "" {
				continue
			}
			bm := businessMetric{metric: m, kind: kind}
			for _, a := range watch.alertsFor(m, job) {
				if ctx.coversSubject(a.Parsed, m, job, kind == KindStaleness) {
					bm.coveredBy = append(bm.coveredBy, a)
				} else {
					bm.readBy = append(bm.readBy, a)
				}
			}
			ms = append(ms, bm)
		}
		if len(ms) > 0 {
			slices.SortFunc(ms, func(a, b businessMetric) int { return strings.Compare(a.metric, b.metric) })
			idx.byJob[job] = ms
			idx.sortedJobs = append(idx.sortedJobs, job)
		}
	}
	slices.Sort(idx.sortedJobs)
	return idx
}

// metricsFor returns the business metrics of job, sorted by name.
func (idx *businessIndex) metricsFor(job string) []businessMetric { return idx.byJob[job] }

// jobs returns the jobs with at least one business metric, sorted.
func (idx *businessIndex) jobs() []string { return idx.sortedJobs }

// Business returns the business metrics of a job with the alerts that watch them, sorted by
// metric.
func (a *Analysis) Business(job string) []BusinessMetric {
	var out []BusinessMetric
	for _, m := range a.biz.metricsFor(job) {
		out = append(out, a.businessMetric(m))
	}
	return out
}

// BusinessMetricOf returns the business metric of job named metric, with the alerts that
// watch it; false when metric is not one of job's business metrics. Unlike Business, it
// costs a lookup, not a copy of every business metric of the job.
func (a *Analysis) BusinessMetricOf(job, metric string) (BusinessMetric, bool) {
	ms := a.biz.metricsFor(job)
	i, ok := slices.BinarySearchFunc(ms, metric, func(m businessMetric, name string) int { return strings.Compare(m.metric, name) })
	if !ok {
		return BusinessMetric{}, false
	}
	return a.businessMetric(ms[i]), true
}

// businessMetric is m with the references of the alerts that watch it.
func (a *Analysis) businessMetric(m businessMetric) BusinessMetric {
	bm := BusinessMetric{Metric: m.metric, Kind: m.kind}
	for _, r := range m.coveredBy {
		bm.CoveredBy = append(bm.CoveredBy, refOf(r, a.opts.RunbookAnnotation))
	}
	for _, r := range m.readBy {
		bm.ReadBy = append(bm.ReadBy, refOf(r, a.opts.RunbookAnnotation))
	}
	return bm
}

// BusinessJobs returns the jobs that expose at least one business metric, sorted; it includes
// job labels that are no scrape job (batch jobs pushed through a Pushgateway).
func (a *Analysis) BusinessJobs() []string { return slices.Clone(a.biz.jobs()) }

// businessSelector applies the embedded defaults and the user's options to metric and job
// names.
type businessSelector struct {
	defaultExclude, include, exclude, staleness rulesets.Globs
	jobs, excludeJobs                           rulesets.Globs
	// kinds memoises kindOf: a thousand jobs expose the same few hundred names.
	kinds map[string]string
	inv   *analyze.Inventory
}

func newBusinessSelector(defaults rulesets.Business, o BusinessOptions, inv *analyze.Inventory) *businessSelector {
	return &businessSelector{
		defaultExclude: rulesets.NewGlobs(defaults.Exclude),
		include:        rulesets.NewGlobs(o.Include),
		exclude:        rulesets.NewGlobs(o.Exclude),
		staleness:      rulesets.NewGlobs(defaults.Staleness, o.Staleness),
		jobs:           rulesets.NewGlobs(o.Jobs),
		excludeJobs:    rulesets.NewGlobs(o.ExcludeJobs),
		kinds:          map[string]string{},
		inv:            inv,
	}
}

// acceptsJob: the business check covers the jobs Jobs names (every job when empty), less
// those ExcludeJobs names.
func (s *businessSelector) acceptsJob(job string) bool {
	return (s.jobs.Empty() || s.jobs.Match(job)) && !s.excludeJobs.Match(job)
}

// kindOf returns the kind of a candidate metric, or "" when it is not a business metric:
// the user's Exclude wins over everything, their Include over the default exclusions. A name
// that is neither a last-success gauge nor a counter was asked about for another reason (a
// ruleset signature, a metric alerts join with).
func (s *businessSelector) kindOf(metric string) string {
	if kind, ok := s.kinds[metric]; ok {
		return kind
	}
	var kind string
	switch {
	case s.exclude.Match(metric):
	case s.defaultExclude.Match(metric) && !s.include.Match(metric):
	case s.staleness.Match(metric):
		kind = KindStaleness
	case analyze.IsCounter(metric, s.inv.MetadataTypes):
		kind = KindCounter
	}
	s.kinds[metric] = kind
	return kind
}

// watchIndex decides which alerting rules watch a metric of a given job: an alert that reads
// x{job="a"} watches job a's x, not job b's. ruleIndex.alertsByMetric knows which alerts read
// a metric at all; this index adds the job matchers on the way from the alert to the metric.
type watchIndex struct {
	rules *ruleIndex
	// alerts and recorded memoise the selector paths of an alert and of a recorded metric.
	alerts   map[*analyze.Rule]selectorPaths
	recorded map[string]selectorPaths
	// expanding marks the recorded metrics being expanded, to stop at recording cycles.
	expanding map[string]bool
}

// selectorPaths maps a metric name to the ways an expression reaches it. Each way is the list
// of job matchers found on it: the selector's own, plus those of every selector of a recorded
// metric that leads to it. No job matchers at all means the way reaches every job.
type selectorPaths map[string][]jobMatchers

type jobMatchers []*labels.Matcher

func newWatchIndex(rules *ruleIndex) *watchIndex {
	return &watchIndex{
		rules:     rules,
		alerts:    map[*analyze.Rule]selectorPaths{},
		recorded:  map[string]selectorPaths{},
		expanding: map[string]bool{},
	}
}

// alertsFor returns the alerting rules that read metric through a way whose job matchers
// accept job.
func (w *watchIndex) alertsFor(metric, job string) []*analyze.Rule {
	var out []*analyze.Rule
	for _, a := range w.rules.alertsByMetric[metric] {
		paths, ok := w.alerts[a]
		if !ok {
			paths = w.paths(a.Parsed)
			w.alerts[a] = paths
		}
		if slices.ContainsFunc(paths[metric], func(ms jobMatchers) bool { return ms.accept(job) }) {
			out = append(out, a)
		}
	}
	return out
}

func (ms jobMatchers) accept(job string) bool {
	for _, m := range ms {
		if !m.Matches(job) {
			return false
		}
	}
	return true
}

// paths returns the selector paths of expr, following recording rules.
func (w *watchIndex) paths(expr parser.Expr) selectorPaths {
	out := selectorPaths{}
	for vs, name := range namedSelectors(expr) {
		var own jobMatchers
		for _, m := range vs.LabelMatchers {
			if m.Name == "job" {
				own = append(own, m)
			}
		}
		out.add(name, own)
		for metric, ways := range w.recordedPaths(name) {
			for _, way := range ways {
				out.add(metric, append(slices.Clip(own), way...))
			}
		}
	}
	return out
}

// recordedPaths returns the selector paths of the recording rules that produce name.
func (w *watchIndex) recordedPaths(name string) selectorPaths {
	if p, ok := w.recorded[name]; ok {
		return p
	}
	recs := w.rules.recordings[name]
	if len(recs) == 0 || w.expanding[name] {
		return nil
	}
	w.expanding[name] = true
	out := selectorPaths{}
	for _, rec := range recs {
		for metric, ways := range w.paths(rec.Parsed) {
			for _, way := range ways {
				out.add(metric, way)
			}
		}
	}
	delete(w.expanding, name)
	w.recorded[name] = out
	return out
}

// add records a way to metric unless an equal one is known: most ways carry no job matcher,
// and an expression that reads a metric ten times reaches it one way.
func (p selectorPaths) add(metric string, way jobMatchers) {
	key := way.key()
	if slices.ContainsFunc(p[metric], func(known jobMatchers) bool { return known.key() == key }) {
		return
	}
	p[metric] = append(p[metric], way)
}

func (ms jobMatchers) key() string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.String())
		b.WriteByte(0)
	}
	return b.String()
}

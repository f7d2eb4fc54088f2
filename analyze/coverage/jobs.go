package coverage

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/blindspot-dev/blindspot/analyze"
)

// JobsOf returns the jobs whose series an alerting rule reads, sorted: the jobs the rule
// covers in the matrix (up, absence and business alerts), and the known jobs the job matchers
// of its selectors accept, directly or through recording rules. A selector without job
// matchers is not taken to read every job: `rate(errors_total[5m]) > 0` says nothing about
// whose errors without the series. A rule that fails to evaluate covers nothing, but its
// selectors still name the jobs it would page about.
func (a *Analysis) JobsOf(r *analyze.Rule) []string {
	a.jobsOnce.Do(func() { a.ruleJobs = a.indexRuleJobs() })
	return a.ruleJobs[r]
}

func (a *Analysis) indexRuleJobs() map[*analyze.Rule][]string {
	out := map[*analyze.Rule][]string{}
	add := func(r *analyze.Rule, job string) {
		if !slices.Contains(out[r], job) {
			out[r] = append(out[r], job)
		}
	}
	for _, job := range knownJobs(a.inv) {
		for _, r := range a.up.alertsFor(job) {
			add(r, job)
		}
		for _, r := range a.abs.alertsFor(job) {
			add(r, job)
		}
		for _, m := range a.biz.metricsFor(job) {
			for _, r := range m.coveredBy {
				add(r, job)
			}
		}
	}
	known := knownJobs(a.inv)
	w := newWatchIndex(a.rules)
	for _, r := range slices.Concat(a.rules.alerts, a.rules.failing) {
		for _, ways := range w.paths(r.Parsed) {
			for _, way := range ways {
				if len(way) == 0 {
					continue
				}
				// job="x" puts job x on the alert's series, known job or not (rules read
				// from files come without targets).
				for _, m := range way {
					if m.Type == labels.MatchEqual && way.accept(m.Value) {
						add(r, m.Value)
					}
				}
				for _, job := range known {
					if way.accept(job) {
						add(r, job)
					}
				}
			}
		}
	}
	for _, jobs := range out {
		slices.Sort(jobs)
	}
	return out
}

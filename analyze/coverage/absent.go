package coverage

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// absentIndex maps each job to the alerting rules that fire when it vanishes: service
// discovery returns nothing, so no up series is left to compare.
//
// An alert covers job J when it calls absent() or absent_over_time() on a selector that
// selects up or a metric J exposes, and whose job matchers accept J and no other known job:
// absent(up{job=~"a|b"}) only fires once both jobs are gone.
type absentIndex struct {
	byJob map[string][]*analyze.Rule
}

func newAbsentIndex(inv *analyze.Inventory, rules *ruleIndex) *absentIndex {
	idx := &absentIndex{byJob: map[string][]*analyze.Rule{}}
	known := knownJobs(inv)
	queried := queriedMetrics(inv)
	for _, a := range rules.alerts {
		covered := map[string]bool{}
		parser.Inspect(a.Parsed, func(node parser.Node, _ []parser.Node) error {
			call, ok := node.(*parser.Call)
			if !ok || len(call.Args) == 0 || (call.Func.Name != "absent" && call.Func.Name != "absent_over_time") {
				return nil
			}
			for vs, name := range namedSelectors(call.Args[0]) {
				job, ok := soleJob(vs.LabelMatchers, known)
				if ok && (name == "up" || exposes(inv, queried, job, name)) {
					covered[job] = true
				}
			}
			return nil
		})
		for job := range covered {
			idx.byJob[job] = append(idx.byJob[job], a)
		}
	}
	for _, rs := range idx.byJob {
		sortRules(rs)
	}
	return idx
}

func (idx *absentIndex) alertsFor(job string) []*analyze.Rule { return idx.byJob[job] }

// knownJobs are the job names the inventory knows: scrape jobs and the jobs of business
// metrics, sorted.
func knownJobs(inv *analyze.Inventory) []string {
	out := make([]string, 0, len(inv.Jobs)+len(inv.JobMetrics))
	for _, j := range inv.Jobs {
		out = append(out, j.Name)
	}
	for j := range inv.JobMetrics {
		out = append(out, j)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// soleJob is the one known job a selector's job matchers accept. Without job matchers that is
// the only known job, if there is only one.
func soleJob(ms []*labels.Matcher, known []string) (string, bool) {
	var jobMatchers []*labels.Matcher
	for _, m := range ms {
		if m.Name == "job" {
			jobMatchers = append(jobMatchers, m)
		}
	}
	accepts := func(job string) bool { return matchesAll(jobMatchers, func(string) string { return job }) }
	for _, m := range jobMatchers {
		if m.Type == labels.MatchEqual {
			return m.Value, accepts(m.Value)
		}
	}
	sole, n := "", 0
	for _, j := range known {
		if accepts(j) {
			sole, n = j, n+1
			if n > 1 {
				return "", false
			}
		}
	}
	return sole, n == 1
}

// exposes says whether job is known to expose metric. A metric the server does not have at
// all is exposed by no job. JobMetrics holds only the names that were asked about (business
// candidates, ruleset detection names): for any other metric, and for a job whose metrics were
// not read at all, the job is given the benefit of the doubt.
func exposes(inv *analyze.Inventory, queried map[string]bool, job, metric string) bool {
	if inv.Has(analyze.PartMetricNames) {
		if _, ok := slices.BinarySearch(inv.MetricNames, metric); !ok {
			return false // no target exposes it at all
		}
	}
	ms, ok := inv.JobMetrics[job]
	if !ok || !queried[metric] {
		return true
	}
	_, found := slices.BinarySearch(ms, metric)
	return found
}

// queriedMetrics are the metric names some job was found to expose: the names JobMetrics
// can answer for.
func queriedMetrics(inv *analyze.Inventory) map[string]bool {
	out := map[string]bool{}
	for _, ms := range inv.JobMetrics {
		for _, m := range ms {
			out[m] = true
		}
	}
	return out
}

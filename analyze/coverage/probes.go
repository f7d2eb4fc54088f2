package coverage

import (
	"net/url"
	"slices"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// ProbeSuccess is to probe jobs (a blackbox exporter's) what up is to scraped jobs: one series
// per target, 0 when what it probes fails.
const ProbeSuccess = "probe_success"

// probeIndex maps each probe job to the alerting rules that fire when all its probes fail,
// decided as upIndex decides for up: each alert reading probe_success (directly or through
// recording rules) is evaluated with the job's probe_success series at 0 and at 1, every other
// probe job's at 1.
type probeIndex struct {
	jobs  []string // the probe jobs, sorted
	byJob map[string][]*analyze.Rule
}

// probeJobs are the jobs whose series carry probe_success (job_metrics: it is a signature of
// the blackbox exporter pack) and those with a target scraped at a /probe path (a
// blackbox-style scrape config), sorted.
func probeJobs(inv *analyze.Inventory) []string {
	var out []string
	if inv.Has(analyze.PartJobMetrics) {
		for job, ms := range inv.JobMetrics {
			if slices.Contains(ms, ProbeSuccess) {
				out = append(out, job)
			}
		}
	}
	for _, t := range inv.Targets {
		if t.Job == "" {
			continue
		}
		if u, err := url.Parse(t.ScrapeURL); err == nil && u.Path == "/probe" {
			out = append(out, t.Job)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func newProbeIndex(inv *analyze.Inventory, rules *ruleIndex) *probeIndex {
	idx := &probeIndex{jobs: probeJobs(inv), byJob: map[string][]*analyze.Rule{}}
	alerts := rules.alertsByMetric[ProbeSuccess]
	if len(idx.jobs) == 0 || len(alerts) == 0 {
		return idx
	}
	u := newEvalContext(inv, rules)
	u.probeJobs = idx.jobs
	for _, a := range alerts {
		for _, job := range idx.jobs {
			if u.covers(a.Parsed, ProbeSuccess, job) {
				idx.byJob[job] = append(idx.byJob[job], a)
			}
		}
	}
	for _, rs := range idx.byJob {
		sortRules(rs)
	}
	return idx
}

// probeSelectorOf is what a probe_success selector selects: the targets of the probe jobs its
// matchers accept, judged as upSelectorOf judges up's.
func (u *evalContext) probeSelectorOf(vs *parser.VectorSelector) *upSelector {
	if s, ok := u.probeSelectors[vs]; ok {
		return s
	}
	if u.probeSelectors == nil {
		u.probeSelectors = map[*parser.VectorSelector]*upSelector{}
	}
	s := u.selectTargets(vs, u.probeJobs)
	u.probeSelectors[vs] = s
	return s
}

// probes builds the probe index on first use: only the checks about probes need it.
func (a *Analysis) probes() *probeIndex {
	a.probeOnce.Do(func() { a.probeIdx = newProbeIndex(a.inv, a.rules) })
	return a.probeIdx
}

// ProbeJobs returns the probe jobs: the jobs whose series carry probe_success, and those with
// a target scraped at a /probe path, sorted.
func (a *Analysis) ProbeJobs() []string { return slices.Clone(a.probes().jobs) }

// ProbeAlerts returns the alerting rules that fire when every probe of a probe job fails
// (probe_success 0), sorted by file, group and name.
func (a *Analysis) ProbeAlerts(job string) []RuleRef {
	var out []RuleRef
	for _, r := range a.probes().byJob[job] {
		out = append(out, refOf(r, a.opts.RunbookAnnotation))
	}
	return out
}

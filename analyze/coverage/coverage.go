// Package coverage decides, for every job, which alerting rules would page when it breaks:
// when its targets are down (up alerts), when it vanishes (absence alerts), and when its
// business counters stop (business alerts). Decisions are made on the PromQL syntax trees the
// inventory holds, through indexes by metric name and then by job (see docs/coverage.md).
package coverage

import (
	"slices"
	"sync"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/weblink"
)

// Options tune the analysis.
type Options struct {
	// RunbookAnnotation names the annotation holding an alert's runbook link.
	RunbookAnnotation string
	Business          BusinessOptions
}

// BusinessOptions select the metrics that count as business output. The embedded list in
// rulesets/business_exclude.yaml excludes exporter and runtime internals.
type BusinessOptions struct {
	// Include and Exclude are globs on metric names; Include adds metrics the defaults would
	// not consider, Exclude removes more.
	Include []string
	Exclude []string
	// Jobs and ExcludeJobs are globs on job names that scope the business check.
	Jobs        []string
	ExcludeJobs []string
	// Staleness are globs naming gauges that hold the time of a batch's last success.
	Staleness []string
}

// DefaultRunbookAnnotation is the annotation read when none is configured.
const DefaultRunbookAnnotation = "runbook_url"

// RuleRef names an alerting rule.
type RuleRef struct {
	Name  string
	Group string
	File  string
	// Runbook is the runbook annotation's value when it is a safe link (weblink.Safe), ""
	// when it is missing or is not one: a javascript: runbook is no runbook, and is never
	// copied into a dashboard or a report.
	Runbook string
}

func refOf(r *analyze.Rule, runbookAnnotation string) RuleRef {
	runbook, _ := weblink.Safe(r.Annotations[runbookAnnotation])
	return RuleRef{Name: r.Name, Group: r.Group, File: r.File, Runbook: runbook}
}

// BusinessMetric is a metric of a job that looks like business output.
type BusinessMetric struct {
	Metric string
	// Kind is "counter" (should not stop increasing) or "staleness" (a last-success gauge
	// that should not grow old).
	Kind      string
	CoveredBy []RuleRef
	// ReadBy are the alerts that read the metric but do not fire when it stops: a counter's
	// rate going above a threshold, for example.
	ReadBy []RuleRef
}

// JobCoverage is one row of the coverage matrix.
type JobCoverage struct {
	Job string
	// Targets counts active targets, Up those whose last scrape succeeded.
	Targets, Up  int
	UpAlerts     []RuleRef
	AbsentAlerts []RuleRef
	Business     []BusinessMetric
}

// Alerts returns every distinct alert covering the job, for the runbook column.
func (j JobCoverage) Alerts() []RuleRef {
	var out []RuleRef
	add := func(r RuleRef) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, r := range j.UpAlerts {
		add(r)
	}
	for _, r := range j.AbsentAlerts {
		add(r)
	}
	for _, b := range j.Business {
		for _, r := range b.CoveredBy {
			add(r)
		}
	}
	return out
}

// Analysis holds the indexes built from one inventory.
type Analysis struct {
	inv  *analyze.Inventory
	opts Options
	up   *upIndex
	abs  *absentIndex
	biz  *businessIndex

	rules    *ruleIndex
	jobsOnce sync.Once
	ruleJobs map[*analyze.Rule][]string

	probeOnce sync.Once
	probeIdx  *probeIndex
}

// Analyze builds the indexes once; lookups per job are then cheap.
func Analyze(inv *analyze.Inventory, o Options) *Analysis {
	if o.RunbookAnnotation == "" {
		o.RunbookAnnotation = DefaultRunbookAnnotation
	}
	rules := newRuleIndex(inv)
	return &Analysis{
		inv:  inv,
		opts: o,
		up:   newUpIndex(inv, rules),
		abs:  newAbsentIndex(inv, rules),
		biz:  newBusinessIndex(inv, rules, o.Business),

		rules: rules,
	}
}

// Job returns the coverage of one job.
func (a *Analysis) Job(job string) JobCoverage {
	jc := JobCoverage{Job: job}
	for _, t := range a.inv.TargetsOf(job) {
		jc.Targets++
		if t.Health == analyze.HealthUp {
			jc.Up++
		}
	}
	for _, r := range a.up.alertsFor(job) {
		jc.UpAlerts = append(jc.UpAlerts, refOf(r, a.opts.RunbookAnnotation))
	}
	for _, r := range a.abs.alertsFor(job) {
		jc.AbsentAlerts = append(jc.AbsentAlerts, refOf(r, a.opts.RunbookAnnotation))
	}
	jc.Business = a.Business(job)
	return jc
}

// Matrix returns the coverage of every scrape job, sorted by job, followed by jobs that only
// appear as the job label of business metrics (pushed through a Pushgateway, for example).
func (a *Analysis) Matrix() []JobCoverage {
	var out []JobCoverage
	seen := map[string]bool{}
	for _, j := range a.inv.Jobs {
		seen[j.Name] = true
		out = append(out, a.Job(j.Name))
	}
	for _, job := range a.biz.jobs() {
		if !seen[job] {
			out = append(out, a.Job(job))
		}
	}
	return out
}

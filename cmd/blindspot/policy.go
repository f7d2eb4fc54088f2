package main

import (
	"fmt"
	"path"
	"slices"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// checkOptions converts the checks and business_metrics sections.
func (c Config) checkOptions() (checks.Options, error) {
	for _, field := range []struct {
		key   string
		globs []string
	}{
		{"business_metrics.include", c.BusinessMetrics.Include},
		{"business_metrics.exclude", c.BusinessMetrics.Exclude},
		{"business_metrics.jobs", c.BusinessMetrics.Jobs},
		{"business_metrics.exclude_jobs", c.BusinessMetrics.ExcludeJobs},
		{"business_metrics.staleness", c.BusinessMetrics.Staleness},
	} {
		for _, g := range field.globs {
			if _, err := path.Match(g, ""); err != nil {
				return checks.Options{}, fmt.Errorf("%s: invalid glob %q", field.key, g)
			}
		}
	}
	pairs, err := c.logPairs()
	if err != nil {
		return checks.Options{}, err
	}
	return checks.Options{
		LogPairs:          pairs,
		RunbookAnnotation: c.Checks.RunbookAnnotation,
		SeverityLabel:     c.Checks.SeverityLabel,
		Routing: routing.Options{
			CriticalValues: c.Routing.CriticalValues,
			PagingKinds:    c.Routing.PagingKinds,
			OwnerLabels:    c.Routing.OwnerLabels,
			SilenceHorizon: c.Routing.SilenceHorizon,
		},
		Business: coverage.BusinessOptions{
			Include:     c.BusinessMetrics.Include,
			Exclude:     c.BusinessMetrics.Exclude,
			Jobs:        c.BusinessMetrics.Jobs,
			ExcludeJobs: c.BusinessMetrics.ExcludeJobs,
			Staleness:   c.BusinessMetrics.Staleness,
		},
	}, nil
}

// policy converts checks.disabled, checks.severity and ignore, rejecting check IDs that do not
// exist so that a typo cannot silently keep a check on or an exception off.
func (c Config) policy(known []string) (checks.Policy, error) {
	var p checks.Policy
	knownCheck := func(key, id string) error {
		if !slices.Contains(known, id) {
			return fmt.Errorf("%s: unknown check %q", key, id)
		}
		return nil
	}
	for _, id := range c.Checks.Disabled {
		if err := knownCheck("checks.disabled", id); err != nil {
			return p, err
		}
		p.Disabled = append(p.Disabled, id)
	}
	for _, id := range sortedKeys(c.Checks.Severity) {
		key := "checks.severity." + id
		if err := knownCheck(key, id); err != nil {
			return p, err
		}
		sev, err := analyze.ParseSeverity(c.Checks.Severity[id])
		if err != nil {
			return p, fmt.Errorf("%s: %w", key, err)
		}
		if p.Severity == nil {
			p.Severity = map[string]analyze.Severity{}
		}
		p.Severity[id] = sev
	}
	for i, ig := range c.Ignore {
		key := fmt.Sprintf("ignore[%d]", i)
		if ig.Check == "" {
			return p, fmt.Errorf("%s.check is required", key)
		}
		if err := knownCheck(key+".check", ig.Check); err != nil {
			return p, err
		}
		if ig.Reason == "" {
			return p, fmt.Errorf("%s.reason is required: say why the finding is accepted", key)
		}
		for _, k := range sortedKeys(ig.Subject) {
			if _, err := path.Match(ig.Subject[k], ""); err != nil {
				return p, fmt.Errorf("%s.subject.%s: invalid glob %q", key, k, ig.Subject[k])
			}
		}
		entry := checks.Ignore{Check: ig.Check, Subject: ig.Subject, Reason: ig.Reason}
		if !ig.Expires.IsZero() {
			// The exception holds through the whole day it names.
			entry.Expires = ig.Expires.AddDate(0, 0, 1)
		}
		p.Ignore = append(p.Ignore, entry)
	}
	return p, nil
}

// checkConfig converts the checks' configuration to their options and policy; audit and
// generate judge alike.
func (c Config) checkConfig() (checks.Options, checks.Policy, error) {
	copts, err := c.checkOptions()
	if err != nil {
		return checks.Options{}, checks.Policy{}, err
	}
	policy, err := c.policy(checks.Names(checks.All(copts)))
	if err != nil {
		return checks.Options{}, checks.Policy{}, err
	}
	return copts, policy, nil
}

// logPairs converts logs.match; empty means the defaults.
func (c Config) logPairs() ([]logmatch.Pair, error) {
	var pairs []logmatch.Pair
	for i, m := range c.Logs.Match {
		if len(m.Targets) == 0 || len(m.Targets) != len(m.Streams) {
			return nil, fmt.Errorf("logs.match[%d]: targets and streams must name the same number of labels (at least one)", i)
		}
		pairs = append(pairs, logmatch.Pair{Target: m.Targets, Stream: m.Streams})
	}
	return pairs, nil
}

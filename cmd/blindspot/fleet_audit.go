package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// auditFleet audits the fleet the configuration names, one member at a time as the sources
// are read, and merges the members' reports. It reports false when the configuration names
// one plain server, which the single-server audit handles.
func (a *app) auditFleet(ctx context.Context, src sourceFlags, now time.Time) (report.Report, bool, error) {
	fo, err := a.cfg.fleetOptions()
	if err != nil {
		return report.Report{}, true, usageError(err)
	}
	if fo == nil {
		return report.Report{}, false, nil
	}
	if err := fleetExclusive(src, a.cfg); err != nil {
		return report.Report{}, true, usageError(err)
	}
	all, policy, err := a.cfg.checkSuite(nil)
	if err != nil {
		return report.Report{}, true, usageError(err)
	}
	fo.Logger = a.logger
	type part struct {
		member string
		rep    report.Report
	}
	var parts []part
	err = collect.RunFleet(ctx, *fo, func(m collect.Member) {
		p := policy
		p.Scope = m.Scope
		res := checks.Run(m.Inventory, all, p)
		res.Findings = slices.DeleteFunc(res.Findings, func(f analyze.Finding) bool { return !m.Owns(f) })
		res.Suppressed = slices.DeleteFunc(res.Suppressed, func(s checks.Suppressed) bool { return !m.Owns(s.Finding) })
		matrix := checks.Matrix(m.Inventory, all)
		pages, _ := checks.Pages(m.Inventory, all, matrix)
		parts = append(parts, part{report.MemberName(m.Scope), report.BuildMember(report.Input{
			Inventory: m.Inventory,
			Result:    res,
			Checks:    all,
			Matrix:    matrix,
			Pages:     pages,
			Now:       now,
		}, m.Scope)})
	})
	if err != nil {
		return report.Report{}, true, usageError(err)
	}
	// Members are judged in the order their servers answered: sorted, the report is the same
	// in every run.
	slices.SortFunc(parts, func(a, b part) int { return strings.Compare(a.member, b.member) })
	reps := make([]report.Report, len(parts))
	for i, p := range parts {
		reps[i] = p.rep
	}
	return report.Merge(reps), true, nil
}

// fleetExclusive rejects the sources a fleet audit does not combine with yet.
func fleetExclusive(src sourceFlags, cfg Config) error {
	switch {
	case src.from != "":
		return errors.New("--from and several Prometheus servers are mutually exclusive: audit either the snapshot or the fleet")
	case len(src.rules) > 0 || src.prometheusConfig != "" || len(src.dashboards) > 0:
		return errors.New("--rules, --prometheus-config and --dashboards cannot be combined with several Prometheus servers yet")
	case cfg.Loki.URL != "":
		return errors.New("a Loki URL cannot be combined with several Prometheus servers yet")
	}
	return nil
}

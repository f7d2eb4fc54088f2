package main

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// fleetSources describes the fleet the sources name: the one the configuration lists, the
// one a server named by URL alone was recognised as (a Thanos Query) or, with --from, the
// one a snapshot of a fleet holds. It returns nil for one server; a
// single-server snapshot it read to tell is kept in src for the collector.
func (a *app) fleetSources(ctx context.Context, src *sourceFlags) (*collect.FleetOptions, error) {
	fo, err := a.cfg.fleetOptions()
	if err != nil {
		return nil, usageError(err)
	}
	if fo == nil && src.from == "" && a.cfg.Prometheus.URL != "" {
		// A mistake in the checks' configuration fails before any request is made.
		if _, _, err := a.cfg.checkSuite(); err != nil {
			return nil, usageError(err)
		}
		if fo, err = a.recognisedFleet(ctx); err != nil {
			return nil, err
		}
	}
	if fo != nil {
		if err := fleetExclusive(*src, a.cfg); err != nil {
			return nil, usageError(err)
		}
		return fo, nil
	}
	if src.from == "" || a.cfg.Prometheus.URL != "" || a.cfg.Loki.URL != "" || a.cfg.Alertmanager.URL != "" {
		return nil, nil // collectOptions refuses --from with a live server
	}
	snap, err := snapshot.Read(os.DirFS(src.from), src.from)
	if err != nil {
		return nil, usageError(err)
	}
	src.read = snap
	if !snap.Manifest.IsFleet() {
		return nil, nil
	}
	if src.prometheusConfig != "" {
		return nil, usageError(errPrometheusConfigFleet)
	}
	created := snap.Manifest.CreatedAt
	fo = &collect.FleetOptions{Sources: collect.SnapshotFleet(snap.Manifest), Now: func() time.Time { return created }}
	if err := fo.Validate(); err != nil {
		return nil, usageError(err)
	}
	return fo, nil
}

// fleetShared reads once what every member of a fleet shares: Loki, Grafana, dashboard and
// rule files, or what a fleet's snapshot holds of Loki and Grafana.
func (a *app) fleetShared(ctx context.Context, src sourceFlags) (*collect.Result, error) {
	src.fleet = true
	opts, err := a.collectOptions(src)
	if err != nil {
		return nil, err
	}
	// An Alertmanager is not read for a fleet (each server sends to its own).
	opts.Alertmanager = nil
	res, err := collect.Run(ctx, opts)
	if err != nil {
		return nil, usageError(err)
	}
	a.logStreamMatches(res.Inventory)
	return res, nil
}

// auditFleet audits a fleet, one member at a time as the sources are read, and merges the
// members' reports. The shared sources are judged once more on their own, for the findings no
// member explains (rule files' rules, secrets in streams of no member's job); they name no
// member, and a shared source that cannot be read is named once.
func (a *app) auditFleet(ctx context.Context, src sourceFlags, fo *collect.FleetOptions, now time.Time) (report.Report, error) {
	if _, _, err := a.cfg.checkSuite(); err != nil {
		return report.Report{}, usageError(err)
	}
	shared, err := a.fleetShared(ctx, src)
	if err != nil {
		return report.Report{}, err
	}
	all, policy, err := a.cfg.checkSuite()
	if err != nil {
		return report.Report{}, usageError(err)
	}
	fo.Logger = a.logger
	fo.Shared = shared.Inventory
	type part struct {
		member string
		rep    report.Report
	}
	var parts []part
	claimed := map[[2]string]bool{}
	err = collect.RunFleet(ctx, *fo, func(m collect.Member) {
		p := policy
		p.Scope = m.Scope
		owns := func(f analyze.Finding) bool { return m.Owns(f) && !unclaimedSecret(f) }
		d := a.cfg.derive(m.Inventory)
		res := checks.Run(m.Inventory, d, all, p)
		res.Findings = slices.DeleteFunc(res.Findings, func(f analyze.Finding) bool { return !owns(f) })
		res.Suppressed = slices.DeleteFunc(res.Suppressed, func(s checks.Suppressed) bool { return !owns(s.Finding) })
		for _, f := range slices.Concat(res.Findings, suppressedFindings(res.Suppressed)) {
			if f.Check == checks.LogsSecretsName {
				claimed[secretKey(f)] = true
			}
		}
		parts = append(parts, part{report.MemberName(m.Scope), judgeMember(m.Inventory, d, res, all, m.Scope, now)})
	})
	if err != nil {
		return report.Report{}, usageError(err)
	}
	if len(shared.Inventory.Sources) > 0 {
		d := a.cfg.derive(shared.Inventory)
		res := checks.Run(shared.Inventory, d, all, policy)
		// A secret in a stream of some member's job was reported by that member.
		res.Findings = slices.DeleteFunc(res.Findings, func(f analyze.Finding) bool { return claimed[secretKey(f)] })
		res.Suppressed = slices.DeleteFunc(res.Suppressed, func(s checks.Suppressed) bool { return claimed[secretKey(s.Finding)] })
		// The checks that need a server ran for the members; none is skipped for lack of one.
		res.Skipped = nil
		parts = append(parts, part{"", judgeMember(shared.Inventory, d, res, all, nil, now)})
	}
	// Members are judged in the order their servers answered: sorted, the report is the same
	// in every run.
	slices.SortFunc(parts, func(a, b part) int { return strings.Compare(a.member, b.member) })
	reps := make([]report.Report, len(parts))
	for i, p := range parts {
		reps[i] = p.rep
	}
	return report.Merge(reps), nil
}

// judgeMember builds the report of one member from its check results.
func judgeMember(inv *analyze.Inventory, d *checks.Derived, res checks.Result, all []checks.Check, scope map[string]string, now time.Time) report.Report {
	return report.BuildMember(report.Input{
		Inventory:  inv,
		Result:     res,
		Checks:     all,
		Matrix:     d.Matrix,
		Pages:      d.Pages,
		Now:        now,
		Dashboards: d.Dashboards,
	}, scope)
}

// unclaimedSecret is a secret found in a log stream of none of a member's jobs: the shared
// Loki's own judgement reports it, once, unless another member's job claims the stream.
func unclaimedSecret(f analyze.Finding) bool {
	return f.Check == checks.LogsSecretsName && f.Subject["job"] == ""
}

func secretKey(f analyze.Finding) [2]string {
	if f.Check != checks.LogsSecretsName {
		return [2]string{}
	}
	return [2]string{f.Subject["stream"], f.Subject["pattern"]}
}

func suppressedFindings(s []checks.Suppressed) []analyze.Finding {
	out := make([]analyze.Finding, len(s))
	for i, x := range s {
		out[i] = x.Finding
	}
	return out
}

var errPrometheusConfigFleet = errors.New("--prometheus-config cannot be combined with several Prometheus servers: " +
	"its scrape_configs would say which jobs every server should have, and each server reports its own configuration")

// fleetExclusive rejects the sources a fleet audit does not combine with.
func fleetExclusive(src sourceFlags, cfg Config) error {
	switch {
	case src.from != "":
		return errors.New("--from and several Prometheus servers are mutually exclusive: audit either the snapshot or the fleet")
	case src.prometheusConfig != "":
		return errPrometheusConfigFleet
	}
	return nil
}

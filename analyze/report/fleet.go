package report

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// BuildMember assembles the report of one member of a fleet: Build, with every coverage row
// and skipped check saying which member it belongs to. The member's inventory is not kept.
func BuildMember(in Input, scope map[string]string) Report {
	r := Build(in)
	if len(scope) == 0 {
		return r
	}
	for i := range r.Coverage {
		r.Coverage[i].Member = maps.Clone(scope)
	}
	for i := range r.Noise {
		r.Noise[i].Member = maps.Clone(scope)
	}
	name := MemberName(scope)
	for i := range r.Summary.ChecksSkipped {
		r.Summary.ChecksSkipped[i].Members = []string{name}
	}
	return r
}

// MemberName renders a member's scope as its keys and values in key order: "cluster=a,source=eu".
func MemberName(scope map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(scope)) {
		parts = append(parts, k+"="+scope[k])
	}
	return strings.Join(parts, ",")
}

// Merge combines the reports of the members of a fleet, in the order given (callers sort them
// by member for a deterministic report), into one: every source once, the
// coverage rows of every member, all findings in the usual order and the summary counts
// added up. A check counts as run when it ran for some member; the members it was skipped
// for are listed in checks_skipped, so no member's silence passes for "no gap".
func Merge(rs []Report) Report {
	if len(rs) == 0 {
		return Build(Input{Inventory: &analyze.Inventory{}})
	}
	out := Report{
		Version:     rs[0].Version,
		GeneratedAt: rs[0].GeneratedAt,
		CollectedAt: rs[0].CollectedAt,
		Sources:     []Source{},
		Coverage:    []CoverageRow{},
		Findings:    []analyze.Finding{},
		Suppressed:  []SuppressedFinding{},
	}
	sum := &out.Summary
	sum.ChecksRun = []string{}
	skipped := map[string]*SkippedCheck{}
	var skippedOrder []string
	for _, r := range rs {
		if r.CollectedAt.Before(out.CollectedAt) {
			out.CollectedAt = r.CollectedAt
		}
		for _, s := range r.Sources {
			if !slices.ContainsFunc(out.Sources, func(o Source) bool { return o.Name == s.Name && o.URL == s.URL }) {
				out.Sources = append(out.Sources, s)
			}
		}
		out.Coverage = append(out.Coverage, r.Coverage...)
		out.Findings = append(out.Findings, r.Findings...)
		out.Suppressed = append(out.Suppressed, r.Suppressed...)
		out.Expired = mergeExpired(out.Expired, r.Expired)
		out.Noise = append(out.Noise, r.Noise...)
		for id, s := range r.Sparklines {
			if out.Sparklines == nil {
				out.Sparklines = map[string]Sparkline{}
			}
			out.Sparklines[id] = s
		}
		sum.Jobs += r.Summary.Jobs
		sum.Targets.Up += r.Summary.Targets.Up
		sum.Targets.Down += r.Summary.Targets.Down
		sum.Targets.Unknown += r.Summary.Targets.Unknown
		sum.Rules.Groups += r.Summary.Rules.Groups
		sum.Rules.Alerting += r.Summary.Rules.Alerting
		sum.Rules.Recording += r.Summary.Rules.Recording
		sum.Rules.Unparseable += r.Summary.Rules.Unparseable
		sum.Rules.NotPromQL += r.Summary.Rules.NotPromQL
		sum.MetricNames = max(sum.MetricNames, r.Summary.MetricNames)
		for _, c := range r.Summary.ChecksRun {
			if !slices.Contains(sum.ChecksRun, c) {
				sum.ChecksRun = append(sum.ChecksRun, c)
			}
		}
		for _, c := range r.Summary.ChecksDisabled {
			if !slices.Contains(sum.ChecksDisabled, c) {
				sum.ChecksDisabled = append(sum.ChecksDisabled, c)
			}
		}
		for _, sk := range r.Summary.ChecksSkipped {
			m, ok := skipped[sk.Check]
			if !ok {
				m = &SkippedCheck{Check: sk.Check}
				skipped[sk.Check] = m
				skippedOrder = append(skippedOrder, sk.Check)
			}
			for _, p := range sk.Missing {
				if !slices.Contains(m.Missing, p) {
					m.Missing = append(m.Missing, p)
				}
			}
			m.Members = append(m.Members, sk.Members...)
		}
	}
	for _, c := range skippedOrder {
		sk := skipped[c]
		slices.Sort(sk.Members)
		sum.ChecksSkipped = append(sum.ChecksSkipped, *sk)
	}
	slices.SortStableFunc(out.Coverage, func(a, b CoverageRow) int {
		return cmp.Or(cmp.Compare(a.Job, b.Job), cmp.Compare(MemberName(a.Member), MemberName(b.Member)))
	})
	analyze.SortFindings(out.Findings)
	order := make(map[string]int, len(out.Suppressed))
	fs := make([]analyze.Finding, len(out.Suppressed))
	for i, s := range out.Suppressed {
		fs[i] = s.Finding
	}
	analyze.SortFindings(fs)
	for i, f := range fs {
		order[f.ID] = i
	}
	slices.SortStableFunc(out.Suppressed, func(a, b SuppressedFinding) int { return cmp.Compare(order[a.Finding.ID], order[b.Finding.ID]) })
	sum.Findings = countFindings(out.Findings, len(out.Suppressed))
	return out
}

// memberKeys are the subject keys that name fleet members in r (those of its coverage rows),
// sorted; none for one server.
func memberKeys(r Report) []string {
	var keys []string
	for _, row := range r.Coverage {
		for k := range row.Member {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// memberSuffix renders the member of a finding for the text report, " (cluster=b,source=x)",
// from the member keys of its subject; "" for one server.
func memberSuffix(subject map[string]string, keys []string) string {
	scope := map[string]string{}
	for _, k := range keys {
		if v, ok := subject[k]; ok {
			scope[k] = v
		}
	}
	return rowMember(scope)
}

// rowMember renders the member of a coverage row: " (source=eu)", "" for one server.
func rowMember(member map[string]string) string {
	if len(member) == 0 {
		return ""
	}
	return " (" + MemberName(member) + ")"
}

// mergeExpired adds the expired exceptions of one member: an entry expired in several members
// is listed once, with the findings it matches in all of them.
func mergeExpired(out, add []ExpiredException) []ExpiredException {
	for _, e := range add {
		i := slices.IndexFunc(out, func(o ExpiredException) bool {
			return o.Check == e.Check && o.Reason == e.Reason && o.Expires == e.Expires && maps.Equal(o.Subject, e.Subject)
		})
		if i < 0 {
			e.Findings = slices.Clone(e.Findings)
			out = append(out, e)
			continue
		}
		out[i].Findings = append(out[i].Findings, e.Findings...)
		slices.Sort(out[i].Findings)
	}
	return out
}

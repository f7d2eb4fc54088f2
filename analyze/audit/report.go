package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze/report"
)

// Report audits what the request names and reports it: the report of the one member of a
// single server, or the members' reports of a fleet merged (in member order, so that the
// report is the same in every run whatever order the servers answered in). A source that
// members read at different addresses under one name, each its own Alertmanager, is listed
// once per member, named after it: "alertmanager (source=eu)".
func Report(ctx context.Context, req Request) (report.Report, error) {
	type part struct {
		member string
		rep    report.Report
	}
	var parts []part
	req.defaults()
	now := req.Now()
	isFleet, err := each(ctx, req, func(m Member) error {
		parts = append(parts, part{m.Name(), m.Report(now)})
		return nil
	})
	if err != nil {
		return report.Report{}, err
	}
	if !isFleet {
		return parts[0].rep, nil
	}
	slices.SortStableFunc(parts, func(a, b part) int { return strings.Compare(a.member, b.member) })
	// Members name alike the sources of their own that they read at different addresses
	// (each member's Alertmanager): such a source is named after its member too.
	addresses := map[string]map[string]bool{}
	for _, p := range parts {
		for _, s := range p.rep.Sources {
			if addresses[s.Name] == nil {
				addresses[s.Name] = map[string]bool{}
			}
			addresses[s.Name][s.URL] = true
		}
	}
	reps := make([]report.Report, len(parts))
	for i, p := range parts {
		for j, s := range p.rep.Sources {
			if p.member != "" && len(addresses[s.Name]) > 1 {
				p.rep.Sources[j].Name = fmt.Sprintf("%s (%s)", s.Name, p.member)
			}
		}
		reps[i] = p.rep
	}
	return report.Merge(reps), nil
}

package audit

import (
	"context"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze/report"
)

// Report audits what the request names and reports it: the report of the one member of a
// single server, or the members' reports of a fleet merged (in member order, so that the
// report is the same in every run whatever order the servers answered in).
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
	reps := make([]report.Report, len(parts))
	for i, p := range parts {
		reps[i] = p.rep
	}
	return report.Merge(reps), nil
}

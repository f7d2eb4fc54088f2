package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// DashboardsMissingName is the ID of the DashboardsMissing check.
const DashboardsMissingName = "dashboards/missing"

// DashboardsMissing reports jobs with up targets that no dashboard panel can show.
//
// The dashboards are a field for now because the Inventory does not hold them yet; they are
// meant to move into the inventory (with their own part). A nil Dashboards means none were
// read, and the check reports nothing rather than every job.
type DashboardsMissing struct {
	Dashboards []dashboards.Dashboard
}

func (DashboardsMissing) Name() string               { return DashboardsMissingName }
func (DashboardsMissing) Severity() analyze.Severity { return analyze.Warning }
func (DashboardsMissing) Requires() []analyze.Part {
	return []analyze.Part{analyze.PartTargets, analyze.PartDashboards}
}

func (c DashboardsMissing) Run(inv *analyze.Inventory) []analyze.Finding {
	if c.Dashboards == nil {
		return nil
	}
	byJob := DashboardsOfJobs(inv, c.Dashboards)
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if j.Up == 0 || len(byJob[j.Name]) > 0 {
			continue
		}
		f := analyze.NewFinding(c.Name(), c.Severity(), map[string]string{"job": j.Name},
			fmt.Sprintf("no dashboard queries a metric of job %s", strconv.Quote(j.Name)),
			map[string]string{"dashboards": strconv.Itoa(len(c.Dashboards))})
		f.Fix = fmt.Sprintf("blindspot generate writes dashboards/%s.json for it", promqlbuild.FileStem(j.Name))
		out = append(out, f)
	}
	return out
}

// DashboardsOfJobs returns, for every job of the inventory, the titles of the dashboards
// with a panel that can show its series (sorted, distinct; empty for a job none shows). It
// is nil when ds is: no dashboards were read.
func DashboardsOfJobs(inv *analyze.Inventory, ds []dashboards.Dashboard) map[string][]string {
	if ds == nil {
		return nil
	}
	sels := make([][]*parser.VectorSelector, len(ds))
	scopes := make([]*dashboardScope, len(ds))
	for i, d := range ds {
		sels[i] = panelSelectors(d)
		scopes[i] = newDashboardScope(inv, d)
	}
	out := make(map[string][]string, len(inv.Jobs))
	for _, j := range inv.Jobs {
		titles := []string{}
		for i, d := range ds {
			if slices.ContainsFunc(sels[i], func(s *parser.VectorSelector) bool { return scopes[i].showsJob(s, j) }) {
				titles = append(titles, cmp.Or(d.Title, d.UID, d.File))
			}
		}
		slices.Sort(titles)
		out[j.Name] = slices.Compact(titles)
	}
	return out
}

// panelSelectors returns the vector selectors of the parsed panel queries of a dashboard.
// A variable's query shows nothing: it only bounds what the panels select.
func panelSelectors(d dashboards.Dashboard) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	for _, q := range d.Queries {
		if q.Parsed == nil || q.Variable != "" {
			continue
		}
		parser.Inspect(q.Parsed, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				out = append(out, vs)
			}
			return nil
		})
	}
	return out
}

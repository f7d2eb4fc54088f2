package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// DashboardsMissingName is the ID of the DashboardsMissing check.
const DashboardsMissingName = "dashboards/missing"

// DashboardsMissing reports jobs with up targets that no dashboard panel can show. Without
// dashboards in the inventory (nil: none were read) it reports nothing rather than every job.
type DashboardsMissing struct{}

func (DashboardsMissing) Meta() Meta {
	return Meta{ID: DashboardsMissingName, Severity: analyze.Warning, Scope: ScopeJob, MatrixColumn: ColumnDashboards, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartTargets, analyze.PartDashboards}, SubjectKeys: []string{"job"},
		Summary: "a job no dashboard panel can show (with `--grafana-url` or `--dashboards PATH`)",
		Finds:   "a job with up targets that no panel of the dashboards read can show. Details: `dashboards` (how many were read)",
	}
}

func (c DashboardsMissing) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	if inv.Dashboards == nil || d.Dashboards == nil {
		return nil
	}
	byJob := d.Dashboards
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if j.Up == 0 || len(byJob[j.Name]) > 0 {
			continue
		}
		f := c.Meta().finding(map[string]string{"job": j.Name},
			fmt.Sprintf("no dashboard queries a metric of job %s", strconv.Quote(j.Name)),
			map[string]string{"dashboards": strconv.Itoa(len(inv.Dashboards))})
		f.Fix = fmt.Sprintf("blindspot generate writes dashboards/%s.json for it", promqlbuild.FileStem(j.Name))
		out = append(out, f)
	}
	return out
}

// DashboardsOfJobs returns, for every job of the inventory, the titles of the dashboards
// with a panel that can show its series (sorted, distinct; empty for a job none shows). It
// is nil when ds is: no dashboards were read.
func DashboardsOfJobs(inv *analyze.Inventory, ds []analyze.Dashboard) map[string][]string {
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
func panelSelectors(d analyze.Dashboard) []*parser.VectorSelector {
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

package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// DashboardsMissingName is the ID of the DashboardsMissing check.
const DashboardsMissingName = "dashboards/missing"

// DashboardsMissing reports jobs with up targets that no dashboard query looks at.
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
// with a query that may return its series (sorted, distinct; empty for a job none queries).
// It is nil when ds is: no dashboards were read.
func DashboardsOfJobs(inv *analyze.Inventory, ds []dashboards.Dashboard) map[string][]string {
	if ds == nil {
		return nil
	}
	sels := make([][]*parser.VectorSelector, len(ds))
	for i, d := range ds {
		sels[i] = dashboardSelectors(d)
	}
	out := make(map[string][]string, len(inv.Jobs))
	for _, j := range inv.Jobs {
		titles := []string{}
		for i, d := range ds {
			if slices.ContainsFunc(sels[i], func(s *parser.VectorSelector) bool { return selectsJob(inv, s, j) }) {
				titles = append(titles, cmp.Or(d.Title, d.UID, d.File))
			}
		}
		slices.Sort(titles)
		out[j.Name] = slices.Compact(titles)
	}
	return out
}

// dashboardSelectors returns the vector selectors of the parsed queries of a dashboard.
func dashboardSelectors(d dashboards.Dashboard) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	for _, q := range d.Queries {
		if q.Parsed == nil {
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

// selectsJob reports whether s may return series of job j: its job matchers accept j (a
// dashboard variable accepts any job, since its value is chosen when viewing), or it has none
// and names a metric j is known to expose.
func selectsJob(inv *analyze.Inventory, s *parser.VectorSelector, j analyze.Job) bool {
	hasJob := false
	for _, m := range s.LabelMatchers {
		if m.Name != "job" {
			continue
		}
		hasJob = true
		if !acceptsJob(m, j.Name) {
			return false
		}
	}
	if hasJob {
		return true
	}
	name := s.Name
	if name == "" {
		for _, m := range s.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
	}
	if name == "up" && j.Active() > 0 {
		return true
	}
	return name != "" && slices.Contains(inv.JobMetrics[j.Name], name)
}

func acceptsJob(m *labels.Matcher, job string) bool {
	return strings.Contains(m.Value, dashboards.Placeholder) || m.Matches(job)
}

package checks

import (
	"slices"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// Derived is what is computed once per inventory for the checks and the report: the coverage
// analysis and its matrix, the routing of every alert, the paging receivers and the
// dashboards of each job. Like the inventory, it is read-only once derived.
type Derived struct {
	// Coverage is the coverage analysis the coverage checks and the matrix read.
	Coverage *coverage.Analysis
	// Matrix is the coverage of every job.
	Matrix []coverage.JobCoverage
	// Pages maps each job of Matrix to the paging receivers its alerts reach with the job's
	// labels (sorted); nil when the routing is unknown (no rules or no Alertmanager
	// configuration read).
	Pages map[string][]string
	// Dashboards maps each job to the titles of the dashboards with a panel that can show
	// it (DashboardsOfJobs); nil when no dashboards were read.
	Dashboards map[string][]string

	routes routed

	// Kube is which alerts page when a pod fails (coverage.KubePods), computed only when the
	// inventory holds the rules and the kubernetes part.
	Kube *coverage.KubeCoverage
}

// routed is the routing tree of the Alertmanager and the label sets of every alert.
type routed struct {
	opts   routing.Options
	tree   *routing.Tree // nil without PartAlertmanagerConfig
	alerts []routing.Alert
}

// Derive computes the derived value of inv with the checks' options.
func Derive(inv *analyze.Inventory, o Options) *Derived {
	o = o.withDefaults()
	cov := coverage.Analyze(inv, coverage.Options{RunbookAnnotation: o.RunbookAnnotation, Business: o.Business})
	d := &Derived{
		Coverage:   cov,
		Matrix:     cov.Matrix(),
		Dashboards: DashboardsOfJobs(inv, inv.Dashboards),
		routes:     routed{opts: o.Routing},
	}
	// The routing of the alerts is what the routing checks read; it is worked out only
	// when one of them can run.
	if inv.Has(analyze.PartRules) && (inv.Has(analyze.PartAlertmanagerConfig) || inv.Has(analyze.PartSilences)) {
		d.routes.alerts = routing.Alerts(inv, cov)
		if inv.Has(analyze.PartAlertmanagerConfig) && inv.Alerting.Config != nil {
			d.routes.tree = routing.NewTree(inv.Alerting.Config, o.Routing)
		}
	}
	if inv.Has(analyze.PartRules) && inv.Has(analyze.PartKubernetes) {
		kc := coverage.KubePods(inv, inv.Kubernetes.Job, coverage.Options{RunbookAnnotation: o.RunbookAnnotation})
		d.Kube = &kc
	}
	// An inventory may claim the configuration part without holding one: nothing is routed.
	if d.routes.tree != nil {
		d.Pages = pages(d.routes, d.Matrix)
	}
	return d
}

// pages returns, for every job of matrix, the receivers that page and that the job's alerts
// reach with the job's labels, sorted.
func pages(r routed, matrix []coverage.JobCoverage) map[string][]string {
	out := make(map[string][]string, len(matrix))
	for _, jc := range matrix {
		names := []string{}
		for _, ref := range jc.Alerts() {
			for _, a := range r.alerts {
				if a.Rule.Name != ref.Name || a.Rule.Group != ref.Group || a.Rule.File != ref.File {
					continue
				}
				for _, ls := range a.LabelSets {
					if ls.Job != jc.Job {
						continue
					}
					for _, name := range r.tree.Paging(r.tree.Match(ls.Labels)) {
						if !slices.Contains(names, name) {
							names = append(names, name)
						}
					}
				}
			}
		}
		slices.Sort(names)
		out[jc.Job] = names
	}
	return out
}

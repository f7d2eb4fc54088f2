// Package dashboard reads blindspot's model of a Grafana dashboard (analyze.Dashboard): how
// Grafana variables are replaced by placeholders so that a query parses, how a placeholder is
// told back, and which metrics the queries read. The collectors (analyze/collect/dashboards, a
// Grafana, a snapshot of one) fill the model into the Inventory; checks read it without
// knowing where it came from.
package dashboard

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// MetricName is the metric a selector names: its name, or the value of its __name__
// equality matcher; "" when it names none, or names it with a variable.
func MetricName(s *parser.VectorSelector) string {
	name := s.Name
	if name == "" {
		for _, m := range s.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
	}
	if HasVariable(name) {
		return ""
	}
	return name
}

// MetricNames returns the metric names the parsed queries of the dashboards read (panels
// and variables), sorted and distinct: what to ask the Prometheus about, to know which job
// exposes what the dashboards show.
func MetricNames(ds []analyze.Dashboard) []string {
	var out []string
	for _, d := range ds {
		for _, q := range d.Queries {
			if q.Parsed == nil {
				continue
			}
			parser.Inspect(q.Parsed, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					if name := MetricName(vs); name != "" {
						out = append(out, name)
					}
				}
				return nil
			})
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

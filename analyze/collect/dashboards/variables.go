package dashboards

import (
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Variable is a template variable, read for the values it can take.
type Variable struct {
	Name string
	// Type is Grafana's: "query", "custom", "constant", "textbox", "interval", "datasource",
	// "adhoc", …
	Type string
	// Prometheus is whether a query variable's datasource is Prometheus or unknown (a
	// `$datasource` variable); false for Loki and other types.
	Prometheus bool
	// Function is the function of a query variable's query: "label_values", "query_result",
	// "label_names" or "metrics"; "" for anything else.
	Function string
	// Selector is the series selector of label_values(selector, label), variables
	// substituted as in panel queries; nil for label_values(label) and for a selector that
	// does not parse.
	Selector *parser.VectorSelector
	// Label is the label label_values reads.
	Label string
	// Values are the values a custom variable lists, or a constant's value.
	Values []string
	// Regex is the regex field as written (`/…/flags`), "" when there is none.
	Regex string
	// IncludeAll is whether the variable offers "All".
	IncludeAll bool
}

// variables reads the template variables of a dashboard's templating list.
func variables(vars []any) []Variable {
	var out []Variable
	for _, vv := range vars {
		v, ok := vv.(map[string]any)
		if !ok {
			continue
		}
		va := Variable{}
		va.Name, _ = v["name"].(string)
		va.Type, _ = v["type"].(string)
		va.Regex, _ = v["regex"].(string)
		va.IncludeAll, _ = v["includeAll"].(bool)
		va.Prometheus = datasourceOf(v["datasource"]).isPrometheus()
		q := variableQuery(v)
		switch va.Type {
		case "query":
			va.Function, va.Selector, va.Label = parseVariableQuery(q)
		case "custom":
			va.Values = customValues(q)
			if len(va.Values) == 0 {
				va.Values = optionValues(v["options"])
			}
		case "constant":
			va.Values = []string{strings.TrimSpace(q)}
		}
		out = append(out, va)
	}
	return out
}

// parseVariableQuery splits a query variable's query into its function and, for
// label_values, its selector and label.
func parseVariableQuery(q string) (fn string, sel *parser.VectorSelector, label string) {
	fn, args := variableCall(q)
	if fn != "label_values" {
		return fn, nil, ""
	}
	selector, label := labelValuesArgs(args)
	if selector != "" {
		if parsed, err := analyze.ParseExpr(Substitute(selector)); err == nil {
			sel, _ = parsed.(*parser.VectorSelector)
		}
	}
	return fn, sel, label
}

// customItem and customKeyValue split a custom variable's query as Grafana does: values
// separated by commas (`\,` escapes one), each `value` or `text : value`.
var (
	customItem     = regexp.MustCompile(`(?:\\,|[^,])+`)
	customKeyValue = regexp.MustCompile(`^\s*(.+)\s:\s(.+)$`)
)

func customValues(q string) []string {
	var out []string
	for _, item := range customItem.FindAllString(q, -1) {
		if m := customKeyValue.FindStringSubmatch(item); m != nil {
			item = m[2]
		}
		item = strings.ReplaceAll(strings.TrimSpace(item), `\,`, ",")
		if item != "" {
			out = append(out, item)
		}
	}
	return out
}

// optionValues reads the values of a variable's saved options.
func optionValues(v any) []string {
	var out []string
	for _, o := range list(v) {
		if m, ok := o.(map[string]any); ok {
			if s, ok := m["value"].(string); ok && s != "$__all" {
				out = append(out, s)
			}
		}
	}
	return out
}

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
func MetricNames(ds []Dashboard) []string {
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

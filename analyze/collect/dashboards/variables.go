package dashboards

import (
	"regexp"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
)

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
		if parsed, err := analyze.ParseExpr(dashboard.Substitute(selector)); err == nil {
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

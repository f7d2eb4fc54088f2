package analyze

import "github.com/prometheus/prometheus/promql/parser"

// Dashboard is one Grafana dashboard and the PromQL queries it runs.
type Dashboard struct {
	UID, Title string
	// File is the file the dashboard was read from (a ConfigMap file may hold many).
	File string
	// Queries in panel order: panels (rows of the old format and collapsed rows included),
	// then template variables.
	Queries []DashboardQuery
	// Variables are the template variables, in the dashboard's order.
	Variables []DashboardVariable
}

// DashboardQuery is one PromQL expression of a panel target or template variable. Parsed is nil when
// ParseError is set.
type DashboardQuery struct {
	// Panel is the panel title ("panel 7" when it has none) or `variable "name"`.
	Panel string
	// Variable is the name of the variable whose query this is; "" for a panel's.
	Variable string
	// Expr is the expression as written in the dashboard, variables included.
	Expr string
	// Parsed is Expr with every Grafana variable substituted (see dashboard.Substitute).
	Parsed     parser.Expr
	ParseError string
}

// DashboardVariable is a template variable of a dashboard, read for the values it can take.
type DashboardVariable struct {
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

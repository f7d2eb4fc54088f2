// Package dashboards reads Grafana dashboards from disk and extracts their PromQL: plain
// dashboard JSON, the `{"dashboard": …}` export wrapper of the HTTP API, and Kubernetes
// ConfigMaps (alone or in a List) whose data values are dashboard JSON.
//
// Reading is lenient where an audit should report rather than stop: a query that does not
// parse is recorded on its query, and documents that hold no dashboard are skipped with a
// reason. A file whose JSON or YAML is broken is an error.
//
// What it reads is the Inventory's dashboard model (analyze.Dashboard); the collectors put it
// into Inventory.Dashboards with PartDashboards, and package analyze/dashboard holds what
// checks need to read it (the variables' placeholders, the metrics the queries read).
package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
	"github.com/blindspot-dev/blindspot/internal/fsutil"

	"github.com/blindspot-dev/blindspot/internal/yamlnode"
)

// Dashboard, Query and Variable are the Inventory's dashboard model: what this package reads
// is what checks judge.
type (
	Dashboard = analyze.Dashboard
	Query     = analyze.DashboardQuery
	Variable  = analyze.DashboardVariable
)

// Skipped is a file, or one document of a file, that was read but holds no dashboard.
type Skipped struct {
	File   string
	Reason string
}

// fileExt are the extensions read when walking a directory.
var fileExt = []string{".json", ".yaml", ".yml"}

// Load reads the dashboards at paths. A path is a file, read whatever its name, or a
// directory, walked recursively for .json, .yaml and .yml files (hidden subdirectories are
// not walked). A .json file is read as JSON, anything else as YAML.
//
// The first file that cannot be read or is malformed stops the load with a one-line error,
// "path: what is wrong".
func Load(paths []string) ([]Dashboard, []Skipped, error) {
	var (
		out     []Dashboard
		skipped []Skipped
	)
	err := fsutil.ReadFiles(paths, fileExt, ioError, func(path string, content []byte) error {
		ds, sk, err := Parse(path, content)
		if err != nil {
			return err
		}
		out = append(out, ds...)
		skipped = append(skipped, sk...)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, skipped, nil
}

// ioError keeps the path once: os errors repeat it in their own text.
func ioError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: reading dashboards: %w", path, err)
}

// Parse reads the dashboards of one file's content; file names it in errors and results.
// Content is JSON when file ends in .json, YAML otherwise.
func Parse(file string, content []byte) ([]Dashboard, []Skipped, error) {
	if strings.EqualFold(filepath.Ext(file), ".json") {
		return ParseJSON(file, content)
	}
	p := &fileParser{file: file}
	if err := p.yamlFile(content); err != nil {
		return nil, nil, err
	}
	return p.dashboards, p.skipped, nil
}

// ParseJSON reads one dashboard, or its export wrapper (the answer of Grafana's
// /api/dashboards/uid/:uid), from JSON; file names it in errors and results (a path, or the
// dashboard's URL when it was read from a live Grafana).
func ParseJSON(file string, content []byte) ([]Dashboard, []Skipped, error) {
	p := &fileParser{file: file}
	v, err := decodeJSON(content)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	p.document(v, "")
	return p.dashboards, p.skipped, nil
}

// decodeJSON decodes one JSON value, naming the line of a syntax error.
func decodeJSON(content []byte) (any, error) {
	var v any
	err := json.Unmarshal(content, &v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line := 1 + bytes.Count(content[:min(int(se.Offset), len(content))], []byte("\n"))
		return nil, fmt.Errorf("invalid JSON at line %d: %s", line, se.Error())
	case err != nil:
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}

type fileParser struct {
	file       string
	dashboards []Dashboard
	skipped    []Skipped
}

func (p *fileParser) skip(where, reason string) {
	if where != "" {
		reason = where + ": " + reason
	}
	p.skipped = append(p.skipped, Skipped{File: p.file, Reason: reason})
}

// maxListDepth bounds Lists nested in Lists.
const maxListDepth = 4

func (p *fileParser) yamlFile(content []byte) error {
	docs, err := yamlnode.Documents(content)
	if err != nil {
		var se *yamlnode.SyntaxError
		errors.As(err, &se)
		return fmt.Errorf("%s:%d: %s", p.file, se.Line, se.Error())
	}
	for _, doc := range docs {
		var v any
		if err := doc.Decode(&v); err != nil {
			line, msg := yamlnode.ErrorLine(err)
			return fmt.Errorf("%s:%d: invalid YAML: %s", p.file, line, msg)
		}
		if err := p.kubernetes(v, 0); err != nil {
			return err
		}
	}
	if len(docs) == 0 {
		p.skip("", "empty file")
	}
	return nil
}

// kubernetes reads a YAML document: a ConfigMap, a List of them, or a dashboard in YAML.
func (p *fileParser) kubernetes(v any, depth int) error {
	m, ok := v.(map[string]any)
	if !ok {
		p.skip("", fmt.Sprintf("not a dashboard: the document is a %s, not a mapping", kindOf(v)))
		return nil
	}
	kind, _ := m["kind"].(string)
	name := ""
	if meta, ok := m["metadata"].(map[string]any); ok {
		name, _ = meta["name"].(string)
	}
	switch {
	case kind == "ConfigMap":
		data, ok := m["data"].(map[string]any)
		if !ok {
			p.skip("ConfigMap "+name, "no data")
			return nil
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			where := fmt.Sprintf("ConfigMap %s, key %s", name, k)
			s, ok := data[k].(string)
			if !ok || !strings.HasSuffix(strings.ToLower(k), ".json") {
				p.skip(where, "not a .json key")
				continue
			}
			dv, err := decodeJSON([]byte(s))
			if err != nil {
				return fmt.Errorf("%s: %s: %w", p.file, where, err)
			}
			p.document(dv, where)
		}
		return nil
	case kind == "List" || strings.HasSuffix(kind, "List"):
		items, _ := m["items"].([]any)
		if depth >= maxListDepth {
			return fmt.Errorf("%s: %s nested more than %d deep", p.file, kind, maxListDepth)
		}
		for _, item := range items {
			if err := p.kubernetes(item, depth+1); err != nil {
				return err
			}
		}
		return nil
	case kind != "":
		p.skip(strings.TrimSpace("Kubernetes "+kind+" "+name), "not a ConfigMap of dashboards")
		return nil
	}
	p.document(m, "")
	return nil
}

// document reads a decoded JSON value that should be a dashboard or its export wrapper.
func (p *fileParser) document(v any, where string) {
	m, ok := v.(map[string]any)
	if !ok {
		p.skip(where, fmt.Sprintf("not a dashboard: the document is a %s, not an object", kindOf(v)))
		return
	}
	if inner, ok := m["dashboard"].(map[string]any); ok {
		m = inner
	}
	_, hasPanels := m["panels"]
	_, hasRows := m["rows"]
	if !hasPanels && !hasRows {
		p.skip(where, "not a dashboard: no panels or rows")
		return
	}
	d := Dashboard{File: p.file}
	d.UID, _ = m["uid"].(string)
	d.Title, _ = m["title"].(string)
	for _, row := range list(m["rows"]) {
		if r, ok := row.(map[string]any); ok {
			d.Queries = appendPanels(d.Queries, list(r["panels"]), datasource{})
		}
	}
	d.Queries = appendPanels(d.Queries, list(m["panels"]), datasource{})
	if t, ok := m["templating"].(map[string]any); ok {
		d.Queries = appendVariables(d.Queries, list(t["list"]))
		d.Variables = variables(list(t["list"]))
	}
	p.dashboards = append(p.dashboards, d)
}

func list(v any) []any { l, _ := v.([]any); return l }

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	case nil:
		return "null"
	}
	return "scalar"
}

// datasource is what a panel or target says about where its queries go.
type datasource struct {
	typ   string // "prometheus", "loki", …; "" when unknown
	known bool   // whether the panel or target named one at all
}

// datasourceOf reads a datasource reference: an object {"type", "uid"}, or a name or
// variable as older dashboards write it. Names and variables say nothing of the type, except
// a name that says it is Loki.
func datasourceOf(v any) datasource {
	switch ds := v.(type) {
	case map[string]any:
		typ, _ := ds["type"].(string)
		uid, _ := ds["uid"].(string)
		// "-- Mixed --" and "-- Dashboard --" leave the choice to each target.
		if typ == "datasource" && uid != "grafana" {
			return datasource{}
		}
		return datasource{typ: strings.ToLower(typ), known: typ != ""}
	case string:
		if strings.Contains(strings.ToLower(ds), "loki") {
			return datasource{typ: "loki", known: true}
		}
	}
	return datasource{}
}

// isPrometheus reports whether queries to ds are PromQL: the type says so or is unknown.
func (ds datasource) isPrometheus() bool { return !ds.known || ds.typ == "prometheus" }

func appendPanels(qs []Query, panels []any, inherited datasource) []Query {
	for _, pv := range panels {
		panel, ok := pv.(map[string]any)
		if !ok {
			continue
		}
		name, _ := panel["title"].(string)
		if name == "" {
			name = fmt.Sprintf("panel %v", panel["id"])
		}
		ds := inherited
		if d := datasourceOf(panel["datasource"]); d.known {
			ds = d
		}
		for _, tv := range list(panel["targets"]) {
			target, ok := tv.(map[string]any)
			if !ok {
				continue
			}
			tds := ds
			if d := datasourceOf(target["datasource"]); d.known {
				tds = d
			}
			expr, _ := target["expr"].(string)
			if !tds.isPrometheus() || strings.TrimSpace(expr) == "" {
				continue
			}
			qs = append(qs, dashboard.NewQuery(name, expr))
		}
		qs = appendPanels(qs, list(panel["panels"]), ds)
	}
	return qs
}

// appendVariables adds the PromQL of query variables: the selector of label_values(…) and
// the expression of query_result(…). Other functions (label_names(), metrics(…)) name no
// series worth auditing.
func appendVariables(qs []Query, vars []any) []Query {
	for _, vv := range vars {
		v, ok := vv.(map[string]any)
		if !ok || v["type"] != "query" || !datasourceOf(v["datasource"]).isPrometheus() {
			continue
		}
		expr := variableExpr(variableQuery(v))
		if expr == "" {
			continue
		}
		name, _ := v["name"].(string)
		q := dashboard.NewQuery(fmt.Sprintf("variable %q", name), expr)
		q.Variable = name
		qs = append(qs, q)
	}
	return qs
}

// variableQuery is the query of a query variable: a string, or the "query" of the object
// newer Grafana writes, or else its "definition".
func variableQuery(v map[string]any) string {
	var q string
	switch query := v["query"].(type) {
	case string:
		q = query
	case map[string]any:
		q, _ = query["query"].(string)
	}
	if q == "" {
		q, _ = v["definition"].(string)
	}
	return q
}

// variableExpr returns the PromQL inside label_values(selector, label) or query_result(expr),
// or "" when there is none.
func variableExpr(q string) string {
	switch fn, args := variableCall(q); fn {
	case "query_result":
		return args
	case "label_values":
		sel, _ := labelValuesArgs(args)
		return sel
	}
	return ""
}

// variableCall splits a query variable's query, fn(args), for the functions of Grafana's
// Prometheus datasource; fn is "" for any other query.
func variableCall(q string) (fn, args string) {
	q = strings.TrimSpace(q)
	for _, f := range []string{"label_values", "query_result", "label_names", "metrics"} {
		rest, ok := strings.CutPrefix(q, f)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
			return "", ""
		}
		return f, strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return "", ""
}

// labelValuesArgs splits the arguments of label_values: label_values(label) has no selector;
// label_values(sel, label) ends in ", label".
func labelValuesArgs(args string) (selector, label string) {
	i := strings.LastIndex(args, ",")
	if i < 0 {
		return "", args
	}
	return strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+1:])
}

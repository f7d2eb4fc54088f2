// Package runbooks writes the runbook of a generated alert (runbooks/<Alert>.md) from the
// embedded template templates/runbook.md.tmpl, in the layout of
// runbooks.prometheus-operator.dev: Meaning, Impact, Diagnosis, Mitigation, Owner.
//
// Job and metric names come from the monitored systems and may hold anything: they are
// printed as code spans or inside code blocks whose fences they cannot close, and any other
// text from outside (annotations, team names) is escaped for Markdown. Queries are syntax
// trees printed by the Prometheus library; the LogQL selector quotes the job the way LogQL
// string literals are read (Go syntax).
package runbooks

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
	"github.com/blindspot-dev/blindspot/rulesets"
	"github.com/blindspot-dev/blindspot/templates"
)

// LogFilter is the line filter of the runbook's LogQL query: lines that look like failures.
const LogFilter = "(?i)error|exception|fatal"

// metricRateWindow is the window of the rate a rate-drop runbook shows.
const metricRateWindow = 5 * time.Minute

// newTemplate parses a runbook template. A key the data lacks is an error rather than
// "<no value>" in a committed file.
func newTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(text)
}

var runbookTemplate = sync.OnceValues(func() (*template.Template, error) {
	text, err := templates.FS.ReadFile(templates.Runbook)
	if err != nil {
		return nil, err
	}
	t, err := newTemplate(templates.Runbook, string(text))
	if err != nil {
		return nil, fmt.Errorf("parsing templates/%s: %w", templates.Runbook, err)
	}
	return t, nil
})

// Render returns the runbook of a, to be stored at a.Runbook.
func Render(a generate.Alert, o generate.Options) (generate.File, error) {
	o = generate.DefaultOptions(o)
	t, err := runbookTemplate()
	if err != nil {
		return generate.File{}, err
	}
	if a.Runbook == "" {
		return generate.File{}, fmt.Errorf("rendering the runbook of %s: the alert has no runbook path", a.Name)
	}
	data, err := dataOf(a, o)
	if err != nil {
		return generate.File{}, fmt.Errorf("rendering the runbook of %s: %w", a.Name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return generate.File{}, fmt.Errorf("rendering the runbook of %s: %w", a.Name, err)
	}
	return generate.File{Path: a.Runbook, Content: buf.Bytes()}, nil
}

var kinds = []generate.Kind{generate.KindUp, generate.KindAbsent, generate.KindPoolEmpty, generate.KindRateDrop, generate.KindStaleness, generate.KindRuleset, generate.KindSelf, generate.KindWatchdog, generate.KindKubePods}

// dataOf is what the template prints, every value ready for Markdown. It is a map so that
// missingkey=error catches a template asking for something the data does not hold.
func dataOf(a generate.Alert, o generate.Options) (map[string]any, error) {
	if !slices.Contains(kinds, a.Kind) {
		return nil, fmt.Errorf("unknown alert kind %q", a.Kind)
	}
	if a.Kind == generate.KindPoolEmpty && a.Pool == "" {
		return nil, fmt.Errorf("the alert names no scrape pool")
	}
	if a.Job == "" && a.Kind != generate.KindWatchdog && a.Kind != generate.KindPoolEmpty {
		return nil, fmt.Errorf("the alert names no job")
	}
	if a.Expr == nil {
		return nil, fmt.Errorf("the alert has no expression")
	}
	expr, err := printed(a.Expr)
	if err != nil {
		return nil, err
	}
	// The heartbeat watches no job: its diagnosis reads Prometheus's own notifier metrics.
	upSelector := promqlbuild.Selector("up", a.Job)
	if a.Kind == generate.KindWatchdog {
		upSelector = &parser.VectorSelector{Name: "prometheus_notifications_dropped_total", LabelMatchers: []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "prometheus_notifications_dropped_total"),
		}}
	}
	up, err := printed(upSelector)
	if err != nil {
		return nil, err
	}
	d := map[string]any{
		"Header":      generate.Header,
		"Name":        text(a.Name),
		"Kind":        string(a.Kind),
		"Job":         code(a.Job),
		"Pool":        code(a.Pool),
		"PoolQuery":   "",
		"Metric":      "",
		"Pack":        "",
		"Summary":     text(a.Annotations["summary"]),
		"Description": text(a.Annotations["description"]),
		"For":         "",
		"Severity":    "",
		"Expr":        codeBlock{Lang: "promql", Content: expr},
		"UpQuery":     codeBlock{Lang: "promql", Content: up},
		"JobsQuery":   "",
		"MetricQuery": "",
		"Selectors":   []codeBlock(nil),
		"Dashboard":   "",
		"LogQL":       codeBlock{Lang: "logql", Content: logQuery(a.Job)},
		"Impact":      "",
		"Mitigation":  []string(nil),
		"Owner":       "",
		"OwnerLabel":  code(o.OwnerLabel),
		"Origin":      map[string]string(nil),
		"Backtest":    backtestText(a, o),
	}
	if a.Metric != "" {
		d["Metric"] = code(a.Metric)
	}
	if a.For > 0 {
		d["For"] = model.Duration(a.For).String()
	}
	if s := a.Labels["severity"]; s != "" {
		d["Severity"] = code(s)
	}
	if u := o.DashboardURL(a.Job); u != "" {
		d["Dashboard"] = autolink(u)
	}
	if team := o.OwnerOf(a.Job); team != "" && a.Job != "" {
		d["Owner"] = text(team)
	}

	switch a.Kind {
	case generate.KindAbsent:
		q, err := printed(&parser.AggregateExpr{
			Op:       parser.COUNT,
			Grouping: []string{"job"},
			Expr: &parser.VectorSelector{Name: "up", LabelMatchers: []*labels.Matcher{
				labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "up"),
			}},
		})
		if err != nil {
			return nil, err
		}
		d["JobsQuery"] = codeBlock{Lang: "promql", Content: q}
	case generate.KindPoolEmpty:
		// The pool's targets before relabeling: discovery finding nothing, or relabeling
		// dropping all it found.
		q, err := printed(&parser.VectorSelector{Name: "prometheus_sd_discovered_targets", LabelMatchers: []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "prometheus_sd_discovered_targets"),
			labels.MustNewMatcher(labels.MatchEqual, "config", a.Pool),
		}})
		if err != nil {
			return nil, err
		}
		d["PoolQuery"] = codeBlock{Lang: "promql", Content: q}
	case generate.KindRateDrop, generate.KindStaleness:
		if a.Metric == "" {
			return nil, fmt.Errorf("a %s alert names no metric", a.Kind)
		}
		q, err := printed(metricQuery(a))
		if err != nil {
			return nil, err
		}
		d["MetricQuery"] = codeBlock{Lang: "promql", Content: q}
	case generate.KindRuleset:
		if err := rulesetData(d, a); err != nil {
			return nil, err
		}
	case generate.KindSelf, generate.KindKubePods:
		selectors, err := selectorsOf(a.Expr)
		if err != nil {
			return nil, err
		}
		d["Selectors"] = selectors
		// Impact and mitigation are Markdown written with the alert, not values from outside.
		d["Impact"] = a.Impact
		d["Mitigation"] = a.Mitigation
	}
	return d, nil
}

// metricQuery shows the metric of a business alert per instance: the rate of a counter, the
// age of a last-success time.
func metricQuery(a generate.Alert) parser.Expr {
	sel := promqlbuild.Selector(a.Metric, a.Job)
	if a.Kind == generate.KindStaleness {
		return &parser.BinaryExpr{
			Op:  parser.SUB,
			LHS: &parser.Call{Func: parser.Functions["time"], Args: parser.Expressions{}},
			RHS: sel,
		}
	}
	return &parser.AggregateExpr{
		Op:       parser.SUM,
		Grouping: []string{"instance"},
		Expr: &parser.Call{
			Func: parser.Functions["rate"],
			Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: sel, Range: metricRateWindow}},
		},
	}
}

// rulesetData adds what the pack says about the alert: the series it reads, its impact and
// mitigation, and where it comes from.
func rulesetData(d map[string]any, a generate.Alert) error {
	d["Pack"] = code(a.Pack)
	selectors, err := selectorsOf(a.Expr)
	if err != nil {
		return err
	}
	d["Selectors"] = selectors

	packs, err := rulesets.Packs()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(packs, func(p rulesets.Pack) bool { return p.Name == a.Pack })
	if i < 0 {
		return fmt.Errorf("the alert comes from ruleset %q, which does not exist", a.Pack)
	}
	p := packs[i]
	j := slices.IndexFunc(p.Alerts, func(pa rulesets.PackAlert) bool { return pa.Name == a.PackAlert })
	if j < 0 {
		return fmt.Errorf("ruleset %s has no alert %q", a.Pack, a.PackAlert)
	}
	pa := p.Alerts[j]
	// Impact and mitigation are Markdown written for the ruleset, not values from outside.
	d["Impact"] = pa.Impact
	d["Mitigation"] = pa.Mitigation
	if o, ok := p.Origin(pa); ok {
		d["Origin"] = map[string]string{
			"Upstream":    code(pa.Upstream),
			"Source":      o.Source,
			"Attribution": text(o.Attribution),
			"License":     text(o.License),
			"Changes":     text(o.Changes),
		}
	}
	return nil
}

// logQuery selects the job's log lines that look like failures. LogQL reads string literals
// with Go's syntax, so strconv.Quote keeps any job name a single literal.
func logQuery(job string) string {
	return "{job=" + strconv.Quote(job) + "} |~ " + strconv.Quote(LogFilter)
}

// printed prints e with the Prometheus library and parses it again, so that a runbook never
// shows a query that does not parse.
func printed(e parser.Expr) (string, error) {
	s := e.String()
	if _, err := analyze.ParseExpr(s); err != nil {
		return "", fmt.Errorf("the query %s does not parse again: %w", s, err)
	}
	return s, nil
}

// selectorsOf lists the distinct series selectors of an expression, printed without offset or
// @ (what to look at now), in the order they appear.
func selectorsOf(e parser.Expr) ([]codeBlock, error) {
	var selectors []codeBlock
	seen := map[string]bool{}
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || bad != nil {
			return nil
		}
		s, err := printed(&parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers})
		if err != nil {
			bad = err
			return nil
		}
		if !seen[s] {
			seen[s] = true
			selectors = append(selectors, codeBlock{Lang: "promql", Content: s})
		}
		return nil
	})
	return selectors, bad
}

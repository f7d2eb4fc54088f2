package rulesets

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

//go:embed packs/*.yaml
var packFiles embed.FS

// Pack is a built-in ruleset (packs/<Name>.yaml): alerts for one kind of exporter or server,
// recognised for a job by the metric names the job exposes. Its expressions and test series
// carry no job: instantiating the pack for a job adds the job's matcher to every vector
// selector and the job label to every series (generate/packs).
type Pack struct {
	Name        string
	Description string
	// Origins are the public works alerts were adapted from; empty when the pack is
	// blindspot's own.
	Origins []Origin
	// Detect are metric names of which a job must expose at least one for the pack to apply.
	Detect []string
	Alerts []PackAlert
}

// Origin is a public work alerts of a pack derive from, with what its license asks for.
type Origin struct {
	Name    string // how the pack's alerts refer to it
	Source  string // URL of the file, at a fixed commit
	License string // SPDX identifier
	// Attribution names the authors, as the license asks.
	Attribution string
	// Changes says what was changed (CC BY 4.0 asks that adaptations say so).
	Changes string
}

// PackAlert is one alert of a pack.
type PackAlert struct {
	// Name is the alert name's suffix: the alert of job "node" is "Node" + Name.
	Name string
	// Origin names an Origins entry ("" for blindspot's own alerts); Upstream is the name of
	// the alert there.
	Origin   string
	Upstream string
	// Expr is PromQL without any job matcher.
	Expr     string
	For      time.Duration
	Severity string
	// Summary and Description are Prometheus annotation templates.
	Summary     string
	Description string
	// Impact and Mitigation are what the runbook says.
	Impact     string
	Mitigation []string
	Test       PackTest
}

// PackTest is the promtool test case of a pack alert, without the job label.
type PackTest struct {
	Interval time.Duration
	EvalTime time.Duration
	Failing  []PackSeries
	Healthy  []PackSeries
	// Labels are the labels the expression returns for the failing series, job apart.
	Labels map[string]string
}

// PackSeries is one input series in promtool's notation.
type PackSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// Origin returns the origin the alert a derives from.
func (p Pack) Origin(a PackAlert) (Origin, bool) {
	i := slices.IndexFunc(p.Origins, func(o Origin) bool { return o.Name == a.Origin })
	if a.Origin == "" || i < 0 {
		return Origin{}, false
	}
	return p.Origins[i], true
}

// Severities are the severities a pack alert may have.
var Severities = []string{"critical", "warning", "info"}

// packParser parses pack expressions as a server with default settings does: a pack must load
// everywhere, so no experimental function is allowed.
var packParser = parser.NewParser(parser.Options{})

var loadedPacks = sync.OnceValues(func() ([]Pack, error) { return loadPacks(packFiles) })

// Packs returns the built-in packs, sorted by name. The packs are the caller's to keep.
func Packs() ([]Pack, error) {
	ps, err := loadedPacks()
	if err != nil {
		return nil, err
	}
	out := make([]Pack, len(ps))
	for i, p := range ps {
		out[i] = p.clone()
	}
	return out, nil
}

// DetectNames returns the metric names that recognise some pack, sorted: the collector asks
// which jobs expose them.
func DetectNames() ([]string, error) {
	ps, err := loadedPacks()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.Detect...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (p Pack) clone() Pack {
	p.Origins = slices.Clone(p.Origins)
	p.Detect = slices.Clone(p.Detect)
	p.Alerts = slices.Clone(p.Alerts)
	for i := range p.Alerts {
		a := &p.Alerts[i]
		a.Mitigation = slices.Clone(a.Mitigation)
		a.Test.Failing = slices.Clone(a.Test.Failing)
		a.Test.Healthy = slices.Clone(a.Test.Healthy)
		a.Test.Labels = maps.Clone(a.Test.Labels)
	}
	return p
}

func loadPacks(fsys fs.FS) ([]Pack, error) {
	names, err := fs.Glob(fsys, "packs/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Pack
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("rulesets/%s: %w", name, err)
		}
		p, err := parsePack(data)
		if err == nil && p.Name != strings.TrimSuffix(path.Base(name), ".yaml") {
			err = fmt.Errorf("the pack is named %q, not after its file", p.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("rulesets/%s: %w", name, err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Pack) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// The YAML form of a pack; durations are Prometheus durations ("5m", "1d").
type packFile struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Origins     []originDoc `yaml:"origins"`
	Detect      []string    `yaml:"detect"`
	Alerts      []alertDoc  `yaml:"alerts"`
}

type originDoc struct {
	Name        string `yaml:"name"`
	Source      string `yaml:"source"`
	License     string `yaml:"license"`
	Attribution string `yaml:"attribution"`
	Changes     string `yaml:"changes"`
}

type alertDoc struct {
	Name        string   `yaml:"name"`
	Origin      string   `yaml:"origin"`
	Upstream    string   `yaml:"upstream"`
	Expr        string   `yaml:"expr"`
	For         string   `yaml:"for"`
	Severity    string   `yaml:"severity"`
	Summary     string   `yaml:"summary"`
	Description string   `yaml:"description"`
	Impact      string   `yaml:"impact"`
	Mitigation  []string `yaml:"mitigation"`
	Test        testDoc  `yaml:"test"`
}

type testDoc struct {
	Interval string            `yaml:"interval"`
	EvalTime string            `yaml:"eval_time"`
	Failing  []PackSeries      `yaml:"failing"`
	Healthy  []PackSeries      `yaml:"healthy"`
	Labels   map[string]string `yaml:"labels"`
}

var (
	packName   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	suffixName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
)

// parsePack reads and validates one pack: everything a generator relies on is checked here,
// so that instantiating a pack cannot fail on the pack's own content.
func parsePack(data []byte) (Pack, error) {
	var doc packFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return Pack{}, err
	}
	p := Pack{Name: doc.Name, Description: strings.TrimSpace(doc.Description), Detect: doc.Detect}
	if !packName.MatchString(p.Name) {
		return Pack{}, fmt.Errorf("name %q is not lower-case words joined by dashes", p.Name)
	}
	if p.Description == "" {
		return Pack{}, errors.New("no description")
	}
	if len(p.Detect) == 0 {
		return Pack{}, errors.New("detect lists no metric name")
	}
	for _, n := range p.Detect {
		if !model.IsValidLegacyMetricName(n) {
			return Pack{}, fmt.Errorf("detect: %q is not a metric name", n)
		}
	}
	used := map[string]bool{}
	for _, o := range doc.Origins {
		if err := checkOrigin(o, p.Origins); err != nil {
			return Pack{}, err
		}
		p.Origins = append(p.Origins, Origin(o))
	}
	if len(doc.Alerts) == 0 {
		return Pack{}, errors.New("no alerts")
	}
	for _, d := range doc.Alerts {
		a, err := parseAlert(d, p)
		if err != nil {
			return Pack{}, fmt.Errorf("alert %q: %w", d.Name, err)
		}
		if slices.ContainsFunc(p.Alerts, func(b PackAlert) bool { return b.Name == a.Name }) {
			return Pack{}, fmt.Errorf("alert %q is listed twice", a.Name)
		}
		used[a.Origin] = true
		p.Alerts = append(p.Alerts, a)
	}
	for _, o := range p.Origins {
		if !used[o.Name] {
			return Pack{}, fmt.Errorf("origin %q is named by no alert", o.Name)
		}
	}
	return p, nil
}

func checkOrigin(o originDoc, known []Origin) error {
	switch {
	case o.Name == "":
		return errors.New("an origin has no name")
	case slices.ContainsFunc(known, func(k Origin) bool { return k.Name == o.Name }):
		return fmt.Errorf("origin %q is listed twice", o.Name)
	case !strings.HasPrefix(o.Source, "https://"):
		return fmt.Errorf("origin %q: source %q is not an https URL", o.Name, o.Source)
	case o.License == "":
		return fmt.Errorf("origin %q names no license", o.Name)
	case strings.HasPrefix(o.License, "CC-BY") && o.Attribution == "":
		return fmt.Errorf("origin %q: %s requires attribution", o.Name, o.License)
	case strings.HasPrefix(o.License, "CC-BY") && o.Changes == "":
		return fmt.Errorf("origin %q: %s requires saying what was changed", o.Name, o.License)
	}
	return nil
}

func parseAlert(d alertDoc, p Pack) (PackAlert, error) {
	a := PackAlert{
		Name: d.Name, Origin: d.Origin, Upstream: d.Upstream, Expr: strings.TrimSpace(d.Expr),
		Severity: d.Severity, Summary: strings.TrimSpace(d.Summary), Description: strings.TrimSpace(d.Description),
		Impact: strings.TrimSpace(d.Impact), Mitigation: d.Mitigation,
		Test: PackTest{Failing: d.Test.Failing, Healthy: d.Test.Healthy, Labels: d.Test.Labels},
	}
	if !suffixName.MatchString(a.Name) {
		return a, errors.New("the name is not a CamelCase identifier")
	}
	if a.Origin != "" {
		if _, ok := p.Origin(a); !ok {
			return a, fmt.Errorf("origin %q is not listed in origins", a.Origin)
		}
	}
	if (a.Origin == "") != (a.Upstream == "") {
		return a, errors.New("origin and upstream go together")
	}
	if !slices.Contains(Severities, a.Severity) {
		return a, fmt.Errorf("severity %q is not one of %s", a.Severity, strings.Join(Severities, ", "))
	}
	if a.Summary == "" || a.Description == "" || a.Impact == "" || len(a.Mitigation) == 0 {
		return a, errors.New("summary, description, impact and mitigation are required")
	}
	var err error
	if a.For, err = duration("for", d.For, true); err != nil {
		return a, err
	}
	if err := CheckPackExpr(a.Expr); err != nil {
		return a, err
	}
	if a.Test.Interval, err = duration("test.interval", d.Test.Interval, false); err != nil {
		return a, err
	}
	if a.Test.EvalTime, err = duration("test.eval_time", d.Test.EvalTime, false); err != nil {
		return a, err
	}
	if a.Test.EvalTime < a.For {
		return a, fmt.Errorf("test.eval_time %s comes before the alert's for (%s) has passed", d.Test.EvalTime, d.For)
	}
	if len(a.Test.Failing) == 0 || len(a.Test.Healthy) == 0 {
		return a, errors.New("the test needs failing and healthy series")
	}
	for _, s := range slices.Concat(a.Test.Failing, a.Test.Healthy) {
		lbls, _, err := packParser.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			return a, fmt.Errorf("test series %q %q: %w", s.Series, s.Values, err)
		}
		if lbls.Has("job") {
			return a, fmt.Errorf("test series %q has a job label: the job is added when the pack is instantiated", s.Series)
		}
	}
	for name := range a.Test.Labels {
		if name == "job" || name == model.AlertNameLabel || name == model.MetricNameLabel {
			return a, fmt.Errorf("test.labels lists %s, which is not the pack's to set", name)
		}
	}
	return a, nil
}

func duration(field, s string, zeroOK bool) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	if d == 0 && !zeroOK {
		return 0, fmt.Errorf("%s must be positive", field)
	}
	return time.Duration(d), nil
}

// CheckPackExpr checks that expr is a pack expression: PromQL returning a vector whose every
// vector selector starts with a metric name and carries no job matcher (the job is added when the pack
// is instantiated; a job written into the pack would select another job's series).
func CheckPackExpr(expr string) error {
	e, err := packParser.ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("expr: %w", err)
	}
	if e.Type() != parser.ValueTypeVector {
		return fmt.Errorf("expr returns a %s, not a vector", e.Type())
	}
	var selectors int
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || bad != nil {
			return nil
		}
		selectors++
		if vs.Name == "" {
			bad = fmt.Errorf("expr: selector %s does not start with a metric name", vs)
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == "job" {
				bad = fmt.Errorf("expr: selector %s has a job matcher", vs)
			}
		}
		return nil
	})
	if bad != nil {
		return bad
	}
	if selectors == 0 {
		return errors.New("expr selects no series")
	}
	return nil
}

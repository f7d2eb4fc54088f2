// Package rulefiles reads Prometheus rule files from disk, without a server: plain `groups:`
// files, Prometheus Operator PrometheusRule resources (also inside a Kubernetes List) and
// multi-document YAML holding any of these.
//
// Reading is lenient where an audit should report rather than stop: an expression that does
// not parse is recorded on its rule, groups of another query language (vmalert's
// `type: vlogs`) are kept but not parsed, and documents that hold no rules are skipped with a
// reason. A file whose structure is broken is an error.
package rulefiles

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/internal/fsutil"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/internal/yamlnode"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Result is what a set of rule files holds.
type Result struct {
	// Groups in the order read: files in path order (directories walked in lexical order),
	// then documents and groups in file order.
	Groups []analyze.RuleGroup
	// Skipped lists files and documents that hold no rules, in the order read.
	Skipped []Skipped
}

// Skipped is a file, or one document of a file, that was read but holds no rules.
type Skipped struct {
	File string
	// Line is where the skipped document starts; 0 when the whole file was skipped because
	// it is empty.
	Line   int
	Reason string
}

// Reasons for skipping that callers may want to tell apart.
const (
	ReasonEmpty    = "empty file"
	ReasonUnitTest = "promtool unit test file"
)

// ruleFileExt are the extensions read when walking a directory.
var ruleFileExt = []string{".yml", ".yaml", ".rules"}

// Load reads the rule files at paths. A path is a file, read whatever its name, or a
// directory, walked recursively for files ending in .yml, .yaml or .rules. Hidden
// subdirectories (".git", Kubernetes' "..2024_…" ConfigMap snapshots) and symbolic links to
// directories are not walked; a file reached twice is read once.
//
// The first file that cannot be read or is malformed stops the load with a one-line error,
// "path:line: what is wrong", and an empty Result.
func Load(paths []string) (Result, error) {
	var res Result
	err := fsutil.ReadFiles(paths, ruleFileExt, ioError, func(path string, content []byte) error {
		r, err := Parse(path, content)
		if err != nil {
			return err
		}
		res.Groups = append(res.Groups, r.Groups...)
		res.Skipped = append(res.Skipped, r.Skipped...)
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// ioError keeps the path once: os errors repeat it in their own text.
func ioError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: reading rules: %w", path, err)
}

// fileError is a problem at a line of a file (line 0: unknown).
type fileError struct {
	file string
	line int
	msg  string
}

func (e *fileError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s: %s", e.file, e.msg)
}

// parser reads one file; file is used in errors and on every group and rule.
type parser struct {
	file string
	res  Result
	// read holds the documents already read: through aliases, a List may name the same
	// document many times over, and reading it again would only repeat its groups.
	read map[*yaml.Node]bool
}

func (p *parser) fail(line int, format string, args ...any) error {
	return &fileError{file: p.file, line: line, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skip(line int, reason string) {
	p.res.Skipped = append(p.res.Skipped, Skipped{File: p.file, Line: line, Reason: reason})
}

// Parse reads the rule groups of one file's content; file names it in errors and results.
func Parse(file string, content []byte) (Result, error) {
	p := &parser{file: file, read: map[*yaml.Node]bool{}}
	docs, err := yamlnode.Documents(content)
	if err != nil {
		var se *yamlnode.SyntaxError
		errors.As(err, &se)
		return Result{}, p.fail(se.Line, "%s", se.Error())
	}
	for _, doc := range docs {
		if err := p.document(yamlnode.Resolve(doc), 0); err != nil {
			return Result{}, err
		}
	}
	if len(docs) == 0 {
		p.skip(0, ReasonEmpty)
	}
	return p.res, nil
}

// document is the shape of every kind of document this package recognizes. Every field is a
// node, so that decoding an unrelated document cannot fail on types.
type document struct {
	Kind      yaml.Node `yaml:"kind"`
	Groups    yaml.Node `yaml:"groups"`
	Spec      yaml.Node `yaml:"spec"`
	Items     yaml.Node `yaml:"items"`
	RuleFiles yaml.Node `yaml:"rule_files"`
	Tests     yaml.Node `yaml:"tests"`
}

// maxListDepth bounds Lists nested in Lists.
const maxListDepth = 4

func (p *parser) document(n *yaml.Node, depth int) error {
	if p.read[n] {
		return nil
	}
	p.read[n] = true
	if n.Kind != yaml.MappingNode {
		p.skip(n.Line, fmt.Sprintf("not a rule file: the document is a %s, not a mapping", yamlnode.KindName(n)))
		return nil
	}
	var doc document
	if err := n.Decode(&doc); err != nil {
		return p.decodeError(n, "", err)
	}
	kind := ""
	if k := yamlnode.Resolve(&doc.Kind); k.Kind == yaml.ScalarNode {
		kind = k.Value
	}
	switch {
	case kind == "PrometheusRule":
		spec := yamlnode.Resolve(&doc.Spec)
		if spec.Kind == 0 || yamlnode.IsNull(spec) {
			return nil
		}
		if spec.Kind != yaml.MappingNode {
			return p.fail(spec.Line, "PrometheusRule spec must be a mapping, not a %s", yamlnode.KindName(spec))
		}
		var s struct {
			Groups yaml.Node `yaml:"groups"`
		}
		if err := spec.Decode(&s); err != nil {
			return p.decodeError(spec, "", err)
		}
		return p.groups(yamlnode.Resolve(&s.Groups), "spec.groups")
	case kind == "List" || strings.HasSuffix(kind, "List"):
		items := yamlnode.Resolve(&doc.Items)
		if items.Kind == 0 || yamlnode.IsNull(items) {
			return nil
		}
		if items.Kind != yaml.SequenceNode {
			return p.fail(items.Line, "%s items must be a list, not a %s", kind, yamlnode.KindName(items))
		}
		if depth >= maxListDepth {
			return p.fail(items.Line, "%s nested more than %d deep", kind, maxListDepth)
		}
		for _, item := range items.Content {
			if err := p.document(yamlnode.Resolve(item), depth+1); err != nil {
				return err
			}
		}
		return nil
	case kind != "":
		p.skip(n.Line, fmt.Sprintf("Kubernetes %s, not a PrometheusRule", kind))
		return nil
	case doc.Groups.Kind != 0:
		return p.groups(yamlnode.Resolve(&doc.Groups), "groups")
	case doc.RuleFiles.Kind != 0 || doc.Tests.Kind != 0:
		p.skip(n.Line, ReasonUnitTest)
		return nil
	}
	p.skip(n.Line, "not a rule file: no top-level groups")
	return nil
}

// groupYAML and ruleYAML mirror rulefmt.RuleGroup and rulefmt.Rule (plus vmalert's group
// type), with nodes where a line is needed or a value is checked by hand. Unknown fields are
// ignored: Thanos, vmalert and newer Prometheus versions add their own.
type groupYAML struct {
	Name     yaml.Node         `yaml:"name"`
	Type     yaml.Node         `yaml:"type"`
	Interval yaml.Node         `yaml:"interval"`
	Labels   map[string]string `yaml:"labels"`
	Rules    yaml.Node         `yaml:"rules"`
}

type ruleYAML struct {
	Record      yaml.Node         `yaml:"record"`
	Alert       yaml.Node         `yaml:"alert"`
	Expr        yaml.Node         `yaml:"expr"`
	For         yaml.Node         `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// groups reads a list of rule groups; key names it in errors. Group names are unique within
// the list, as Prometheus requires within a file (and the Operator within a PrometheusRule).
func (p *parser) groups(list *yaml.Node, key string) error {
	if yamlnode.IsNull(list) {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		return p.fail(list.Line, "%s must be a list of rule groups, not a %s", key, yamlnode.KindName(list))
	}
	firstLine := map[string]int{}
	for i, item := range list.Content {
		n := yamlnode.Resolve(item)
		if n.Kind != yaml.MappingNode {
			return p.fail(n.Line, "group %d must be a mapping, not a %s", i+1, yamlnode.KindName(n))
		}
		var g groupYAML
		if err := n.Decode(&g); err != nil {
			return p.decodeError(n, fmt.Sprintf("group %d: ", i+1), err)
		}
		name, err := p.scalar(&g.Name, "group %d: name", i+1)
		if err != nil {
			return err
		}
		if name == "" {
			return p.fail(n.Line, "group %d has no name", i+1)
		}
		if first, ok := firstLine[name]; ok {
			return p.fail(n.Line, "group %q is defined twice (first at line %d)", name, first)
		}
		firstLine[name] = n.Line
		group, err := p.group(n, name, g)
		if err != nil {
			return err
		}
		p.res.Groups = append(p.res.Groups, group)
	}
	return nil
}

func (p *parser) group(n *yaml.Node, name string, g groupYAML) (analyze.RuleGroup, error) {
	where := fmt.Sprintf("group %q", name)
	group := analyze.RuleGroup{Name: name, File: p.file, Language: "promql"}
	typ, err := p.scalar(&g.Type, "%s: type", where)
	if err != nil {
		return group, err
	}
	if t := strings.TrimSpace(typ); t != "" && !strings.EqualFold(t, "prometheus") {
		group.Language = t
	}
	if group.Interval, err = p.duration(&g.Interval, "%s: interval", where); err != nil {
		return group, err
	}

	rules := yamlnode.Resolve(&g.Rules)
	if rules.Kind == 0 || yamlnode.IsNull(rules) {
		return group, nil
	}
	if rules.Kind != yaml.SequenceNode {
		return group, p.fail(rules.Line, "%s: rules must be a list, not a %s", where, yamlnode.KindName(rules))
	}
	for i, item := range rules.Content {
		r, err := p.rule(yamlnode.Resolve(item), fmt.Sprintf("%s, rule %d", where, i+1))
		if err != nil {
			return group, err
		}
		r.Group = name
		// Prometheus 3 adds group labels to every rule; a rule's own label wins.
		if len(g.Labels) > 0 {
			labels := maps.Clone(g.Labels)
			maps.Copy(labels, r.Labels)
			r.Labels = labels
		}
		if group.Language == "promql" {
			r = analyze.NewRule(r)
		}
		group.Rules = append(group.Rules, r)
	}
	return group, nil
}

func (p *parser) rule(n *yaml.Node, where string) (analyze.Rule, error) {
	if n.Kind != yaml.MappingNode {
		return analyze.Rule{}, p.fail(n.Line, "%s must be a mapping, not a %s", where, yamlnode.KindName(n))
	}
	var r ruleYAML
	if err := n.Decode(&r); err != nil {
		return analyze.Rule{}, p.decodeError(n, where+": ", err)
	}
	record, err := p.scalar(&r.Record, "%s: record", where)
	if err != nil {
		return analyze.Rule{}, err
	}
	alert, err := p.scalar(&r.Alert, "%s: alert", where)
	if err != nil {
		return analyze.Rule{}, err
	}
	rule := analyze.Rule{
		File:        p.file,
		Line:        n.Line,
		Labels:      r.Labels,
		Annotations: r.Annotations,
	}
	switch {
	case record != "" && alert != "":
		return analyze.Rule{}, p.fail(n.Line, "%s: only one of 'alert' and 'record' may be set (alert %q, record %q)", where, alert, record)
	case alert != "":
		rule.Kind, rule.Name = analyze.RuleAlerting, alert
	case record != "":
		rule.Kind, rule.Name = analyze.RuleRecording, record
	default:
		return analyze.Rule{}, p.fail(n.Line, "%s: one of 'alert' or 'record' must be set", where)
	}
	where = fmt.Sprintf("%s (%s)", where, rule.Name)
	expr, err := p.scalar(&r.Expr, "%s: expr", where)
	if err != nil {
		return analyze.Rule{}, err
	}
	rule.Expr = strings.TrimSpace(expr)
	if rule.Expr == "" {
		return analyze.Rule{}, p.fail(n.Line, "%s: 'expr' must be set", where)
	}
	if rule.For, err = p.duration(&r.For, "%s: for", where); err != nil {
		return analyze.Rule{}, err
	}
	return rule, nil
}

// scalar returns the text of a scalar field, "" when it is absent or null.
func (p *parser) scalar(n *yaml.Node, format string, args ...any) (string, error) {
	n = yamlnode.Resolve(n)
	switch {
	case n.Kind == 0 || yamlnode.IsNull(n):
		return "", nil
	case n.Kind != yaml.ScalarNode:
		return "", p.fail(n.Line, "%s must be a string, not a %s", fmt.Sprintf(format, args...), yamlnode.KindName(n))
	}
	return n.Value, nil
}

// duration reads a Prometheus duration ("5m", "1h30m", "1d"); absent is 0.
func (p *parser) duration(n *yaml.Node, format string, args ...any) (time.Duration, error) {
	s, err := p.scalar(n, format, args...)
	if err != nil || s == "" {
		return 0, err
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, p.fail(yamlnode.Resolve(n).Line, "%s: %v", fmt.Sprintf(format, args...), err)
	}
	return time.Duration(d), nil
}

// decodeError reports a failure to decode n into a struct at the line yaml.v3 names, or at n.
func (p *parser) decodeError(n *yaml.Node, prefix string, err error) error {
	line, msg := yamlnode.ErrorLine(err)
	if line == 0 {
		line = n.Line
	}
	return p.fail(line, "%s%s", prefix, msg)
}

package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
)

// exprParser reads back what is written: the default Prometheus 3 parser, as promtool and
// the server use it.
var exprParser = parser.NewParser(parser.Options{})

// prometheusRule is a PrometheusRule resource of the Prometheus Operator
// (monitoring.coreos.com/v1), with the fields blindspot writes in a fixed order.
type prometheusRule struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       ruleSpec   `yaml:"spec"`
}

type objectMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

type ruleSpec struct {
	Groups []rulefmt.RuleGroup `yaml:"groups"`
}

// Render writes one rule file: a Prometheus rule file with one group, or a PrometheusRule
// resource when o.RulesFormat is prometheus-operator, starting with the generated-code
// header. Every expression is printed with the PromQL library and must parse back to the
// same tree; the groups must pass rulefmt's validation (expressions, label names and values,
// templates) — an error names the file and the rule.
func Render(f generate.RuleFile, o generate.Options) ([]byte, error) {
	o = generate.DefaultOptions(o)
	if err := validateOptions(o); err != nil {
		return nil, err
	}
	content, err := render(f, o)
	if err != nil {
		return nil, fmt.Errorf("rendering rule file %s: %w", f.Name, err)
	}
	return content, nil
}

func render(f generate.RuleFile, o generate.Options) ([]byte, error) {
	group := rulefmt.RuleGroup{Name: f.Group, Rules: make([]rulefmt.Rule, 0, len(f.Alerts))}
	for _, a := range f.Alerts {
		if a.Expr == nil {
			return nil, fmt.Errorf("alert %s has no expression", a.Name)
		}
		expr, err := printExpr(a.Expr)
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", a.Name, err)
		}
		group.Rules = append(group.Rules, rulefmt.Rule{
			Alert:       a.Name,
			Expr:        expr,
			For:         model.Duration(a.For),
			Labels:      a.Labels,
			Annotations: a.Annotations,
		})
	}

	var doc any = rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{group}}
	if o.RulesFormat == FormatOperator {
		name := o.Operator.NamePrefix + resourceName(f.Name)
		if !isDNSSubdomain(name) {
			return nil, fmt.Errorf("%q is not a valid Kubernetes object name", name)
		}
		doc = prometheusRule{
			APIVersion: "monitoring.coreos.com/v1",
			Kind:       "PrometheusRule",
			Metadata:   objectMeta{Name: name, Namespace: o.Operator.Namespace, Labels: o.Operator.Labels},
			Spec:       ruleSpec{Groups: []rulefmt.RuleGroup{group}},
		}
	}

	var buf bytes.Buffer
	buf.WriteString("# " + generate.Header + "\n")
	// Rules adapted from public work carry their licence notice (CC BY 4.0 requires it).
	for _, a := range f.Attribution {
		for _, line := range strings.Split(a, "\n") {
			buf.WriteString(strings.TrimRight("# "+line, " ") + "\n")
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out := buf.Bytes()

	// Validate what was written, read back from the bytes.
	groups := out
	if o.RulesFormat == FormatOperator {
		var err error
		if groups, err = operatorGroups(out); err != nil {
			return nil, err
		}
	}
	if err := validateGroups(groups); err != nil {
		return nil, err
	}
	return out, nil
}

// operatorGroups is the spec of a rendered PrometheusRule as a rule file: {groups: …}.
func operatorGroups(content []byte) ([]byte, error) {
	var res struct {
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(content, &res); err != nil {
		return nil, fmt.Errorf("reading the PrometheusRule back: %w", err)
	}
	return yaml.Marshal(&res.Spec)
}

// validateGroups runs rulefmt's validation, as `promtool check rules` does, accepting UTF-8
// names as Prometheus 3 does.
func validateGroups(content []byte) error {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, errs := rulefmt.Parse(content, false, model.UTF8Validation, exprParser, logger)
	return errors.Join(errs...)
}

// printExpr prints an expression with the PromQL library and checks that it parses back to
// the same tree: the printer adds no parentheses, so a tree built with the wrong precedence
// would print as a different query.
func printExpr(e parser.Expr) (string, error) {
	s := e.String()
	back, err := exprParser.ParseExpr(s)
	if err != nil {
		return "", fmt.Errorf("the expression %s does not parse: %w", s, err)
	}
	if want, got := shape(e), shape(back); want != got {
		return "", fmt.Errorf("the expression %s parses as a different tree: %s, built as %s", s, got, want)
	}
	if again := back.String(); again != s {
		return "", fmt.Errorf("the expression %s prints as %s once parsed", s, again)
	}
	return s, nil
}

// shape describes a syntax tree in prefix order: each node's own part (its operator,
// function, range or leaf) and its number of children, which together fix the tree. Brackets
// are left out; the grouping they express is in the order.
func shape(e parser.Expr) string {
	var b strings.Builder
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n.(type) {
		case nil, *parser.ParenExpr: // Inspect ends each subtree with nil
			return nil
		}
		own := n.String()
		if s, ok := n.(interface{ ShortString() string }); ok {
			own = s.ShortString()
		}
		fmt.Fprintf(&b, "%T %s /%s; ", n, strconv.Quote(own), strconv.Itoa(len(parser.Children(n))))
		return nil
	})
	return strings.TrimSuffix(b.String(), "; ")
}

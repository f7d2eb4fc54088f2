package dashboard

import (
	"regexp"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Placeholder replaces a dashboard variable that is not a duration and whose name cannot be
// kept in its placeholder (see VariablePlaceholder). It is a valid metric name, label name
// and label value, so selectors stay parseable.
const Placeholder = "__var__"

// placeholderName is the name of a variable VariablePlaceholder keeps: letters and digits,
// single underscores between them.
var placeholderName = regexp.MustCompile(`^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*$`)

// placeholderRef finds the placeholders of a substituted value: the named ones and the
// anonymous Placeholder.
var placeholderRef = regexp.MustCompile(`__var_([A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)__|__var__`)

// VariablePlaceholder is what Substitute writes for variable name: `__var_job__` for $job, so
// that a matcher still says which variable it holds (`job="$job"` becomes
// `job="__var_job__"`); Placeholder for a name that cannot be told back from the text around
// it (leading, trailing or double underscores, dots).
func VariablePlaceholder(name string) string {
	if !placeholderName.MatchString(name) {
		return Placeholder
	}
	return "__var_" + name + "__"
}

// HasVariable reports whether a substituted value holds a variable.
func HasVariable(value string) bool { return placeholderRef.MatchString(value) }

// ExpandVariables replaces the placeholders of a substituted value with values: value(name)
// for a named one ("" for Placeholder, whose name is lost). It returns false when value
// returns false for some variable.
func ExpandVariables(s string, value func(name string) (string, bool)) (string, bool) {
	ok := true
	out := placeholderRef.ReplaceAllStringFunc(s, func(ph string) string {
		m := placeholderRef.FindStringSubmatch(ph)
		v, found := value(m[1])
		ok = ok && found
		return v
	})
	return out, ok
}

// VariablesIn returns the names of the variables a substituted value holds, in order; "" for
// an anonymous Placeholder.
func VariablesIn(s string) []string {
	var out []string
	for _, m := range placeholderRef.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// placeholderDuration replaces $__interval, $__rate_interval, $__range and any variable used
// where PromQL wants a duration (inside [ ] or after offset).
const placeholderDuration = "5m"

// variableRef matches ${name}, ${name:format}, [[name]], [[name:format]] and $name.
var variableRef = regexp.MustCompile(`\$\{([A-Za-z_][\w.]*)(?::[^}]*)?\}|\[\[([A-Za-z_][\w.]*)(?::[^\]]*)?\]\]|\$([A-Za-z_]\w*)`)

// Substitute replaces the Grafana variables of a query so that the PromQL parser accepts it.
func Substitute(expr string) string {
	var b strings.Builder
	last := 0
	for _, m := range variableRef.FindAllStringSubmatchIndex(expr, -1) {
		b.WriteString(expr[last:m[0]])
		var name string
		for g := 1; g <= 3; g++ {
			if m[2*g] >= 0 {
				name = expr[m[2*g]:m[2*g+1]]
			}
		}
		b.WriteString(replacement(name, expr[:m[0]]))
		last = m[1]
	}
	b.WriteString(expr[last:])
	return b.String()
}

func replacement(name, before string) string {
	switch name {
	case "__interval_ms", "__range_ms", "__range_s":
		// Numbers, written as `[${__range_s}s]` or used in arithmetic.
		return "300"
	case "__interval", "__rate_interval", "__range", "__auto_interval":
		return placeholderDuration
	}
	before = strings.TrimRight(before, " \t\n")
	if strings.HasSuffix(before, "[") || strings.HasSuffix(before, ":") || strings.HasSuffix(before, "offset") {
		return placeholderDuration
	}
	return VariablePlaceholder(name)
}

// NewQuery substitutes the variables of expr and parses it, recording a parse failure on the
// query instead of returning it.
func NewQuery(panel, expr string) analyze.DashboardQuery {
	q := analyze.DashboardQuery{Panel: panel, Expr: expr}
	parsed, err := analyze.ParseExpr(Substitute(expr))
	if err != nil {
		q.ParseError = err.Error()
		return q
	}
	q.Parsed = parsed
	return q
}

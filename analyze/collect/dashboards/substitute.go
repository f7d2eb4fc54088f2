package dashboards

import (
	"regexp"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Placeholder replaces every dashboard variable that is not a duration. It is a valid metric
// name, label name and label value, so selectors stay parseable: `job="$job"` becomes
// `job="__var__"`. A matcher whose value contains it accepts any value, since the variable
// may hold anything.
const Placeholder = "__var__"

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
	return Placeholder
}

// NewQuery substitutes the variables of expr and parses it, recording a parse failure on the
// query instead of returning it.
func NewQuery(panel, expr string) Query {
	q := Query{Panel: panel, Expr: expr}
	parsed, err := analyze.ParseExpr(Substitute(expr))
	if err != nil {
		q.ParseError = err.Error()
		return q
	}
	q.Parsed = parsed
	return q
}

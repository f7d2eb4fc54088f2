package analyze

import (
	"github.com/prometheus/prometheus/promql/parser"
)

// exprParser is the one PromQL parser blindspot uses for reading expressions.
// Experimental functions are accepted: a server may have them enabled, and an expression it
// loaded must not be reported as unparseable because blindspot is stricter than the server.
var exprParser = parser.NewParser(parser.Options{EnableExperimentalFunctions: true})

// ParseExpr parses a PromQL expression with the pinned Prometheus parser.
func ParseExpr(s string) (parser.Expr, error) { return exprParser.ParseExpr(s) }

// NewRule fills the parsed fields of r from r.Expr, recording a parse failure instead of
// returning it: an unparseable expression is part of what the audit reports, not a reason to
// stop.
func NewRule(r Rule) Rule {
	expr, err := ParseExpr(r.Expr)
	if err != nil {
		r.ParseError = err.Error()
		return r
	}
	r.Parsed = expr
	return r
}

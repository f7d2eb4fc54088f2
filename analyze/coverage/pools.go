package coverage

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// PoolAbsentAlerts returns the alerting rules that fire when the scrape pool has no targets:
// a comparison that holds for 0 (== 0, < 1, <= 0) on an expression selecting
// promqlbuild.PoolTargetsMetric with scrape_job matchers that accept the pool. A pool whose targets get
// their job label from relabeling cannot be watched through up, whose job is not known.
// Rules that fail at every evaluation (health "err") cover nothing.
func (a *Analysis) PoolAbsentAlerts(pool string) []RuleRef {
	var out []RuleRef
	for _, r := range a.rules.alerts {
		if firesOnEmptyPool(r.Parsed, pool) {
			out = append(out, refOf(r, a.opts.RunbookAnnotation))
		}
	}
	return out
}

func firesOnEmptyPool(expr parser.Expr, pool string) bool {
	found := false
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		be, ok := n.(*parser.BinaryExpr)
		if !ok || found || !be.Op.IsComparisonOperator() {
			return nil
		}
		side, n2, flipped := be.LHS, be.RHS, false
		if _, ok := unparen(side).(*parser.NumberLiteral); ok {
			side, n2, flipped = be.RHS, be.LHS, true
		}
		lit, ok := unparen(n2).(*parser.NumberLiteral)
		if !ok || !selectsPool(side, pool) {
			return nil
		}
		l, r := 0.0, lit.Val
		if flipped {
			l, r = r, l
		}
		found = holds(be.Op, l, r)
		return nil
	})
	return found
}

// selectsPool says whether expr selects promqlbuild.PoolTargetsMetric of the pool.
func selectsPool(expr parser.Expr, pool string) bool {
	found := false
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || MetricName(vs) != promqlbuild.PoolTargetsMetric {
			return nil
		}
		accepts := true
		for _, m := range vs.LabelMatchers {
			if m.Name == "scrape_job" && !m.Matches(pool) {
				accepts = false
			}
		}
		found = found || accepts
		return nil
	})
	return found
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

func holds(op parser.ItemType, l, r float64) bool {
	switch op {
	case parser.EQLC:
		return l == r
	case parser.NEQ:
		return l != r
	case parser.LSS:
		return l < r
	case parser.LTE:
		return l <= r
	case parser.GTR:
		return l > r
	case parser.GTE:
		return l >= r
	}
	return false
}

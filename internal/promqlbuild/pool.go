package promqlbuild

import (
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// PoolTargetsMetric is Prometheus's own gauge of the active targets of each scrape pool,
// labelled scrape_job="<job_name>" by Prometheus 2.x and 3.x alike. It is stored only when
// Prometheus scrapes itself.
const PoolTargetsMetric = "prometheus_target_scrape_pool_targets"

// PoolSelector selects prometheus_target_scrape_pool_targets{scrape_job="…"}.
func PoolSelector(pool string) *parser.VectorSelector {
	return &parser.VectorSelector{Name: PoolTargetsMetric, LabelMatchers: []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, PoolTargetsMetric),
		labels.MustNewMatcher(labels.MatchEqual, "scrape_job", pool),
	}}
}

// PoolEmpty is prometheus_target_scrape_pool_targets{scrape_job="…"} == 0: the scrape pool
// has no active target, whatever job label relabeling would have given them.
func PoolEmpty(pool string) parser.Expr {
	return &parser.BinaryExpr{Op: parser.EQLC, LHS: PoolSelector(pool), RHS: &parser.NumberLiteral{Val: 0}}
}

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

// PoolEmpty fires when the scrape pool has no active target, whatever job label relabeling
// would have given them:
//
//	min without (instance, job) (prometheus_target_scrape_pool_targets{scrape_job="…"}) == 0
//	  or absent(prometheus_target_scrape_pool_targets{scrape_job="…"})
//
// The gauge is 0 once a pool's discovered targets were all dropped; a pool whose discovery
// never sent a target group has no gauge at all in Prometheus 2.x (absent). Dropping the
// instance and job of the Prometheus that was scraped gives both branches the same labels:
// scrape_job, and whatever identifies the server (external labels, a fleet's scope).
func PoolEmpty(pool string) parser.Expr {
	return &parser.BinaryExpr{
		Op: parser.LOR,
		LHS: &parser.BinaryExpr{
			Op: parser.EQLC,
			LHS: &parser.AggregateExpr{
				Op:       parser.MIN,
				Without:  true,
				Grouping: []string{"instance", "job"},
				Expr:     PoolSelector(pool),
			},
			RHS: &parser.NumberLiteral{Val: 0},
		},
		RHS:            &parser.Call{Func: parser.Functions["absent"], Args: parser.Expressions{PoolSelector(pool)}},
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany},
	}
}

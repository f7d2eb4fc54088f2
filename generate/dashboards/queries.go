package dashboards

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// rateIntervalStandIn is the range that matrix selectors carry in the syntax tree until the
// printed expression gets Grafana's $__rate_interval, which PromQL cannot hold. It is a range
// no dashboard would use; only its occurrences outside string literals are replaced, so a job
// or metric name containing the same text is left alone.
const rateIntervalStandIn = 4242 * 24 * time.Hour

// rateInterval is what the stand-in becomes: Grafana's interval for rate() queries.
const rateInterval = "[$__rate_interval]"

// errorPattern selects log lines that report errors in the error-rate panel.
const errorPattern = "(?i)error|exception|fatal"

// promQL prints expr with the Prometheus library and puts $__rate_interval in place of the
// stand-in range of every matrix selector.
func promQL(expr parser.Expr) (string, error) {
	ranges := 0
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if _, ok := n.(*parser.MatrixSelector); ok {
			ranges++
		}
		return nil
	})
	standIn := "[" + model.Duration(rateIntervalStandIn).String() + "]"
	out, n := replaceOutsideStrings(expr.String(), standIn, rateInterval)
	if n != ranges {
		return "", fmt.Errorf("printing %s: found %d of %d ranges to replace with %s", expr, n, ranges, rateInterval)
	}
	return out, nil
}

// replaceOutsideStrings replaces old by new in s wherever old does not stand inside a PromQL
// string literal ("…", '…' with backslash escapes, `…` raw), and counts the replacements.
func replaceOutsideStrings(s, old, new string) (string, int) {
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && quote != '`' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
			b.WriteByte(c)
		case strings.HasPrefix(s[i:], old):
			b.WriteString(new)
			i += len(old) - 1
			n++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), n
}

func sel(metric, job string) *parser.VectorSelector { return promqlbuild.Selector(metric, job) }

func call(name string, args ...parser.Expr) *parser.Call {
	return &parser.Call{Func: parser.Functions[name], Args: args}
}

func sum(e parser.Expr) *parser.AggregateExpr {
	return &parser.AggregateExpr{Op: parser.SUM, Expr: e}
}

// counterRate is sum(rate(metric{job}[$__rate_interval])).
func counterRate(metric, job string) parser.Expr {
	return sum(call("rate", &parser.MatrixSelector{VectorSelector: sel(metric, job), Range: rateIntervalStandIn}))
}

// age is time() - metric{job}: how old a last-success timestamp is.
func age(metric, job string) parser.Expr {
	return &parser.BinaryExpr{Op: parser.SUB, LHS: call("time"), RHS: sel(metric, job)}
}

// availability is avg(up{job}): the share of the job's targets that are up.
func availability(job string) parser.Expr {
	return &parser.AggregateExpr{Op: parser.AVG, Expr: sel("up", job)}
}

// alertStates selects the ALERTS series of the job's alerts: those labelled with the job
// (generated alerts keep it) and, by name, the existing alerts that cover it, which may not.
func alertStates(job string, alertNames []string) (parser.Expr, error) {
	byJob := sel("ALERTS", job)
	if len(alertNames) == 0 {
		return byJob, nil
	}
	names := slices.Clone(alertNames)
	slices.Sort(names)
	names = slices.Compact(names)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	m, err := labels.NewMatcher(labels.MatchRegexp, model.AlertNameLabel, strings.Join(quoted, "|"))
	if err != nil {
		return nil, fmt.Errorf("matching alert names: %w", err)
	}
	byName := &parser.VectorSelector{Name: "ALERTS", LabelMatchers: []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "ALERTS"), m,
	}}
	return &parser.BinaryExpr{
		Op: parser.LOR, LHS: byJob, RHS: byName,
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany},
	}, nil
}

// jobStream is the Loki stream selector of a job without known streams.
func jobStream(job string) string { return "{job=" + strconv.Quote(job) + "}" }

// errorRate counts the error lines of a stream per Grafana interval.
func errorRate(stream string) string {
	return "sum(count_over_time(" + stream + " |~ " + strconv.Quote(errorPattern) + " [$__interval]))"
}

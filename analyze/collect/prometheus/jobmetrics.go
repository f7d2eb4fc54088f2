package prometheus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// JobMetricsBatch is the most metric names one job_metrics query asks about. Each query is
// `group by (job, __name__) ({__name__=~"a|b|…"})`, and the answer is one small sample per
// (job, name) pair. 400 names keep a query's form body (and the URL of the GET client_golang
// falls back to) around 10-20 KiB. Prometheus turns an alternation of up to 256 literals into
// a set lookup in its index; 400 it matches against every metric name it holds, which costs
// the server more (see setMatchValues, which the history's queries keep to). The batches stay
// at 400: snapshots replay their answers by query text.
const JobMetricsBatch = 400

// jobMetricsParallel bounds the job_metrics queries in flight; the transport's MaxInFlight
// bounds all requests to the server on top of this.
const jobMetricsParallel = 4

// jobMetric is one (job, metric) pair a query found.
type jobMetric struct{ job, metric string }

// collectJobMetrics finds which job exposes which candidate business metric, and which job
// exposes which signature metric of a built-in ruleset (rulesets/packs, detect: what
// generate recognises a node exporter or a Prometheus by). The candidates are chosen with
// the embedded defaults only, never the user's business_metrics settings, so that a snapshot
// holds the same queries whatever configuration replays it; the coverage analysis applies
// include and exclude to what was found, which also keeps the signatures (node_, probe_,
// prometheus_ …, excluded families) out of the business metrics. Leaving the excluded
// families out of the query is what keeps it cheap: they are most of the series of a large
// server, while the signatures are a handful of names.
//
// The signatures are asked about in queries of their own, so that the candidate queries read
// exactly as before: a snapshot recorded before the packs existed (or before a pack was
// added) still replays its business metrics, and only recognises no pack. The metrics the
// rules join with (joinedMetrics) come last, in queries of their own for the same reason: a
// snapshot without them replays, and the coverage analysis does not know which jobs carry
// those metrics.
func collectJobMetrics(ctx context.Context, rec *Recorder, names []string, metadata map[string][]promv1.Metadata, ruleExprs []string) ([]jobMetric, error) {
	defaults, err := rulesets.DefaultBusiness()
	if err != nil {
		return nil, err
	}
	detect, err := rulesets.DetectNames()
	if err != nil {
		return nil, err
	}
	candidates, signatures := jobMetricCandidates(names, metadata, defaults), packSignatures(names, detect)
	queries, err := jobMetricQueries(candidates)
	if err != nil {
		return nil, err
	}
	candidateQueries := len(queries)
	signatureQueries, err := jobMetricQueries(signatures)
	if err != nil {
		return nil, err
	}
	queries = append(queries, signatureQueries...)
	// A joined name already asked about as a candidate or a signature is not asked again.
	asked := map[string]bool{}
	for _, n := range slices.Concat(candidates, signatures) {
		asked[n] = true
	}
	joined := slices.DeleteFunc(joinedMetrics(names, ruleExprs), func(n string) bool { return asked[n] })
	joinQueries, err := jobMetricQueries(joined)
	if err != nil {
		return nil, err
	}
	queries = append(queries, joinQueries...)
	vectors, errs := queryJobNames(ctx, rec, queries)
	var out []jobMetric
	for i, vec := range vectors {
		switch {
		case errs[i] == nil:
		case i < candidateQueries:
			return nil, fmt.Errorf("querying which jobs expose the candidate business metrics (query %d of %d): %w", i+1, candidateQueries, errs[i])
		case errors.Is(errs[i], errNotRecorded):
			continue // a snapshot from before the pack or the joins: that much is not known
		case i >= candidateQueries+len(signatureQueries):
			return nil, fmt.Errorf("querying which jobs expose the metrics rules join with (query %d of %d): %w",
				i-candidateQueries-len(signatureQueries)+1, len(joinQueries), errs[i])
		default:
			return nil, fmt.Errorf("querying which jobs expose the metrics that recognise a ruleset (query %d of %d): %w", i-candidateQueries+1, len(signatureQueries), errs[i])
		}
		for _, s := range vec {
			job, name := s.job, s.name
			if job == "" || name == "" {
				continue // a series without a job label belongs to no job to report
			}
			out = append(out, jobMetric{job: job, metric: name})
		}
	}
	return out, nil
}

// joinedMetrics picks, from the metric names the server knows, the names that rules combine
// with other series through a binary operator between two vectors (`* on(instance)
// group_left(nodename) node_uname_info`, `and on(instance) node_load1`), in the order of
// names. Such a join only yields elements for a job whose series meet the other side's, so
// the coverage analysis needs to know which jobs carry them. `or` needs no match and is
// left out, and so is up, whose jobs the targets tell. Expressions that do not parse are
// skipped: rules/broken and the rule checks report them.
func joinedMetrics(names, ruleExprs []string) []string {
	joined := map[string]bool{}
	for _, expr := range ruleExprs {
		parsed, err := analyze.ParseExpr(expr)
		if err != nil {
			continue
		}
		parser.Inspect(parsed, func(n parser.Node, _ []parser.Node) error {
			b, ok := n.(*parser.BinaryExpr)
			if !ok || b.Op == parser.LOR || b.LHS.Type() != parser.ValueTypeVector || b.RHS.Type() != parser.ValueTypeVector {
				return nil
			}
			for _, side := range []parser.Expr{b.LHS, b.RHS} {
				parser.Inspect(side, func(n parser.Node, _ []parser.Node) error {
					if vs, ok := n.(*parser.VectorSelector); ok {
						if name := selectorName(vs); name != "" && name != "up" {
							joined[name] = true
						}
					}
					return nil
				})
			}
			return nil
		})
	}
	var out []string
	for _, n := range names {
		if joined[n] {
			out = append(out, n)
		}
	}
	return out
}

// selectorName is the metric a selector names with an equality matcher, or "".
func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// packSignatures picks, from the metric names the server knows, the detect names of the
// packs, in the order of names. A detect name that is a business candidate as well is asked
// about twice, which costs nothing: the inventory keeps each (job, metric) pair once.
func packSignatures(names, detect []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := slices.BinarySearch(detect, n); ok {
			out = append(out, n)
		}
	}
	return out
}

// jobMetricCandidates picks, from the metric names the server knows, the counters and the
// last-success gauges that the defaults do not exclude, in the order of names.
func jobMetricCandidates(names []string, metadata map[string][]promv1.Metadata, defaults rulesets.Business) []string {
	exclude := rulesets.NewGlobs(defaults.Exclude)
	staleness := rulesets.NewGlobs(defaults.Staleness)
	var out []string
	for _, n := range names {
		if exclude.Match(n) {
			continue
		}
		if staleness.Match(n) || isCounter(n, metadata) {
			out = append(out, n)
		}
	}
	return out
}

// isCounter reports whether a series name is a counter by the server's metadata
// (analyze.IsCounter).
func isCounter(name string, metadata map[string][]promv1.Metadata) bool {
	return analyze.IsCounter(name, func(metric string) []string {
		var out []string
		for _, m := range metadata[metric] {
			out = append(out, string(m.Type))
		}
		return out
	})
}

// batchMatchers is one `__name__=~"a|b|…"` matcher per batch of JobMetricsBatch names, each
// name quoted so that it matches only itself.
func batchMatchers(names []string) ([]*labels.Matcher, error) {
	var out []*labels.Matcher
	for start := 0; start < len(names); start += JobMetricsBatch {
		m, err := namesMatcher(names[start:min(start+JobMetricsBatch, len(names))])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// namesMatcher is `__name__=~"a|b|…"`, each name quoted so that it matches only itself.
func namesMatcher(names []string) (*labels.Matcher, error) {
	return literalsMatcher(model.MetricNameLabel, names)
}

// literalsMatcher is `label=~"a|b|…"`, each value quoted so that it matches only itself.
func literalsMatcher(label string, values []string) (*labels.Matcher, error) {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return labels.NewMatcher(labels.MatchRegexp, label, strings.Join(quoted, "|"))
}

// jobMetricQueries builds one `group by (job, __name__) ({__name__=~"…"})` per batch of
// JobMetricsBatch names, each name quoted so that it matches only itself.
func jobMetricQueries(candidates []string) ([]string, error) {
	matchers, err := batchMatchers(candidates)
	if err != nil {
		return nil, fmt.Errorf("building the job_metrics query: %w", err)
	}
	var out []string
	for _, m := range matchers {
		out = append(out, aggregateOf(parser.GROUP, counterGrouping, m, 0).String())
	}
	return out, nil
}

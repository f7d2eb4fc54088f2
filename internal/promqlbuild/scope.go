package promqlbuild

import (
	"fmt"
	"maps"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// AddMatchers adds label="value" for every label of set to every vector selector of e, in
// place, in label order; a selector that already matches on a label keeps its own matcher.
// Rule packs add the job this way, fleet rules for a global ruler the member's labels.
func AddMatchers(e parser.Expr, set map[string]string) {
	keys := slices.Sorted(maps.Keys(set))
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		for _, k := range keys {
			if !slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool { return m.Name == k }) {
				vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, k, set[k]))
			}
		}
		return nil
	})
}

var seriesParser = parser.NewParser(parser.Options{})

// SeriesWith reads a test series in PromQL notation (metric{label="value"}), sets the labels
// of set on it, and prints it with the library: metric{…}, or {__name__="…",…} for a UTF-8
// metric name. It returns the printed series and its labels.
func SeriesWith(series string, set map[string]string) (string, labels.Labels, error) {
	lbls, err := seriesParser.ParseMetric(series)
	if err != nil {
		return "", labels.EmptyLabels(), fmt.Errorf("test series %s: %w", series, err)
	}
	b := labels.NewBuilder(lbls)
	for _, k := range slices.Sorted(maps.Keys(set)) {
		b.Set(k, set[k])
	}
	lbls = b.Labels()
	vs := &parser.VectorSelector{}
	lbls.Range(func(l labels.Label) {
		vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	if name := lbls.Get(model.MetricNameLabel); model.IsValidLegacyMetricName(name) {
		vs.Name = name
	}
	return vs.String(), lbls, nil
}

package rules

import (
	"fmt"
	"maps"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/generate"
)

// Scoped returns the rule files with the scope's label matchers added to every selector of
// every alert, to every input series of their tests, and to the labels the firing case
// expects: rules for one member of a fleet that a global ruler evaluates over all of them.
// The alerts Plan writes keep the labels of the series they select (comparisons, absent()
// with equality matchers, rate, time() - x), so the scope's labels are on the alert too.
// Files are returned unchanged when the scope is empty.
func Scoped(files []generate.RuleFile, scope map[string]string) ([]generate.RuleFile, error) {
	if len(scope) == 0 {
		return files, nil
	}
	keys := slices.Sorted(maps.Keys(scope))
	matchers := make([]*labels.Matcher, 0, len(keys))
	for _, k := range keys {
		m, err := labels.NewMatcher(labels.MatchEqual, k, scope[k])
		if err != nil {
			return nil, fmt.Errorf("scope label %s: %w", k, err)
		}
		matchers = append(matchers, m)
	}
	out := make([]generate.RuleFile, len(files))
	for i, f := range files {
		f.Alerts = slices.Clone(f.Alerts)
		for j, a := range f.Alerts {
			// The tree is parsed again from its printed form, so that the alert of the
			// unscoped file is left as it was.
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr.String())
			if err != nil {
				return nil, fmt.Errorf("scoping alert %s: %w", a.Name, err)
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					vs.LabelMatchers = withMatchers(vs.LabelMatchers, matchers)
				}
				return nil
			})
			a.Expr = expr
			if a.Test, err = scopedTest(a.Test, matchers); err != nil {
				return nil, fmt.Errorf("scoping the test of alert %s: %w", a.Name, err)
			}
			f.Alerts[j] = a
		}
		out[i] = f
	}
	return out, nil
}

// withMatchers adds the matchers whose label the selector does not match on yet.
func withMatchers(have, add []*labels.Matcher) []*labels.Matcher {
	out := slices.Clone(have)
	for _, m := range add {
		if !slices.ContainsFunc(have, func(h *labels.Matcher) bool { return h.Name == m.Name }) {
			out = append(out, m)
		}
	}
	return out
}

func scopedTest(tc generate.TestCase, matchers []*labels.Matcher) (generate.TestCase, error) {
	var err error
	scope := func(in []generate.Series) []generate.Series {
		out := make([]generate.Series, len(in))
		for i, s := range in {
			ms, perr := parser.NewParser(parser.Options{}).ParseMetricSelector(s.Series)
			if perr != nil && err == nil {
				err = fmt.Errorf("series %s: %w", s.Series, perr)
			}
			vs := &parser.VectorSelector{LabelMatchers: withMatchers(ms, matchers)}
			out[i] = generate.Series{Series: vs.String(), Values: s.Values}
		}
		return out
	}
	tc.FailingSeries = scope(tc.FailingSeries)
	tc.HealthySeries = scope(tc.HealthySeries)
	extra := make([][]generate.Series, len(tc.ExtraHealthy))
	for i, w := range tc.ExtraHealthy {
		extra[i] = scope(w)
	}
	tc.ExtraHealthy = extra
	tc.FiringLabels = maps.Clone(tc.FiringLabels)
	for _, m := range matchers {
		tc.FiringLabels[m.Name] = m.Value
	}
	return tc, err
}

package rules

import (
	"fmt"
	"maps"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// Scoped returns the rule files with the scope's labels matched by every selector of every
// alert, set on every input series of their tests, and expected on the firing alert: rules
// for one member of a fleet that a global ruler evaluates over all of them. The alerts Plan
// writes keep the labels of the series they select (comparisons, absent() with equality
// matchers, rate, time() - x), so the scope's labels are on the alert too. Files are
// returned unchanged when the scope is empty.
func Scoped(files []generate.RuleFile, scope map[string]string) ([]generate.RuleFile, error) {
	if len(scope) == 0 {
		return files, nil
	}
	for k := range scope {
		if !model.LabelName(k).IsValidLegacy() {
			return nil, fmt.Errorf("scope label %q is not a label name", k)
		}
	}
	out := make([]generate.RuleFile, len(files))
	for i, f := range files {
		alerts := make([]generate.Alert, len(f.Alerts))
		for j, a := range f.Alerts {
			// Parsed again from its printed form, so that the unscoped alert stays as it was.
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr.String())
			if err != nil {
				return nil, fmt.Errorf("scoping alert %s: %w", a.Name, err)
			}
			promqlbuild.AddMatchers(expr, scope)
			a.Expr = expr
			if a.Test, err = scopedTest(a.Test, scope); err != nil {
				return nil, fmt.Errorf("scoping the test of alert %s: %w", a.Name, err)
			}
			alerts[j] = a
		}
		f.Alerts = alerts
		out[i] = f
	}
	return out, nil
}

func scopedTest(tc generate.TestCase, scope map[string]string) (generate.TestCase, error) {
	world := func(in []generate.Series) ([]generate.Series, error) {
		out := make([]generate.Series, len(in))
		for i, s := range in {
			printed, _, err := promqlbuild.SeriesWith(s.Series, scope)
			if err != nil {
				return nil, err
			}
			out[i] = generate.Series{Series: printed, Values: s.Values}
		}
		return out, nil
	}
	var err error
	if tc.FailingSeries, err = world(tc.FailingSeries); err != nil {
		return tc, err
	}
	if tc.HealthySeries, err = world(tc.HealthySeries); err != nil {
		return tc, err
	}
	extra := make([][]generate.Series, len(tc.ExtraHealthy))
	for i, w := range tc.ExtraHealthy {
		if extra[i], err = world(w); err != nil {
			return tc, err
		}
	}
	tc.ExtraHealthy = extra
	tc.FiringLabels = maps.Clone(tc.FiringLabels)
	maps.Copy(tc.FiringLabels, scope)
	return tc, nil
}

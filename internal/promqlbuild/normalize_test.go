package promqlbuild

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestNormalize(t *testing.T) {
	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true})
	norm := func(t *testing.T, s string) string {
		t.Helper()
		e, err := p.ParseExpr(s)
		if err != nil {
			t.Fatal(err)
		}
		return Normalize(e)
	}
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"Spacing, matcher order and duration notation do not matter.",
			`increase(prometheus_rule_evaluation_failures_total{job="p",instance="a"}[3m])>0`,
			`increase( prometheus_rule_evaluation_failures_total{instance="a", job="p"}[180s] ) > 0`, true},
		{"The order of by and on labels does not matter.",
			`sum by (job, instance) (rate(x[5m])) / on (job, instance) group_left (a, b) y`,
			`sum by (instance, job) (rate(x[5m])) / on (instance, job) group_left (b, a) y`, true},
		{"A different window is a different expression.",
			`increase(m[3m]) > 0`, `increase(m[5m]) > 0`, false},
		{"A different matcher value is a different expression.",
			`up{job="a"} == 0`, `up{job="b"} == 0`, false},
		{"Parentheses that change the meaning are kept.",
			`(a + b) * c`, `a + b * c`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			na, nb := norm(t, tc.a), norm(t, tc.b)
			if (na == nb) != tc.same {
				t.Errorf("Normalize(%s) = %s, Normalize(%s) = %s; same: %v, want %v", tc.a, na, tc.b, nb, na == nb, tc.same)
			}
		})
	}

	t.Run("The expression given is not changed.", func(t *testing.T) {
		e, err := p.ParseExpr(`up{job="b",instance="a"}`)
		if err != nil {
			t.Fatal(err)
		}
		before := e.String()
		Normalize(e)
		if e.String() != before {
			t.Errorf("Normalize changed %s into %s", before, e.String())
		}
	})
}

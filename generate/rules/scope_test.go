package rules

import (
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

func TestScoped(t *testing.T) {
	plan := func(t *testing.T, mode string) []generate.RuleFile {
		t.Helper()
		files, err := Plan(fixtureFindings(), fixtureOptions(FormatPrometheus, mode))
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	scoped := func(t *testing.T, files []generate.RuleFile, cluster string) []generate.RuleFile {
		t.Helper()
		out, err := Scoped(files, map[string]string{"cluster": cluster})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("Every selector of every alert carries the scope, and the unscoped plan is left as it was.", func(t *testing.T) {
		files := plan(t, modes[0])
		before := files[0].Alerts[0].Expr.String()
		for _, f := range scoped(t, files, "b") {
			for _, a := range f.Alerts {
				expr := a.Expr.String()
				if strings.Count(expr, `cluster="b"`) != strings.Count(expr, "job=") || a.Test.FiringLabels["cluster"] != "b" {
					t.Errorf("%s: %s, firing %v", a.Name, expr, a.Test.FiringLabels)
				}
			}
		}
		if files[0].Alerts[0].Expr.String() != before {
			t.Errorf("the unscoped alert changed: %s", files[0].Alerts[0].Expr)
		}
	})

	t.Run("An empty scope changes nothing.", func(t *testing.T) {
		files := plan(t, modes[0])
		out, err := Scoped(files, nil)
		if err != nil || len(out) != len(files) || out[0].Alerts[0].Expr != files[0].Alerts[0].Expr {
			t.Errorf("Scoped(nil) = %v, %v", out, err)
		}
	})

	// promtool runs each scoped alert in its own worlds (it fires for its cluster's failing
	// series) and in one more: its cluster healthy while another cluster fails, where it
	// must stay silent. The absolute mode only: the relative worlds span a week of
	// evaluations, and scoping treats their series the same way.
	servers.ForEachPromtool(t, func(t *testing.T, bin string) {
		for _, mode := range []string{ModeAbsolute} {
			files := plan(t, mode)
			mine, other := scoped(t, files, "b"), scoped(t, files, "a")
			for i, f := range mine {
				for j, a := range f.Alerts {
					failingElsewhere := other[i].Alerts[j].Test.FailingSeries
					a.Test.ExtraHealthy = append(a.Test.ExtraHealthy, append(a.Test.HealthySeries, failingElsewhere...))
					t.Run(mode+"/"+a.Name, func(t *testing.T) {
						t.Parallel()
						dir := t.TempDir()
						out := runPromtool(t, bin, dir, "test", "rules", writeAlertTest(t, dir, a))
						if strings.Contains(out, "WARNING") {
							t.Errorf("promtool test rules warned:\n%s", out)
						}
					})
				}
			}
		}
	})
}

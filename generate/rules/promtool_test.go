package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/internal/servers"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
)

// runPromtool runs promtool in dir and fails the test when it does not exit with 0.
func runPromtool(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolChecksTheGoldenFiles(t *testing.T) {
	servers.ForEachPromtool(t, func(t *testing.T, bin string) {
		for _, mode := range modes {
			files, err := filepath.Glob(filepath.Join(goldenDir(FormatPrometheus, mode), "*.yaml"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no golden files in %s (%v)", goldenDir(FormatPrometheus, mode), err)
			}
			for i, f := range files {
				if files[i], err = filepath.Abs(f); err != nil {
					t.Fatal(err)
				}
			}
			out := runPromtool(t, bin, t.TempDir(), append([]string{"check", "rules"}, files...)...)
			if strings.Contains(out, "WARNING") {
				t.Errorf("promtool check rules warned:\n%s", out)
			}
		}
	})
}

// promtool's unit-test file, the parts used here.
type (
	promtoolTestFile struct {
		RuleFiles          []string       `yaml:"rule_files"`
		EvaluationInterval model.Duration `yaml:"evaluation_interval"`
		Tests              []promtoolTest `yaml:"tests"`
	}
	promtoolTest struct {
		Name          string            `yaml:"name"`
		Interval      model.Duration    `yaml:"interval"`
		InputSeries   []generate.Series `yaml:"input_series"`
		AlertRuleTest []alertRuleTest   `yaml:"alert_rule_test"`
	}
	alertRuleTest struct {
		EvalTime  model.Duration `yaml:"eval_time"`
		Alertname string         `yaml:"alertname"`
		ExpAlerts []expAlert     `yaml:"exp_alerts"`
	}
	expAlert struct {
		ExpLabels map[string]string `yaml:"exp_labels"`
	}
)

// The test cases of the plan are what generate/unittests turns into promtool tests. Here
// promtool runs them against each alert alone, without its annotations (whose expansion is
// that generator's business): the alert fires in the failing world at the eval time with
// exactly the firing labels, and is silent in every healthy world.
func TestPromtoolRunsTheTestCases(t *testing.T) {
	if testing.Short() {
		t.Skip("the relative worlds span a week of evaluations")
	}
	servers.ForEachPromtool(t, func(t *testing.T, bin string) {
		for _, mode := range modes {
			files, err := Plan(fixtureFindings(), fixtureOptions(FormatPrometheus, mode))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				for _, a := range f.Alerts {
					t.Run(a.Name, func(t *testing.T) {
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

// writeAlertTest writes <Alert>.yaml with the alert alone and <Alert>.test.yaml with its
// worlds, and returns the test file's name.
func writeAlertTest(t *testing.T, dir string, a generate.Alert) string {
	t.Helper()
	expr, err := printExpr(a.Expr)
	if err != nil {
		t.Fatal(err)
	}
	rules := rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{{
		Name:  "test",
		Rules: []rulefmt.Rule{{Alert: a.Name, Expr: expr, For: model.Duration(a.For), Labels: a.Labels}},
	}}}
	tc := a.Test
	world := func(name string, series []generate.Series, firing bool) promtoolTest {
		art := alertRuleTest{EvalTime: model.Duration(tc.EvalTime), Alertname: a.Name, ExpAlerts: []expAlert{}}
		if firing {
			art.ExpAlerts = []expAlert{{ExpLabels: tc.FiringLabels}}
		}
		return promtoolTest{Name: name, Interval: model.Duration(tc.Interval), InputSeries: series, AlertRuleTest: []alertRuleTest{art}}
	}
	tests := promtoolTestFile{
		RuleFiles:          []string{a.Name + ".yaml"},
		EvaluationInterval: model.Duration(60e9),
		Tests: []promtoolTest{
			world(a.Name+" fails", tc.FailingSeries, true),
			world(a.Name+" is healthy", tc.HealthySeries, false),
		},
	}
	for _, extra := range tc.ExtraHealthy {
		tests.Tests = append(tests.Tests, world(a.Name+" is healthy (extra)", extra, false))
	}
	for _, extra := range tc.ExtraFailing {
		tests.Tests = append(tests.Tests, world(a.Name+" fails (extra)", extra, true))
	}
	for name, v := range map[string]any{a.Name + ".yaml": rules, a.Name + ".test.yaml": tests} {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return a.Name + ".test.yaml"
}

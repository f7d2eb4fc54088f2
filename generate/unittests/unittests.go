// Package unittests writes the promtool unit tests of generated rule files: for every alert,
// one test group where its failure happens and it fires with exact labels and annotations after
// its `for`, and one per healthy world where it stays silent.
//
// The expected annotations are expanded the way Prometheus expands them: the alert's expression
// is evaluated over the failing series with the PromQL engine, and each annotation is expanded
// with the Prometheus template expander and the $labels and $value of that sample. The same
// evaluation checks each test case before anything is written: the failing series make the
// alert fire at the eval time with exactly the labels it declares, having held for its `for`
// at every evaluation before, and the healthy series leave its expression empty.
//
// The evaluation is Prometheus 3's. Prometheus 2 computes the same values as long as no range
// window at an evaluation straddles a change of slope in the failing series (2 includes the
// sample at the window's start, 3 does not): test cases keep their series linear over every
// window a $value is taken from.
package unittests

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
)

// EvaluationInterval is how often promtool evaluates the rules of a test file.
const EvaluationInterval = time.Minute

// ErrPrometheusRule is returned for rule files rendered as PrometheusRule resources: promtool
// reads only Prometheus rule files, so there is nothing a test file could point to.
var ErrPrometheusRule = errors.New("promtool cannot load PrometheusRule resources, so they get no unit tests")

// Render returns the promtool unit test file of the rule file rules/<f.Name>.yaml, to be
// stored as rules/tests/<f.Name>.test.yaml. Its rule_files entry is relative to the test file:
// promtool resolves it from the test file's directory, so `promtool test rules
// rules/tests/*.test.yaml` works from any working directory.
func Render(f generate.RuleFile, o generate.Options) ([]byte, error) {
	o = generate.DefaultOptions(o)
	if o.RulesFormat == "prometheus-operator" {
		return nil, fmt.Errorf("rendering unit tests of %s: %w", f.Name, ErrPrometheusRule)
	}
	if o.RulesFormat != "prometheus" {
		return nil, fmt.Errorf("rendering unit tests of %s: unknown rules format %q", f.Name, o.RulesFormat)
	}
	if f.Name == "" || strings.ContainsAny(f.Name, `/\`) || f.Name == "." || f.Name == ".." {
		return nil, fmt.Errorf("rendering unit tests: rule file name %q is not a file stem", f.Name)
	}
	if len(f.Alerts) == 0 {
		return nil, fmt.Errorf("rendering unit tests of %s: the rule file has no alerts", f.Name)
	}

	tf := testFile{
		RuleFiles:          []string{"../" + f.Name + ".yaml"},
		EvaluationInterval: duration(EvaluationInterval),
	}
	for _, a := range f.Alerts {
		groups, err := alertTests(a)
		if err != nil {
			return nil, fmt.Errorf("rendering unit tests of %s: alert %s: %w", f.Name, a.Name, err)
		}
		tf.Tests = append(tf.Tests, groups...)
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s\n", generate.Header)
	fmt.Fprintf(&buf, "# promtool unit tests of ../%s.yaml; run with: promtool test rules %s.test.yaml\n", f.Name, f.Name)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(tf); err != nil {
		return nil, fmt.Errorf("rendering unit tests of %s: %w", f.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rendering unit tests of %s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// alertTests builds the test groups of one alert: the failing one, then one per healthy world.
func alertTests(a generate.Alert) ([]testGroup, error) {
	tc := a.Test
	if a.Expr == nil {
		return nil, errors.New("it has no expression")
	}
	if tc.Interval < 0 || tc.EvalTime <= 0 {
		return nil, fmt.Errorf("its test case has interval %s and eval time %s", tc.Interval, tc.EvalTime)
	}
	if tc.Interval == 0 {
		tc.Interval = EvaluationInterval
	}
	if _, ok := tc.FiringLabels[model.AlertNameLabel]; ok {
		return nil, errors.New("its firing labels list alertname, which promtool adds itself")
	}
	if tc.EvalTime < a.For {
		return nil, fmt.Errorf("the failing case is evaluated at %s, before the alert's for (%s) has passed", tc.EvalTime, a.For)
	}

	firingWorlds := append([][]generate.Series{tc.FailingSeries}, tc.ExtraFailing...)
	firing := make([]expAlert, len(firingWorlds))
	for i, world := range firingWorlds {
		wtc := tc
		wtc.FailingSeries = world
		var err error
		if firing[i], err = expectFiring(a, wtc); err != nil {
			if i == 0 {
				return nil, fmt.Errorf("failing case: %w", err)
			}
			return nil, fmt.Errorf("failing world %d: %w", i+1, err)
		}
	}
	group := func(name string, ss []generate.Series, exp []expAlert) testGroup {
		return testGroup{
			Name:        name,
			Interval:    duration(tc.Interval),
			InputSeries: inputSeries(ss),
			AlertRuleTests: []alertRuleTest{{
				EvalTime:  duration(tc.EvalTime),
				Alertname: a.Name,
				ExpAlerts: exp,
			}},
		}
	}
	groups := []testGroup{group(a.Name+" fires when its failure happens", tc.FailingSeries, []expAlert{firing[0]})}
	for i, world := range tc.ExtraFailing {
		groups = append(groups, group(fmt.Sprintf("%s fires in failing world %d", a.Name, i+2), world, []expAlert{firing[i+1]}))
	}
	if a.Kind == generate.KindWatchdog {
		// A heartbeat fires always: that it does is the whole test.
		groups[0].Name = a.Name + " fires at every evaluation"
		return groups, nil
	}
	for i, healthy := range append([][]generate.Series{tc.HealthySeries}, tc.ExtraHealthy...) {
		name := a.Name + " stays silent while healthy"
		if i > 0 {
			name = fmt.Sprintf("%s stays silent in healthy world %d", a.Name, i+1)
		}
		if err := expectSilent(a, healthy, tc); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(name, a.Name+" "), err)
		}
		groups = append(groups, group(name, healthy, []expAlert{}))
	}
	return groups, nil
}

func inputSeries(ss []generate.Series) []series {
	out := make([]series, 0, len(ss))
	for _, s := range ss {
		out = append(out, series(s))
	}
	return out
}

// duration prints d the way Prometheus configuration spells durations ("1m", "1d1h").
func duration(d time.Duration) string { return model.Duration(d).String() }

// The file format of `promtool test rules`, in the field order of Prometheus' documentation.
type testFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Name           string          `yaml:"name"`
	Interval       string          `yaml:"interval"`
	InputSeries    []series        `yaml:"input_series"`
	AlertRuleTests []alertRuleTest `yaml:"alert_rule_test"`
}

type series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertRuleTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

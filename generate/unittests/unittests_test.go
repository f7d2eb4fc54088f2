package unittests_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	goldenfile "github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

func expr(t *testing.T, s string) parser.Expr {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(s)
	if err != nil {
		t.Fatalf("parsing %s: %v", s, err)
	}
	return e
}

// handBuilt is a rule file written without generate/rules: one alert of every kind, with
// annotations that use $labels, $value and Prometheus' template functions, so the expansion
// is tested independently of what the rules generator happens to write.
func handBuilt(t *testing.T) generate.RuleFile {
	owner := map[string]string{"severity": "critical", "team": "payments"}
	return generate.RuleFile{
		Name:  "checkout",
		Group: "blindspot-checkout",
		Alerts: []generate.Alert{
			{
				Name: "CheckoutTargetDown", Kind: generate.KindUp, Job: "checkout",
				Expr:   expr(t, `up{job="checkout"} == 0`),
				For:    2 * time.Minute,
				Labels: owner,
				Annotations: map[string]string{
					"summary":     `{{ $labels.job }} target {{ $labels.instance }} is down`,
					"description": `up is {{ $value }} for {{ $labels.instance }} ({{ $externalLabels.cluster }}{{ .ExternalURL }}).`,
				},
				Test: generate.TestCase{
					Interval:      time.Minute,
					FailingSeries: []generate.Series{{Series: `up{job="checkout", instance="10.0.0.1:8080"}`, Values: "1 1 0x10"}},
					HealthySeries: []generate.Series{{Series: `up{job="checkout", instance="10.0.0.1:8080"}`, Values: "1x12"}},
					EvalTime:      5 * time.Minute,
					FiringLabels:  map[string]string{"job": "checkout", "instance": "10.0.0.1:8080", "severity": "critical", "team": "payments"},
				},
			},
			{
				Name: "CheckoutAbsent", Kind: generate.KindAbsent, Job: "checkout",
				Expr:        expr(t, `absent(up{job="checkout"})`),
				For:         5 * time.Minute,
				Labels:      owner,
				Annotations: map[string]string{"summary": `No target of job {{ $labels.job }} has been scraped for 5 minutes.`},
				Test: generate.TestCase{
					FailingSeries: nil,
					HealthySeries: []generate.Series{{Series: `up{job="checkout", instance="10.0.0.1:8080"}`, Values: "1x10"}},
					EvalTime:      5 * time.Minute,
					FiringLabels:  map[string]string{"job": "checkout", "severity": "critical", "team": "payments"},
				},
			},
			{
				Name: "CheckoutOrdersRateLow", Kind: generate.KindRateDrop, Job: "checkout", Metric: "orders_total",
				Expr:   expr(t, `rate(orders_total{job="checkout"}[10m]) < 0.5`),
				For:    15 * time.Minute,
				Labels: map[string]string{"severity": "warning", "team": "payments"},
				Annotations: map[string]string{
					"summary":     `Orders of {{ $labels.job }} dropped to {{ $value | humanize }}/s`,
					"description": `{{ printf "%.3f" $value }} orders/s over 10m, below 0.5/s.`,
				},
				Test: generate.TestCase{
					Interval:      time.Minute,
					FailingSeries: []generate.Series{{Series: `orders_total{job="checkout", instance="a"}`, Values: "0+6x40"}},
					HealthySeries: []generate.Series{{Series: `orders_total{job="checkout", instance="a"}`, Values: "0+60x40"}},
					EvalTime:      30 * time.Minute,
					FiringLabels:  map[string]string{"job": "checkout", "instance": "a", "severity": "warning", "team": "payments"},
				},
			},
			{
				Name: "CheckoutBatchStale", Kind: generate.KindStaleness, Job: "checkout", Metric: "batch_last_success_timestamp_seconds",
				Expr:        expr(t, `time() - batch_last_success_timestamp_seconds{job="checkout"} > 90000`),
				For:         15 * time.Minute,
				Labels:      map[string]string{"severity": "warning", "team": "payments"},
				Annotations: map[string]string{"summary": `The last success of {{ $labels.job }} was {{ $value | humanizeDuration }} ago.`},
				Test: generate.TestCase{
					Interval:      time.Minute,
					FailingSeries: []generate.Series{{Series: `batch_last_success_timestamp_seconds{job="checkout"}`, Values: "0x1600"}},
					HealthySeries: []generate.Series{{Series: `batch_last_success_timestamp_seconds{job="checkout"}`, Values: "0+60x1600"}},
					EvalTime:      26 * time.Hour,
					FiringLabels:  map[string]string{"job": "checkout", "severity": "warning", "team": "payments"},
				},
			},
			{
				Name: "HostileTargetDown", Kind: generate.KindUp, Job: `a"} or vector(1) #`,
				Expr:        expr(t, `up{job="a\"} or vector(1) #"} == 0`),
				Labels:      map[string]string{"severity": "critical"},
				Annotations: map[string]string{"summary": `{{ $labels.job }} is down`},
				Test: generate.TestCase{
					FailingSeries: []generate.Series{{Series: `up{job="a\"} or vector(1) #", instance="x"}`, Values: "0x5"}},
					HealthySeries: []generate.Series{{Series: `up{job="a\"} or vector(1) #", instance="x"}`, Values: "1x5"}},
					EvalTime:      2 * time.Minute,
					FiringLabels:  map[string]string{"job": `a"} or vector(1) #`, "instance": "x", "severity": "critical"},
				},
			},
		},
	}
}

// writeRuleFile writes f as a Prometheus rule file without generate/rules.
func writeRuleFile(t *testing.T, dir string, f generate.RuleFile) {
	t.Helper()
	type rule struct {
		Alert       string            `yaml:"alert"`
		Expr        string            `yaml:"expr"`
		For         string            `yaml:"for,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
	}
	type group struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	}
	g := group{Name: f.Group}
	for _, a := range f.Alerts {
		r := rule{Alert: a.Name, Expr: a.Expr.String(), Labels: a.Labels, Annotations: a.Annotations}
		if a.For > 0 {
			r.For = a.For.String()
		}
		g.Rules = append(g.Rules, r)
	}
	out, err := yaml.Marshal(map[string][]group{"groups": {g}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "rules", f.Name+".yaml"), out)
}

func write(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestRenderHandBuiltRuleFile(t *testing.T) {
	f := handBuilt(t)
	got, err := unittests.Render(f, generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(got), "\n"); first != "# "+generate.Header {
		t.Errorf("first line is %q, want the generated-code header", first)
	}
	golden(t, "checkout.test.yaml", got)

	again, err := unittests.Render(f, generate.Options{})
	if err != nil || !bytes.Equal(got, again) {
		t.Errorf("a second Render differs (err %v)", err)
	}

	t.Run("promtool passes the tests of a rule file with every kind of alert", func(t *testing.T) {
		servers.ForEachPromtool(t, func(t *testing.T, bin string) {
			dir := t.TempDir()
			writeRuleFile(t, dir, f)
			write(t, filepath.Join(dir, "rules", "tests", f.Name+".test.yaml"), got)
			checkAndTest(t, bin, dir)
		})
	})
}

func TestRenderRejectsUnsoundTestCases(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(a *generate.Alert)
		error string
	}{
		{
			"Healthy series that make the expression true are rejected.",
			func(a *generate.Alert) { a.Test.HealthySeries = a.Test.FailingSeries },
			"stays silent while healthy: at 5m the expression still returns",
		},
		{
			"Firing labels that differ from what Prometheus computes are rejected.",
			func(a *generate.Alert) { a.Test.FiringLabels = map[string]string{"job": "checkout"} },
			`failing case: at 5m Prometheus would have alerts [{instance="10.0.0.1:8080", job="checkout", severity="critical", team="payments"}], the test case expects one with {job="checkout"}`,
		},
		{
			"An eval time before the alert's for is rejected.",
			func(a *generate.Alert) { a.Test.EvalTime = time.Minute },
			"the failing case is evaluated at 1m0s, before the alert's for (2m0s) has passed",
		},
		{
			"A failure that started too late for the alert to fire is rejected.",
			func(a *generate.Alert) { a.Test.FailingSeries[0].Values = "1 1 1 1 0x10" },
			"failing case: the alert is active only since 4m, so at 5m it has not been active for its for (2m0s)",
		},
		{
			"Firing labels listing alertname are rejected.",
			func(a *generate.Alert) { a.Test.FiringLabels["alertname"] = a.Name },
			"its firing labels list alertname",
		},
		{
			"An annotation Prometheus could not expand is rejected.",
			func(a *generate.Alert) { a.Annotations = map[string]string{"summary": "{{ $labels.job"} },
			"expanding annotation summary",
		},
		{
			"Input series on several lines are rejected.",
			func(a *generate.Alert) { a.Test.FailingSeries[0].Values = "0x5\n  other 1x5" },
			"spans lines",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := handBuilt(t)
			tc.edit(&f.Alerts[0])
			_, err := unittests.Render(f, generate.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("error %v, want one containing %q", err, tc.error)
			}
		})
	}
}

func TestRenderRejectsPrometheusRuleResources(t *testing.T) {
	_, err := unittests.Render(handBuilt(t), generate.Options{RulesFormat: "prometheus-operator"})
	if !errors.Is(err, unittests.ErrPrometheusRule) {
		t.Fatalf("error %v, want ErrPrometheusRule", err)
	}
}

// The harness can fail: a test file expecting the healthy case to fire makes promtool exit
// non-zero, so a passing run above means the expectations really held.
func TestPromtoolFailsAWrongExpectation(t *testing.T) {
	f := handBuilt(t)
	got, err := unittests.Render(f, generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tf map[string]any
	if err := yaml.Unmarshal(got, &tf); err != nil {
		t.Fatal(err)
	}
	tests := tf["tests"].([]any)
	failing := tests[0].(map[string]any)["alert_rule_test"].([]any)[0].(map[string]any)
	healthy := tests[1].(map[string]any)["alert_rule_test"].([]any)[0].(map[string]any)
	if !strings.Contains(tests[1].(map[string]any)["name"].(string), "silent") {
		t.Fatalf("the second test group is not a healthy case: %v", tests[1])
	}
	healthy["exp_alerts"] = failing["exp_alerts"]
	wrong, err := yaml.Marshal(tf)
	if err != nil {
		t.Fatal(err)
	}

	servers.ForEachPromtool(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		writeRuleFile(t, dir, f)
		path := filepath.Join(dir, "rules", "tests", f.Name+".test.yaml")
		write(t, path, wrong)
		out, ok := promtool(t, bin, "test", "rules", path)
		if ok {
			t.Fatalf("promtool test rules passed a healthy case that expects the alert:\n%s", out)
		}
		if !strings.Contains(out, "CheckoutTargetDown") {
			t.Errorf("promtool failed, but not on the flipped alert:\n%s", out)
		}
		t.Logf("promtool failed as it should:\n%s", out)
	})
}

package rulesets

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestPacks(t *testing.T) {
	t.Parallel()

	packs, err := Packs()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("The five built-in packs load, sorted by name.", func(t *testing.T) {
		var names []string
		for _, p := range packs {
			names = append(names, p.Name)
		}
		if want := []string{"alertmanager", "blackbox-exporter", "node-exporter", "prometheus", "pushgateway"}; !slices.Equal(names, want) {
			t.Errorf("packs %q, want %q", names, want)
		}
	})

	t.Run("Every pack detects by at least one metric name and every expression parses without a job matcher.", func(t *testing.T) {
		for _, p := range packs {
			if len(p.Detect) == 0 || len(p.Alerts) == 0 {
				t.Errorf("%s: %d detect names, %d alerts", p.Name, len(p.Detect), len(p.Alerts))
			}
			for _, a := range p.Alerts {
				e, err := parser.NewParser(parser.Options{}).ParseExpr(a.Expr)
				if err != nil {
					t.Errorf("%s/%s: %v", p.Name, a.Name, err)
					continue
				}
				for _, vs := range parser.ExtractSelectors(e) {
					for _, m := range vs {
						if m.Name == "job" {
							t.Errorf("%s/%s: a selector matches job: %s", p.Name, a.Name, a.Expr)
						}
					}
				}
				if strings.Contains(a.Expr, "job=") {
					t.Errorf("%s/%s: the expression text names a job: %s", p.Name, a.Name, a.Expr)
				}
			}
		}
	})

	t.Run("A pack that adapts public work names its source, license and attribution, and every alert that claims an origin has one.", func(t *testing.T) {
		adapted := map[string]bool{}
		for _, p := range packs {
			for _, o := range p.Origins {
				if !strings.HasPrefix(o.Source, "https://github.com/") || o.License == "" || o.Attribution == "" || o.Changes == "" {
					t.Errorf("%s: origin %+v is incomplete", p.Name, o)
				}
				if strings.Contains(o.Source, "awesome-prometheus-alerts") && (o.License != "CC-BY-4.0" || !strings.Contains(o.Attribution, "Samuel Berthe and contributors")) {
					t.Errorf("%s: awesome-prometheus-alerts without its CC BY 4.0 attribution: %+v", p.Name, o)
				}
			}
			for _, a := range p.Alerts {
				if a.Origin == "" {
					continue
				}
				if _, ok := p.Origin(a); !ok || a.Upstream == "" {
					t.Errorf("%s/%s: origin %q, upstream %q", p.Name, a.Name, a.Origin, a.Upstream)
				}
				adapted[p.Name] = true
			}
		}
		for _, name := range []string{"node-exporter", "blackbox-exporter", "prometheus", "alertmanager"} {
			if !adapted[name] {
				t.Errorf("%s adapts no public work", name)
			}
		}
	})

	t.Run("Alert names are unique across packs, so that a job several packs apply to gets distinct alerts.", func(t *testing.T) {
		seen := map[string]string{}
		for _, p := range packs {
			for _, a := range p.Alerts {
				if other, ok := seen[a.Name]; ok {
					t.Errorf("%s is an alert of %s and of %s", a.Name, other, p.Name)
				}
				seen[a.Name] = p.Name
			}
		}
	})

	t.Run("Detect names are the sorted union of the packs' lists.", func(t *testing.T) {
		names, err := DetectNames()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(names) || !slices.Contains(names, "probe_success") || !slices.Contains(names, "push_time_seconds") ||
			!slices.Contains(names, "node_exporter_build_info") || !slices.Contains(names, "prometheus_build_info") || !slices.Contains(names, "alertmanager_build_info") {
			t.Errorf("detect names %q", names)
		}
	})

	t.Run("The packs are the caller's to change.", func(t *testing.T) {
		first, _ := Packs()
		first[0].Alerts[0].Mitigation[0] = "changed"
		first[0].Detect[0] = "changed"
		again, _ := Packs()
		if again[0].Alerts[0].Mitigation[0] == "changed" || again[0].Detect[0] == "changed" {
			t.Error("Packs shares its slices")
		}
	})
}

func TestPackValidation(t *testing.T) {
	t.Parallel()

	const valid = `
name: example
description: An example.
origins:
  - name: upstream
    source: https://github.com/example/rules/blob/0123/rules.yml
    license: CC-BY-4.0
    attribution: Example authors
    changes: Scoped to one job.
detect: [example_build_info]
alerts:
  - name: Broken
    origin: upstream
    upstream: ExampleBroken
    expr: example_ok == 0
    for: 1m
    severity: warning
    summary: Broken.
    description: Broken.
    impact: Broken.
    mitigation: [Fix it.]
    test:
      interval: 1m
      eval_time: 5m
      failing: [{series: 'example_ok{instance="a"}', values: 0x10}]
      healthy: [{series: 'example_ok{instance="a"}', values: 1x10}]
      labels: {instance: a}
`
	load := func(content string) error {
		_, err := loadPacks(fstest.MapFS{"packs/example.yaml": {Data: []byte(content)}})
		return err
	}
	if err := load(valid); err != nil {
		t.Fatalf("the valid example fails: %v", err)
	}

	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"An expression with a job matcher is refused.", "expr: example_ok == 0", `expr: example_ok{job="x"} == 0`, "job matcher"},
		{"An expression that does not parse is refused.", "expr: example_ok == 0", "expr: example_ok ==", "expr"},
		{"An expression returning a scalar is refused.", "expr: example_ok == 0", "expr: scalar(example_ok)", "not a vector"},
		{"A selector without a metric name is refused.", "expr: example_ok == 0", `expr: '{__name__="example_ok"} == 0'`, "metric name"},
		{"An empty detect list is refused.", "detect: [example_build_info]", "detect: []", "detect"},
		{"A CC BY origin without attribution is refused.", "attribution: Example authors", "attribution: ''", "requires attribution"},
		{"An origin without a license is refused.", "license: CC-BY-4.0", "license: ''", "no license"},
		{"An alert naming an unknown origin is refused.", "origin: upstream", "origin: elsewhere", "not listed"},
		{"A test series with a job label is refused.", `example_ok{instance="a"}', values: 0x10`, `example_ok{job="a"}', values: 0x10`, "job label"},
		{"A test evaluated before the alert's for has passed is refused.", "eval_time: 5m", "eval_time: 30s", "before"},
		{"An unknown severity is refused.", "severity: warning", "severity: page", "severity"},
		{"An unknown field is refused.", "severity: warning", "severity: warning\n    sevrity: info", "sevrity"},
		{"A pack named otherwise than its file is refused.", "name: example", "name: other", "not after its file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := strings.Replace(valid, tc.old, tc.new, 1)
			if content == valid {
				t.Fatalf("%q is not in the example", tc.old)
			}
			err := load(content)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

package kubernetes_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/kubernetes"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	"github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// The kubernetes-mixin's KubePodNotReady before readiness was added (phase only), from
// prometheus-operator/kube-prometheus (Apache-2.0).
const oldKubePodNotReady = `sum by (namespace, pod, job, cluster) (max by(namespace, pod, job, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"}) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))) > 0`

// unalerted are the pods/*-unalerted findings' checks.
func unalerted(fs []analyze.Finding) []string {
	var out []string
	for _, f := range fs {
		if f.Check == checks.PodsNotReadyUnalertedName || f.Check == checks.PodsCrashloopUnalertedName {
			out = append(out, f.Check)
		}
	}
	return out
}

// loaded are the alerts of f as the audit reads them from a Prometheus.
func loaded(f generate.RuleFile) []analyze.Rule {
	var out []analyze.Rule
	for _, a := range f.Alerts {
		out = append(out, analyze.Rule{Name: a.Name, Expr: a.Expr.String(), For: a.For, Labels: a.Labels, Annotations: a.Annotations})
	}
	return out
}

func TestPodAlerts(t *testing.T) {
	t.Run("Without alerts both checks report, both alerts are generated, and once loaded neither check reports.", func(t *testing.T) {
		findings := runChecks(cluster())
		if got, want := unalerted(findings), []string{checks.PodsCrashloopUnalertedName, checks.PodsNotReadyUnalertedName}; !slices.Equal(got, want) {
			t.Fatalf("before: %v, want %v", got, want)
		}
		f, ok := kubernetes.RuleFile(findings, generate.Options{})
		if !ok {
			t.Fatal("no rule file")
		}
		var names []string
		for _, a := range f.Alerts {
			names = append(names, a.Name)
		}
		if want := []string{kubernetes.AlertPodNotReady, kubernetes.AlertPodCrashLooping}; !slices.Equal(names, want) {
			t.Fatalf("alerts %v, want %v", names, want)
		}
		if got := unalerted(runChecks(cluster(loaded(f)...))); len(got) != 0 {
			t.Errorf("after loading the generated alerts the checks still report %v", got)
		}
	})

	t.Run("Beside the old mixin's KubePodNotReady only the readiness alert is generated, and it closes the gap.", func(t *testing.T) {
		crash := analyze.Rule{Name: "KubePodCrashLooping", Expr: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1`, For: 15 * time.Minute}
		old := analyze.Rule{Name: "KubePodNotReady", Expr: oldKubePodNotReady, For: 15 * time.Minute}
		findings := runChecks(cluster(old, crash))
		if got, want := unalerted(findings), []string{checks.PodsNotReadyUnalertedName}; !slices.Equal(got, want) {
			t.Fatalf("before: %v, want %v", got, want)
		}
		f, ok := kubernetes.RuleFile(findings, generate.Options{})
		if !ok || len(f.Alerts) != 1 || f.Alerts[0].Name != kubernetes.AlertPodNotReady {
			t.Fatalf("rule file %+v", f)
		}
		if got := unalerted(runChecks(cluster(append(loaded(f), old, crash)...))); len(got) != 0 {
			t.Errorf("after loading the generated alert the checks still report %v", got)
		}
	})

	t.Run("Without the checks' findings no rule file is planned.", func(t *testing.T) {
		if f, ok := kubernetes.RuleFile(nil, generate.Options{}); ok {
			t.Errorf("planned %+v", f)
		}
	})

	t.Run("The alerts carry the owner of kube-state-metrics' job and select the fleet member of the scope.", func(t *testing.T) {
		o := generate.Options{Owners: []generate.Owner{{Jobs: "kube-state-metrics", Team: "platform"}}, Scope: map[string]string{"cluster": "b"}}
		var out generate.Output
		if err := (kubernetes.PodAlerts{}).Generate(generate.Input{Inventory: cluster(), Findings: runChecks(cluster()), Options: generate.DefaultOptions(o)}, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.RuleFiles) != 1 {
			t.Fatalf("rule files %+v", out.RuleFiles)
		}
		for _, a := range out.RuleFiles[0].Alerts {
			if a.Labels["team"] != "platform" || !strings.Contains(a.Expr.String(), `cluster="b"`) {
				t.Errorf("%s: labels %v, expr %s", a.Name, a.Labels, a.Expr)
			}
		}
	})
}

func TestPodAlertsPassPromtool(t *testing.T) {
	o := generate.DefaultOptions(generate.Options{})
	f, ok := kubernetes.RuleFile(runChecks(cluster()), o)
	if !ok {
		t.Fatal("no rule file")
	}
	ruleFile, err := rules.Render(f, o)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := unittests.Render(f, o)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "rules", f.Name+".yaml"), ruleFile)
	golden.Check(t, filepath.Join("testdata", "rules", "tests", f.Name+".test.yaml"), tests)
	for _, a := range f.Alerts {
		rb, err := runbooks.Render(a, o)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "runbooks", a.Name+".md"), rb.Content)
	}

	dir := t.TempDir()
	write := func(rel string, content []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rules/"+f.Name+".yaml", ruleFile)
	write("rules/tests/"+f.Name+".test.yaml", tests)
	servers.ForEachPromtool(t, func(t *testing.T, bin string) {
		for _, args := range [][]string{
			{"check", "rules", filepath.Join(dir, "rules", f.Name+".yaml")},
			{"test", "rules", filepath.Join(dir, "rules", "tests", f.Name+".test.yaml")},
		} {
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	})
}

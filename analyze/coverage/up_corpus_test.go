package coverage

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/rulefiles"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// corpusTargets are jobs as a kube-prometheus or static setup labels them.
var corpusTargets = []analyze.Target{
	target("node", "host-1:9100"),
	target("node", "host-2:9100"),
	target("prometheus", "localhost:9090"),
	target("alertmanager", "am-1:9093"),
	target("alertmanager-main", "10.2.0.4:9093", "namespace", "monitoring", "service", "alertmanager-main", "container", "alertmanager", "pod", "alertmanager-main-0", "endpoint", "web"),
	target("alertmanager-main", "10.2.0.5:9093", "namespace", "monitoring", "service", "alertmanager-main", "container", "alertmanager", "pod", "alertmanager-main-1", "endpoint", "web"),
	target("blackbox", "blackbox:9115"),
	target("kube-state-metrics", "10.2.0.9:8443", "namespace", "monitoring", "service", "kube-state-metrics", "container", "kube-rbac-proxy-main"),
	target("apiserver", "10.0.0.1:6443", "namespace", "default", "service", "kubernetes", "endpoint", "https"),
	target("kubelet", "10.0.1.1:10250", "namespace", "kube-system", "service", "kubelet", "node", "n1", "metrics_path", "/metrics"),
	target("kubelet", "10.0.1.1:10250/cadvisor", "namespace", "kube-system", "service", "kubelet", "node", "n1", "metrics_path", "/metrics/cadvisor"),
	target("vmagent", "vmagent:8429"),
	target("thanos-compact", "thanos-compact:10902"),
}

func corpusInventory(t testing.TB) *analyze.Inventory {
	t.Helper()
	res, err := rulefiles.Load([]string{corpusDir(t)})
	if err != nil {
		t.Fatalf("loading the corpus: %v", err)
	}
	b := analyze.NewBuilder(collectedAt)
	b.AddPart(analyze.PartTargets)
	b.AddPart(analyze.PartRules)
	for _, tg := range corpusTargets {
		b.AddTarget(tg)
	}
	for _, g := range res.Groups {
		b.AddRuleGroup(g)
	}
	return b.Build()
}

// corpusDir holds real rule files: kube-prometheus, awesome-prometheus-alerts, GitLab, Thanos,
// VictoriaLogs, promtool's examples, and more (the test is skipped when the corpus is not
// beside the repository).
func corpusDir(t testing.TB) string { return testcorpus.Dir(t, "rules") }

// coverageByAlert maps "file:alert" (file relative to the corpus) to the jobs the alert covers.
func coverageByAlert(t *testing.T, inv *analyze.Inventory, refs func(JobCoverage) []RuleRef) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, jc := range Analyze(inv, Options{}).Matrix() {
		for _, r := range refs(jc) {
			rel, err := filepath.Rel(corpusDir(t), r.File)
			if err != nil {
				t.Fatal(err)
			}
			key := filepath.ToSlash(rel) + ":" + r.Name
			if !slices.Contains(out[key], jc.Job) {
				out[key] = append(out[key], jc.Job)
			}
		}
	}
	return out
}

func TestCorpusCoverage(t *testing.T) {
	inv := corpusInventory(t)
	var jobs []string
	for _, j := range inv.Jobs {
		jobs = append(jobs, j.Name)
	}

	t.Run("Up alerts of the corpus cover the jobs their expressions say.", func(t *testing.T) {
		got := coverageByAlert(t, inv, upAlerts)
		want := map[string][]string{
			// up == 0, avg_over_time(up[5m]) * 100 < 50 and sum by (job) (up) == 0 watch every job.
			"promtool/rules.yml:InstanceDown": jobs,
			"gitlab.rules:ServiceDown":        jobs,
			"awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml:PrometheusAllTargetsMissing": jobs,
			// A join with node exporter's uptime on instance: the other side's values are unknown,
			// so it may fire for any job.
			"awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml:PrometheusTargetMissingWithWarmupTime": jobs,
			// A regex over VictoriaMetrics component names.
			"victorialogs_alerts-health.yml:ServiceDown": {"vmagent"},
			// kube-prometheus alerts pinned to one job and its labels.
			"kubernetesControlPlane-prometheusRule.yaml:KubeAPIInstanceUnreachable": {"apiserver"},
			"kubernetesControlPlane-prometheusRule.yaml:KubeletInstanceUnreachable": {"kubelet"},
			"kubernetesControlPlane-prometheusRule.yaml:KubeletDown":                {"kubelet"},
			"alertmanager-prometheusRule.yaml:AlertmanagerClusterDown":              {"alertmanager-main"},
			// absent(up{job=~".*thanos-compact.*"} == 1) fires when no compactor target is up.
			"thanos/alerts.yaml:ThanosCompactIsDown": {"thanos-compact"},
		}
		for key, jobs := range want {
			if !slices.Equal(got[key], jobs) {
				t.Errorf("%s covers %q, want %q", key, got[key], jobs)
			}
		}
		for key := range got {
			if _, ok := want[key]; !ok {
				t.Errorf("%s covers %q, which no expectation lists", key, got[key])
			}
		}
		for _, key := range []string{
			// Fires for single down targets only while the job has others up: silent when all are down.
			"awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml:PrometheusTargetMissing",
			// Counts running compactors; fires on too many, not on none.
			"thanos/alerts.yaml:ThanosCompactMultipleRunning",
			// Restarts over a count of up series: the count does not change when targets go down.
			"alertmanager-prometheusRule.yaml:AlertmanagerClusterCrashlooping",
			// absent(up{job="apiserver"}) does not fire while down targets still have up series.
			"kubernetesControlPlane-prometheusRule.yaml:KubeAPIDown",
		} {
			if _, ok := got[key]; ok {
				t.Errorf("%s covers %q, want no job", key, got[key])
			}
		}
	})

	t.Run("Absence alerts of the corpus cover the one job they name.", func(t *testing.T) {
		got := coverageByAlert(t, inv, absentAlerts)
		want := map[string][]string{
			"awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml:PrometheusJobMissing":             {"prometheus"},
			"awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml:PrometheusAlertmanagerJobMissing": {"alertmanager"},
			"kubernetesControlPlane-prometheusRule.yaml:KubeAPIDown":                                                      {"apiserver"},
			"thanos/alerts.yaml:ThanosCompactIsDown":                                                                      {"thanos-compact"},
		}
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("absence coverage = %q, want %q", got, want)
		}
	})
}

func TestEvaluatorOnCorpus(t *testing.T) {
	t.Run("Every expression of the corpus evaluates in both worlds without panicking.", func(t *testing.T) {
		inv := corpusInventory(t)
		u := newEvalContext(inv, newRuleIndex(inv))
		n := 0
		for _, r := range inv.Rules() {
			if r.Parsed == nil {
				continue
			}
			for _, down := range []bool{true, false} {
				v := (&evaluator{u: u, job: "node", down: down}).eval(r.Parsed, 0)
				for _, g := range v.groups {
					if g.nHi < 1 || g.nLo > g.nHi || g.val.lo > g.val.hi {
						t.Errorf("%s: inconsistent group %+v", r.Name, g)
					}
				}
			}
			n++
		}
		if n < 300 {
			t.Errorf("evaluated %d expressions; the corpus holds more", n)
		}
	})
}

package coverage_test

import (
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// The kubernetes-mixin expressions below are from prometheus-operator/kube-prometheus
// (Apache-2.0), manifests/kubernetesControlPlane-prometheusRule.yaml at 4d719f1d (the fixed
// KubePodNotReady), and the same rule as it was before readiness was added (phase only).
const (
	mixinPodNotReadyOld = `sum by (namespace, pod, job, cluster) (
  max by(namespace, pod, job, cluster) (
    kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"}
  ) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (
    1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"})
  )
) > 0`
	mixinPodNotReadyFixed = `sum by (namespace, pod, job, cluster) (
  max by(namespace, pod, job, cluster) (
    kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"}
    or
    (
      kube_pod_status_phase{job="kube-state-metrics", phase="Running"} == 1
      and on(namespace, pod, cluster)
      kube_pod_status_ready{job="kube-state-metrics", condition="true"} == 0
    )
  ) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (
    1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"})
  )
) > 0
unless on(namespace, pod, cluster)
kube_pod_status_reason{job="kube-state-metrics", reason="SchedulingGated"} == 1`
	mixinPodCrashLooping = `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1`
)

func kubeRules(rules ...analyze.Rule) *analyze.Inventory {
	b := analyze.NewBuilder(time.Unix(0, 0))
	b.AddPart(analyze.PartRules)
	g := analyze.RuleGroup{Name: "kubernetes", File: "k8s.yml", Language: "promql"}
	for _, r := range rules {
		r.Group, r.File = g.Name, g.File
		if r.Kind == "" {
			r.Kind = analyze.RuleAlerting
		}
		g.Rules = append(g.Rules, analyze.NewRule(r))
	}
	b.AddRuleGroup(g)
	return b.Build()
}

func names(refs []coverage.RuleRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func TestKubePodsDecidesByEvaluationNotByName(t *testing.T) {
	for _, tc := range []struct {
		description         string
		job                 string
		rules               []analyze.Rule
		notReady, crashLoop []string
	}{
		{description: "The old mixin's KubePodNotReady (phase Pending or Unknown only) stays silent for a Running pod that is not ready.",
			rules:    []analyze.Rule{{Name: "KubePodNotReady", Expr: mixinPodNotReadyOld, For: 15 * time.Minute}},
			notReady: nil, crashLoop: nil},
		{description: "The fixed KubePodNotReady fires for a Running pod that is not ready, and for a crash-looping one, which is not ready either.",
			rules:    []analyze.Rule{{Name: "KubePodNotReady", Expr: mixinPodNotReadyFixed, For: 15 * time.Minute}},
			notReady: []string{"KubePodNotReady"}, crashLoop: []string{"KubePodNotReady"}},
		{description: "KubePodCrashLooping covers crash loops and not readiness.",
			rules:     []analyze.Rule{{Name: "KubePodCrashLooping", Expr: mixinPodCrashLooping, For: 15 * time.Minute}},
			crashLoop: []string{"KubePodCrashLooping"}},
		{description: "An alert on restarts through a recording rule covers crash loops.",
			rules: []analyze.Rule{
				{Kind: analyze.RuleRecording, Name: "namespace_pod:restarts:increase10m", Expr: `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[10m]))`},
				{Name: "PodRestarting", Expr: `namespace_pod:restarts:increase10m > 1`},
			},
			crashLoop: []string{"PodRestarting"}},
		{description: "An alert that always fires covers nothing, and one on another job's series neither.",
			rules: []analyze.Rule{
				{Name: "Always", Expr: `kube_pod_info > 0`},
				{Name: "OtherJob", Expr: `kube_pod_status_ready{job="ksm-other", condition="true"} == 0`},
			}},
		{description: "An alert restricted to some namespaces does not cover every namespace.",
			rules: []analyze.Rule{{Name: "ProdNotReady", Expr: `kube_pod_status_ready{namespace="prod", condition="true"} == 0`}}},
		{description: "kube-state-metrics scraped under another job label is judged with that label.",
			job:      "ksm",
			rules:    []analyze.Rule{{Name: "NotReady", Expr: `kube_pod_status_ready{job="ksm", condition="true"} == 0`}},
			notReady: []string{"NotReady"}, crashLoop: []string{"NotReady"}},
		{description: "An alert whose for is longer than the worlds last is not shown to cover.",
			rules: []analyze.Rule{{Name: "SlowNotReady", Expr: `kube_pod_status_ready{condition="true"} == 0`, For: 5 * time.Hour}}},
	} {
		t.Run(tc.description, func(t *testing.T) {
			kc := coverage.KubePods(kubeRules(tc.rules...), tc.job, coverage.Options{})
			if got := names(kc.NotReady); !slices.Equal(got, tc.notReady) {
				t.Errorf("not-ready covered by %v, want %v", got, tc.notReady)
			}
			if got := names(kc.CrashLoop); !slices.Equal(got, tc.crashLoop) {
				t.Errorf("crash loop covered by %v, want %v", got, tc.crashLoop)
			}
		})
	}
}

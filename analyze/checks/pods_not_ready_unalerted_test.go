package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckPodsNotReadyUnalerted(t *testing.T) {
	id := checks.PodsNotReadyUnalertedName
	runTests(t, id, []checkTest{
		{description: "Without alerts, nothing fires for a pod that is not ready.",
			inv: func(*testing.T) *analyze.Inventory { return kubeCluster(analyze.PartRules).Build() },
			want: []string{
				`job=kube-state-metrics: no loaded alert fires when a Running pod fails its readiness probe (kube_pod_status_ready{condition="true"} == 0)`,
			}},
		{description: "The old mixin's KubePodNotReady, which looks at the phase only, has the name and not the coverage.",
			inv: func(*testing.T) *analyze.Inventory {
				return kubeRules(kubeCluster(analyze.PartRules),
					analyze.Rule{Name: "KubePodNotReady", Expr: oldKubePodNotReady, For: 15 * time.Minute},
					analyze.Rule{Name: "KubePodCrashLooping", Expr: kubePodCrashLooping, For: 15 * time.Minute}).Build()
			},
			want: []string{
				`job=kube-state-metrics: no loaded alert fires when a Running pod fails its readiness probe (kube_pod_status_ready{condition="true"} == 0): KubePodNotReady read(s) these series and stay(s) silent`,
			}},
		{description: "The fixed KubePodNotReady covers readiness.",
			inv: func(*testing.T) *analyze.Inventory {
				return kubeRules(kubeCluster(analyze.PartRules),
					analyze.Rule{Name: "KubePodNotReady", Expr: fixedKubePodNotReady, For: 15 * time.Minute}).Build()
			}},
	})
}

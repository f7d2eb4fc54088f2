package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckPodsCrashloopUnalerted(t *testing.T) {
	id := checks.PodsCrashloopUnalertedName
	runTests(t, id, []checkTest{
		{description: "An alert on restarts above a total no crash loop reaches within the worlds does not cover crash loops.",
			inv: func(*testing.T) *analyze.Inventory {
				return kubeRules(kubeCluster(analyze.PartRules),
					analyze.Rule{Name: "TooManyRestarts", Expr: `kube_pod_container_status_restarts_total > 1000`}).Build()
			},
			want: []string{
				`job=kube-state-metrics: no loaded alert fires when a container crash-loops (restarts increasing, waiting reason CrashLoopBackOff): TooManyRestarts read(s) these series and stay(s) silent`,
			}},
		{description: "KubePodCrashLooping covers crash loops, and so does the fixed KubePodNotReady (a crash-looping pod is not ready).",
			inv: func(*testing.T) *analyze.Inventory {
				return kubeRules(kubeCluster(analyze.PartRules),
					analyze.Rule{Name: "KubePodCrashLooping", Expr: kubePodCrashLooping, For: 15 * time.Minute}).Build()
			}},
		{description: "An alert on the increase of restarts covers crash loops.",
			inv: func(*testing.T) *analyze.Inventory {
				return kubeRules(kubeCluster(analyze.PartRules),
					analyze.Rule{Name: "Restarting", Expr: `increase(kube_pod_container_status_restarts_total[15m]) > 2`}).Build()
			}},
	})
}

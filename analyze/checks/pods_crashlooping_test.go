package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckPodsCrashlooping(t *testing.T) {
	id := checks.PodsCrashloopingName
	runTests(t, id, []checkTest{
		{description: "Containers waiting in CrashLoopBackOff are reported with their restarts.",
			inv: func(*testing.T) *analyze.Inventory { return kubeCluster().Build() },
			want: []string{
				`container=api namespace=payments pod=api-6b9c-x1: container "api" of pod api-6b9c-x1 in namespace "payments" is waiting in CrashLoopBackOff after 14 restart(s)`,
			}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckPodsNotReady(t *testing.T) {
	id := checks.PodsNotReadyName
	runTests(t, id, []checkTest{
		{description: "Running pods that are not ready now are reported; a finished Job's pod is not.",
			inv: func(*testing.T) *analyze.Inventory { return kubeCluster().Build() },
			want: []string{
				`namespace=payments pod=api-6b9c-x1: pod api-6b9c-x1 of Deployment/api in namespace "payments" is Running and not ready`,
				`namespace=shop pod=db-0: pod db-0 of StatefulSet/db in namespace "shop" is Running and not ready`,
			}},
	})
}

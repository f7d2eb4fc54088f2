package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckNamespacesUnmonitored(t *testing.T) {
	id := checks.NamespacesUnmonitoredName
	runTests(t, id, []checkTest{
		{description: "Namespaces with running pods and not one target are reported, with their running pods.",
			inv: func(*testing.T) *analyze.Inventory { return kubeCluster(analyze.PartTargets).Build() },
			want: []string{
				`namespace=kube-system: namespace "kube-system" runs 2 pod(s) and not one scrape target`,
				`namespace=payments: namespace "payments" runs 1 pod(s) and not one scrape target`,
			}},
		{description: "Included namespaces only are judged.",
			opts: checks.Options{Kubernetes: checks.Kubernetes{Include: []string{"pay*"}}},
			inv:  func(*testing.T) *analyze.Inventory { return kubeCluster(analyze.PartTargets).Build() },
			want: []string{
				`namespace=payments: namespace "payments" runs 1 pod(s) and not one scrape target`,
			}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckWorkloadsUnscraped(t *testing.T) {
	id := checks.WorkloadsUnscrapedName
	runTests(t, id, []checkTest{
		{description: "Workloads with running pods and no target are reported, those serving metrics as warnings, system namespaces and finished CronJobs aside.",
			inv: func(*testing.T) *analyze.Inventory { return kubeCluster(analyze.PartTargets).Build() },
			want: []string{
				`namespace=payments workload=Deployment/api: Deployment/api in namespace "payments" runs 1 pod(s) and no scrape target reaches any of them; it serves metrics: annotation prometheus.io/scrape=true`,
				`namespace=shop workload=Deployment/cart: Deployment/cart in namespace "shop" runs 1 pod(s) and no scrape target reaches any of them; it serves metrics: Service cart port metrics (9100)`,
				`namespace=kube-system workload=DaemonSet/node-agent: DaemonSet/node-agent in namespace "kube-system" runs 2 pod(s) and no scrape target reaches any of them; it serves metrics: Service node-agent port metrics (9101)`,
				`namespace=shop workload=StatefulSet/db: StatefulSet/db in namespace "shop" runs 1 pod(s) and no scrape target reaches any of them`,
			}},
		{description: "A pod scraped by IP alone (kubernetes_sd without namespace and pod labels) counts as scraped; excluded namespaces are not judged.",
			opts: checks.Options{Kubernetes: checks.Kubernetes{Exclude: []string{"kube-*", "payments"}}},
			inv: func(*testing.T) *analyze.Inventory {
				b := kubeCluster(analyze.PartTargets)
				b.AddTarget(target("kubernetes-pods", "kubernetes-pods", "10.1.0.3:9100", analyze.HealthUp, ""))
				return b.Build()
			},
			want: []string{
				`namespace=shop workload=StatefulSet/db: StatefulSet/db in namespace "shop" runs 1 pod(s) and no scrape target reaches any of them`,
			}},
	})
}

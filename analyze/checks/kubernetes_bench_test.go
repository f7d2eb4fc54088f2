package checks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// bigCluster is a generated cluster of 500 namespaces, 5,000 Deployments and 20,000 pods
// (4 per Deployment, one of every 50 not ready, one of every 100 crash-looping), a Service
// with a metrics port per Deployment, half the Deployments scraped by an operator-style pool,
// and the kubernetes-mixin's pod alerts.
func bigCluster() *analyze.Inventory {
	b := newBuilder(analyze.PartKubernetes, analyze.PartTargets, analyze.PartRules)
	var k analyze.Kubernetes
	k.Job = "kube-state-metrics"
	n := 0
	for ns := range 500 {
		namespace := fmt.Sprintf("team-%03d", ns)
		for w := range 10 {
			name := fmt.Sprintf("svc-%d", w)
			svc := analyze.KubeService{Namespace: namespace, Name: name, Ports: []analyze.KubePort{{Name: "http-metrics", Number: 8080}}}
			for p := range 4 {
				n++
				pod := analyze.KubePod{Namespace: namespace, Name: fmt.Sprintf("%s-abc-%d", name, p), IP: fmt.Sprintf("10.%d.%d.%d", ns/250, ns%250, w*4+p),
					Workload: "Deployment/" + name, Phase: "Running", Ready: "true",
					Containers: []analyze.KubeContainer{{Name: "app"}}}
				if n%50 == 0 {
					pod.Ready, pod.NotReadyFor = "false", 20*time.Minute
				}
				if n%100 == 0 {
					pod.Containers[0].Waiting, pod.Containers[0].Restarts = "CrashLoopBackOff", 9
				}
				k.Pods = append(k.Pods, pod)
				svc.Addresses = append(svc.Addresses, pod.IP)
				if w%2 == 0 {
					t := target(name, "serviceMonitor/"+namespace+"/"+name+"/0", pod.IP+":8080", analyze.HealthUp, "")
					t.Labels["namespace"], t.Labels["pod"], t.Labels["service"] = namespace, pod.Name, name
					b.AddTarget(t)
				}
			}
			k.Services = append(k.Services, svc)
		}
	}
	b.SetKubernetes(k)
	return kubeRules(b,
		analyze.Rule{Name: "KubePodNotReady", Expr: oldKubePodNotReady, For: 15 * time.Minute},
		analyze.Rule{Name: "KubePodCrashLooping", Expr: kubePodCrashLooping, For: 15 * time.Minute}).Build()
}

// BenchmarkKubernetesChecks judges the generated cluster: the Kubernetes checks' share of an
// audit (Derive's pod coverage and the seven checks), from an inventory already read.
func BenchmarkKubernetesChecks(b *testing.B) {
	inv := bigCluster()
	var kube []checks.Check
	for _, c := range checks.All(checks.Options{}) {
		switch c.Meta().ID {
		case checks.WorkloadsUnscrapedName, checks.ServicesUnscrapedName, checks.NamespacesUnmonitoredName,
			checks.PodsNotReadyUnalertedName, checks.PodsCrashloopUnalertedName, checks.PodsNotReadyName, checks.PodsCrashloopingName:
			kube = append(kube, c)
		}
	}
	var findings int
	for b.Loop() {
		res := checks.Run(inv, checks.Derive(inv, checks.Options{}), kube, checks.Policy{Now: collectedAt})
		findings = len(res.Findings)
	}
	b.ReportMetric(float64(findings), "findings")
}

func TestTheGeneratedClusterIsJudged(t *testing.T) {
	inv := bigCluster()
	res := checks.Run(inv, checks.Derive(inv, checks.Options{}), checks.All(checks.Options{}), checks.Policy{Now: collectedAt})
	count := map[string]int{}
	for _, f := range res.Findings {
		count[f.Check]++
	}
	// 2,500 unscraped Deployments and their Services; every namespace has targets; 400 pods
	// not ready, 200 crash-looping; the old mixin covers no readiness.
	want := map[string]int{
		checks.WorkloadsUnscrapedName: 2500, checks.ServicesUnscrapedName: 2500, checks.PodsNotReadyName: 400,
		checks.PodsCrashloopingName: 200, checks.PodsNotReadyUnalertedName: 1,
	}
	for id, n := range want {
		if count[id] != n {
			t.Errorf("%s: %d findings, want %d", id, count[id], n)
		}
	}
	if count[checks.NamespacesUnmonitoredName] != 0 || count[checks.PodsCrashloopUnalertedName] != 0 {
		t.Errorf("findings %v", count)
	}
}

package kubernetes_test

import (
	"fmt"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/kubernetes"
)

// bigCluster is a generated cluster of 500 namespaces, 5,000 Deployments and 20,000 pods (4
// per Deployment), a Service with a metrics port per Deployment, half the Deployments scraped.
func bigCluster() *analyze.Inventory {
	b := analyze.NewBuilder(collectedAt)
	for _, p := range []analyze.Part{analyze.PartKubernetes, analyze.PartTargets} {
		b.AddPart(p)
	}
	var k analyze.Kubernetes
	k.Job = "kube-state-metrics"
	for ns := range 500 {
		namespace := fmt.Sprintf("team-%03d", ns)
		for w := range 10 {
			name := fmt.Sprintf("svc-%d", w)
			svc := analyze.KubeService{Namespace: namespace, Name: name, Ports: []analyze.KubePort{{Name: "http-metrics", Number: 8080}}}
			for p := range 4 {
				pod := analyze.KubePod{Namespace: namespace, Name: fmt.Sprintf("%s-abc-%d", name, p), IP: fmt.Sprintf("10.%d.%d.%d", ns/250, ns%250, w*4+p),
					Workload: "Deployment/" + name, Phase: "Running", Ready: "true"}
				k.Pods = append(k.Pods, pod)
				svc.Addresses = append(svc.Addresses, pod.IP)
				if w%2 == 0 {
					b.AddTarget(analyze.Target{Job: name, ScrapePool: "serviceMonitor/" + namespace + "/" + name + "/0", Instance: pod.IP + ":8080",
						Health: analyze.HealthUp, Labels: map[string]string{"job": name, "instance": pod.IP + ":8080", "namespace": namespace, "pod": pod.Name, "service": name}})
				}
			}
			k.Services = append(k.Services, svc)
		}
	}
	b.SetKubernetes(k)
	return b.Build()
}

// BenchmarkMonitors writes the monitors of the generated cluster's 2,500 unscraped
// Deployments and Services, from the findings already made.
func BenchmarkMonitors(b *testing.B) {
	inv := bigCluster()
	findings := runChecks(inv)
	o := generate.DefaultOptions(generate.Options{})
	files, _, err := kubernetes.Files(inv, findings, o)
	if err != nil || len(files) != 500 {
		b.Fatalf("%d files, err %v", len(files), err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := kubernetes.Files(inv, findings, o); err != nil {
			b.Fatal(err)
		}
	}
}

package checks_test

import (
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// kubeCluster is the cluster the Kubernetes checks' cases share, as kube-state-metrics
// describes it:
//
//   - shop: Deployment/web (2 pods, Service web with port http-metrics, scraped by an
//     operator pool), Deployment/cart (1 pod, Service cart with port metrics, not scraped),
//     StatefulSet/db (1 pod Running and not ready, not scraped, no metrics port).
//   - payments: Deployment/api (1 pod crash-looping, annotated prometheus.io/scrape=true),
//     CronJob/report (its Job's pod Succeeded); no target at all.
//   - kube-system: DaemonSet/node-agent (2 pods, Service node-agent port metrics), not scraped.
func kubeCluster(parts ...analyze.Part) *analyze.Builder {
	b := newBuilder(append([]analyze.Part{analyze.PartKubernetes}, parts...)...)
	pod := func(ns, name, ip, workload, phase, ready string, cs ...analyze.KubeContainer) analyze.KubePod {
		return analyze.KubePod{Namespace: ns, Name: name, IP: ip, Workload: workload, Phase: phase, Ready: ready, Containers: cs}
	}
	app := analyze.KubeContainer{Name: "app"}
	notReady := pod("shop", "db-0", "10.1.0.5", "StatefulSet/db", "Running", "false", app)
	notReady.NotReadyFor = 12 * time.Minute
	crash := pod("payments", "api-6b9c-x1", "10.1.1.2", "Deployment/api", "Running", "false",
		analyze.KubeContainer{Name: "api", Restarts: 14, RestartsLastHour: 6, Waiting: "CrashLoopBackOff", WaitingFor: 40 * time.Minute})
	crash.ScrapeAnnotation = "true"
	b.SetKubernetes(analyze.Kubernetes{
		Job: "kube-state-metrics",
		Pods: []analyze.KubePod{
			pod("shop", "web-5d4f-a", "10.1.0.1", "Deployment/web", "Running", "true", app),
			pod("shop", "web-5d4f-b", "10.1.0.2", "Deployment/web", "Running", "true", app),
			pod("shop", "cart-7c9-x", "10.1.0.3", "Deployment/cart", "Running", "true", app),
			notReady,
			crash,
			pod("payments", "report-28000000-z", "10.1.1.3", "CronJob/report", "Succeeded", "false"),
			pod("kube-system", "node-agent-aaaaa", "10.0.0.1", "DaemonSet/node-agent", "Running", "true"),
			pod("kube-system", "node-agent-bbbbb", "10.0.0.2", "DaemonSet/node-agent", "Running", "true"),
		},
		Services: []analyze.KubeService{
			{Namespace: "shop", Name: "web", Ports: []analyze.KubePort{{Name: "http-metrics", Number: 8080}}, Addresses: []string{"10.1.0.1", "10.1.0.2"}},
			{Namespace: "shop", Name: "cart", Ports: []analyze.KubePort{{Name: "http", Number: 80}, {Name: "metrics", Number: 9100}}, Addresses: []string{"10.1.0.3"}},
			{Namespace: "shop", Name: "db", Ports: []analyze.KubePort{{Name: "postgres", Number: 5432}}, Addresses: []string{"10.1.0.5"}},
			{Namespace: "kube-system", Name: "node-agent", Ports: []analyze.KubePort{{Name: "metrics", Number: 9101}}, Addresses: []string{"10.0.0.1", "10.0.0.2"}},
		},
	})
	for _, p := range []string{"web-5d4f-a", "web-5d4f-b"} {
		t := target("web", "serviceMonitor/shop/web/0", "10.1.0.1:8080", analyze.HealthUp, "")
		if p == "web-5d4f-b" {
			t.Instance, t.ScrapeURL = "10.1.0.2:8080", "http://10.1.0.2:8080/metrics"
		}
		t.Labels["namespace"], t.Labels["pod"], t.Labels["service"] = "shop", p, "web"
		b.AddTarget(t)
	}
	return b
}

// kubeRules adds a rule group of alerting rules (name, expression, for) to b.
func kubeRules(b *analyze.Builder, rules ...analyze.Rule) *analyze.Builder {
	g := analyze.RuleGroup{Name: "kubernetes", File: "k8s.yml", Language: "promql"}
	for _, r := range rules {
		r.Kind, r.Group, r.File = analyze.RuleAlerting, g.Name, g.File
		g.Rules = append(g.Rules, analyze.NewRule(r))
	}
	b.AddRuleGroup(g)
	return b
}

// The kubernetes-mixin's KubePodNotReady before readiness was added (phase only), and
// KubePodCrashLooping, from prometheus-operator/kube-prometheus (Apache-2.0).
const (
	oldKubePodNotReady   = `sum by (namespace, pod, job, cluster) (max by(namespace, pod, job, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"}) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))) > 0`
	fixedKubePodNotReady = `sum by (namespace, pod, job, cluster) (max by(namespace, pod, job, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"} or (kube_pod_status_phase{job="kube-state-metrics", phase="Running"} == 1 and on(namespace, pod, cluster) kube_pod_status_ready{job="kube-state-metrics", condition="true"} == 0)) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))) > 0`
	kubePodCrashLooping  = `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1`
)

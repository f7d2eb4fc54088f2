package kubernetes_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/bundle"
	"github.com/blindspot-dev/blindspot/generate/kubernetes"
	"github.com/blindspot-dev/blindspot/generate/output"
	"github.com/blindspot-dev/blindspot/internal/golden"
)

var collectedAt = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

// cluster is a cluster as kube-state-metrics describes it, with the parts the Kubernetes
// checks need:
//
//   - shop: Deployment/web (Service web, port http-metrics, scraped by an operator pool),
//     Deployment/cart (Service cart, ports http and metrics, not scraped), StatefulSet/db
//     (Running, not ready, Service db without a metrics port), Service legacy (port
//     metrics, endpoints outside the cluster's pods, not scraped).
//   - payments: Deployment/api (crash-looping, annotated prometheus.io/scrape=true and
//     prometheus.io/port=9102, no Service), CronJob/report (Succeeded).
//   - jobs: Deployment/worker (annotated prometheus.io/scrape=true, no port, no Service).
//   - kube-system: DaemonSet/node-agent (Service node-agent, port metrics, not scraped).
func cluster(rules ...analyze.Rule) *analyze.Inventory {
	b := analyze.NewBuilder(collectedAt)
	for _, p := range []analyze.Part{analyze.PartKubernetes, analyze.PartTargets, analyze.PartRules} {
		b.AddPart(p)
	}
	pod := func(ns, name, ip, workload, phase, ready string) analyze.KubePod {
		return analyze.KubePod{Namespace: ns, Name: name, IP: ip, Workload: workload, Phase: phase, Ready: ready,
			Containers: []analyze.KubeContainer{{Name: "app"}}}
	}
	notReady := pod("shop", "db-0", "10.1.0.5", "StatefulSet/db", "Running", "false")
	notReady.NotReadyFor = 12 * time.Minute
	crash := pod("payments", "api-6b9c-x1", "10.1.1.2", "Deployment/api", "Running", "false")
	crash.Containers = []analyze.KubeContainer{{Name: "api", Restarts: 14, RestartsLastHour: 6, Waiting: "CrashLoopBackOff", WaitingFor: 40 * time.Minute}}
	crash.ScrapeAnnotation, crash.PortAnnotation = "true", "9102"
	worker := pod("jobs", "worker-55d-q", "10.1.2.1", "Deployment/worker", "Running", "true")
	worker.ScrapeAnnotation = "true"
	b.SetKubernetes(analyze.Kubernetes{
		Job: "kube-state-metrics",
		Pods: []analyze.KubePod{
			pod("shop", "web-5d4f-a", "10.1.0.1", "Deployment/web", "Running", "true"),
			pod("shop", "cart-7c9-x", "10.1.0.3", "Deployment/cart", "Running", "true"),
			notReady, crash, worker,
			pod("payments", "report-28000000-z", "10.1.1.3", "CronJob/report", "Succeeded", "false"),
			pod("kube-system", "node-agent-aaaaa", "10.0.0.1", "DaemonSet/node-agent", "Running", "true"),
			pod("kube-system", "node-agent-bbbbb", "10.0.0.2", "DaemonSet/node-agent", "Running", "true"),
		},
		Services: []analyze.KubeService{
			{Namespace: "shop", Name: "web", Ports: []analyze.KubePort{{Name: "http-metrics", Number: 8080}}, Addresses: []string{"10.1.0.1"}},
			{Namespace: "shop", Name: "cart", Ports: []analyze.KubePort{{Name: "http", Number: 80}, {Name: "metrics", Number: 9100}}, Addresses: []string{"10.1.0.3"}},
			{Namespace: "shop", Name: "db", Ports: []analyze.KubePort{{Name: "postgres", Number: 5432}}, Addresses: []string{"10.1.0.5"}},
			{Namespace: "shop", Name: "legacy", Ports: []analyze.KubePort{{Name: "metrics", Number: 9200}}, Addresses: []string{"192.168.7.7"}},
			{Namespace: "kube-system", Name: "node-agent", Ports: []analyze.KubePort{{Name: "metrics", Number: 9101}}, Addresses: []string{"10.0.0.1", "10.0.0.2"}},
		},
	})
	b.AddTarget(analyze.Target{
		Job: "web", ScrapePool: "serviceMonitor/shop/web/0", Instance: "10.1.0.1:8080", Health: analyze.HealthUp,
		ScrapeURL: "http://10.1.0.1:8080/metrics",
		Labels:    map[string]string{"job": "web", "instance": "10.1.0.1:8080", "namespace": "shop", "pod": "web-5d4f-a", "service": "web"},
	})
	g := analyze.RuleGroup{Name: "kubernetes", File: "k8s.yml", Language: "promql"}
	for _, r := range rules {
		r.Kind, r.Group, r.File = analyze.RuleAlerting, g.Name, g.File
		g.Rules = append(g.Rules, analyze.NewRule(r))
	}
	b.AddRuleGroup(g)
	return b.Build()
}

var kubeChecks = []string{
	checks.WorkloadsUnscrapedName, checks.ServicesUnscrapedName,
	checks.PodsNotReadyUnalertedName, checks.PodsCrashloopUnalertedName,
}

// runChecks runs the Kubernetes checks the generator answers over inv.
func runChecks(inv *analyze.Inventory) []analyze.Finding {
	var cs []checks.Check
	for _, c := range checks.All(checks.Options{}) {
		if slices.Contains(kubeChecks, c.Meta().ID) {
			cs = append(cs, c)
		}
	}
	return checks.Run(inv, nil, cs, checks.Policy{Now: collectedAt}).Findings
}

// documents splits a generated file into its YAML documents, after the header.
func documents(t *testing.T, content []byte) [][]byte {
	t.Helper()
	head := "# " + generate.Header + "\n"
	if !bytes.HasPrefix(content, []byte(head)) {
		t.Fatalf("the file does not start with the generated-code header:\n%s", content)
	}
	var docs [][]byte
	for _, d := range bytes.Split(bytes.TrimPrefix(content, []byte(head)), []byte("---\n")) {
		docs = append(docs, d)
	}
	return docs
}

// describe summarises a monitor decoded into the operator's types: kind, namespace/name,
// labels, selector and endpoints.
func describe(obj any) string {
	switch m := obj.(type) {
	case *monitoringv1.ServiceMonitor:
		var ports []string
		for _, e := range m.Spec.Endpoints {
			ports = append(ports, e.Port)
		}
		return fmt.Sprintf("ServiceMonitor %s/%s labels=%v selector=%v ports=%v", m.Namespace, m.Name, m.Labels, m.Spec.Selector.MatchLabels, ports)
	case *monitoringv1.PodMonitor:
		var ports []string
		for _, e := range m.Spec.PodMetricsEndpoints {
			switch {
			case e.Port != nil:
				ports = append(ports, *e.Port)
			case e.PortNumber != nil:
				ports = append(ports, fmt.Sprint(*e.PortNumber))
			}
		}
		return fmt.Sprintf("PodMonitor %s/%s labels=%v selector=%v ports=%v", m.Namespace, m.Name, m.Labels, m.Spec.Selector.MatchLabels, ports)
	}
	return fmt.Sprintf("%T", obj)
}

func TestMonitors(t *testing.T) {
	inv := cluster()
	findings := runChecks(inv)

	t.Run("Every unscraped Service and workload with a known metrics port gets a monitor that decodes strictly into the operator's types.", func(t *testing.T) {
		files, notes, err := kubernetes.Files(inv, findings, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			for _, doc := range documents(t, f.Content) {
				obj, err := kubernetes.Decode(doc)
				if err != nil {
					t.Fatalf("%s: %v\n%s", f.Path, err, doc)
				}
				got = append(got, f.Path+": "+describe(obj))
			}
		}
		labels := "map[app.kubernetes.io/managed-by:blindspot release:prometheus]"
		want := []string{
			"kubernetes/kube-system.yaml: ServiceMonitor kube-system/blindspot-node-agent labels=" + labels + " selector=map[app.kubernetes.io/name:node-agent] ports=[metrics]",
			"kubernetes/payments.yaml: PodMonitor payments/blindspot-api labels=" + labels + " selector=map[app.kubernetes.io/name:api] ports=[9102]",
			"kubernetes/shop.yaml: ServiceMonitor shop/blindspot-cart labels=" + labels + " selector=map[app.kubernetes.io/name:cart] ports=[metrics]",
			"kubernetes/shop.yaml: ServiceMonitor shop/blindspot-legacy labels=" + labels + " selector=map[app.kubernetes.io/name:legacy] ports=[metrics]",
		}
		if !slices.Equal(got, want) {
			t.Errorf("monitors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		wantNotes := []string{
			`kubernetes/jobs.yaml: no monitor for Deployment/worker in namespace "jobs": no Service with a metrics port selects its pods and they carry no prometheus.io/port annotation kube-state-metrics exposes`,
		}
		if !slices.Equal(notes, wantNotes) {
			t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(wantNotes, "\n"))
		}
		for _, f := range files {
			golden.Check(t, filepath.Join("testdata", filepath.Base(f.Path)), f.Content)
		}
	})

	t.Run("The configured labels and selector label replace the defaults.", func(t *testing.T) {
		o := generate.Options{Kubernetes: generate.KubernetesOptions{Labels: map[string]string{"prometheus": "main"}, SelectorLabel: "app"}}
		files, _, err := kubernetes.Files(inv, findings, o)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := kubernetes.Decode(documents(t, files[0].Content)[0])
		if err != nil {
			t.Fatal(err)
		}
		want := "ServiceMonitor kube-system/blindspot-node-agent labels=map[app.kubernetes.io/managed-by:blindspot prometheus:main] selector=map[app:node-agent] ports=[metrics]"
		if got := describe(obj); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})

	t.Run("Without findings nothing is written.", func(t *testing.T) {
		files, notes, err := kubernetes.Files(inv, nil, generate.Options{})
		if err != nil || len(files) != 0 || len(notes) != 0 {
			t.Errorf("files %v, notes %v, err %v", files, notes, err)
		}
	})

	t.Run("Two workloads of one name in a namespace get one PodMonitor, the first by kind, and a note for the other.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartKubernetes)
		var pods []analyze.KubePod
		var fs []analyze.Finding
		for i, wl := range []string{"StatefulSet/x", "Deployment/x"} {
			pods = append(pods, analyze.KubePod{Namespace: "jobs", Name: fmt.Sprint("x-", i), IP: fmt.Sprint("10.9.0.", i), Workload: wl, Phase: "Running",
				ScrapeAnnotation: "true", PortAnnotation: fmt.Sprint(9000 + i)})
			fs = append(fs, analyze.NewFinding(checks.WorkloadsUnscrapedName, analyze.Warning, map[string]string{"namespace": "jobs", "workload": wl},
				"unscraped", map[string]string{"evidence": "annotation prometheus.io/scrape=true"}))
		}
		b.SetKubernetes(analyze.Kubernetes{Job: "kube-state-metrics", Pods: pods})
		files, notes, err := kubernetes.Files(b.Build(), fs, generate.Options{})
		if err != nil || len(files) != 1 {
			t.Fatalf("files %v, err %v", files, err)
		}
		docs := documents(t, files[0].Content)
		if len(docs) != 1 {
			t.Fatalf("%d documents:\n%s", len(docs), files[0].Content)
		}
		if want := []string{"kubernetes/jobs.yaml: Deployment/x and StatefulSet/x would both get the PodMonitor blindspot-x; only the first is written"}; !slices.Equal(notes, want) {
			t.Errorf("notes %v, want %v", notes, want)
		}
		obj, err := kubernetes.Decode(docs[0])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := describe(obj), "PodMonitor jobs/blindspot-x labels=map[app.kubernetes.io/managed-by:blindspot release:prometheus] selector=map[app.kubernetes.io/name:x] ports=[9001]"; got != want {
			t.Errorf("got  %s\nwant %s (Deployment/x's port)", got, want)
		}
	})

	t.Run("A field the operator's types do not have fails the strict decoding.", func(t *testing.T) {
		doc := "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: x\nspec:\n  selector: {}\n  endpoints:\n  - portName: metrics\n"
		if _, err := kubernetes.Decode([]byte(doc)); err == nil || !strings.Contains(err.Error(), "portName") {
			t.Errorf("err = %v, want an unknown field portName", err)
		}
	})
}

func TestMonitorsPassDriftDetection(t *testing.T) {
	inv := cluster()
	res, err := bundle.Generate(inv, runChecks(inv), nil, generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var k8s []string
	for _, f := range res.Files {
		if strings.HasPrefix(f.Path, kubernetes.Dir+"/") {
			k8s = append(k8s, f.Path)
		}
	}
	if want := []string{"kubernetes/kube-system.yaml", "kubernetes/payments.yaml", "kubernetes/shop.yaml"}; !slices.Equal(k8s, want) {
		t.Fatalf("bundle wrote %v under kubernetes/, want %v", k8s, want)
	}
	dir := t.TempDir()
	d, err := output.Plan(dir, res.Files, bundle.Managed)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(); err != nil {
		t.Fatal(err)
	}

	t.Run("Generating again over the written files finds no drift.", func(t *testing.T) {
		d, err := output.Plan(dir, res.Files, bundle.Managed)
		if err != nil {
			t.Fatal(err)
		}
		if c := d.Changes(); len(c) != 0 {
			t.Errorf("changes after writing: %v", c)
		}
	})

	t.Run("A hand edit of a generated monitor is drift.", func(t *testing.T) {
		p := filepath.Join(dir, "kubernetes", "shop.yaml")
		content, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Replace(content, []byte("port: metrics"), []byte("port: http"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := output.Plan(dir, res.Files, bundle.Managed)
		if err != nil {
			t.Fatal(err)
		}
		if c := d.Changes(); len(c) != 1 || c[0].Path != "kubernetes/shop.yaml" {
			t.Errorf("changes = %v, want kubernetes/shop.yaml alone", c)
		}
	})

	t.Run("A monitor no longer generated is removed.", func(t *testing.T) {
		d, err := output.Plan(dir, nil, bundle.Managed)
		if err != nil {
			t.Fatal(err)
		}
		var removed []string
		for _, c := range d.Changes() {
			if strings.HasPrefix(c.Path, kubernetes.Dir+"/") {
				removed = append(removed, c.String())
			}
		}
		if len(removed) != 3 {
			t.Errorf("changes under kubernetes/ = %v, want the three files removed", removed)
		}
	})
}

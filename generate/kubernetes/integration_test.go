package kubernetes_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/kubernetes"
	"github.com/blindspot-dev/blindspot/internal/kubesim"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// The kubernetes-mixin's KubePodNotReady before readiness was added and its
// KubePodCrashLooping (prometheus-operator/kube-prometheus, Apache-2.0).
var (
	oldMixinNotReady  = servers.KubeAlert{Name: "KubePodNotReady", For: "15m", Expr: oldKubePodNotReady}
	mixinCrashLooping = servers.KubeAlert{Name: "KubePodCrashLooping", For: "15m",
		Expr: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1`}
)

// reported are the checks of the report's findings among those the generator answers.
func reported(r report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if slices.Contains(kubeChecks, f.Check) {
			out = append(out, f.Check+" "+f.Subject["namespace"]+f.Subject["service"]+f.Subject["workload"]+f.Subject["job"])
		}
	}
	return out
}

// TestGenerateOnRealPrometheus runs kube-state-metrics' own code over the demo cluster
// (kubesim; the crash-looping api pod also annotated prometheus.io/port) and a real Prometheus
// scraping it and the web Deployment's pods: generate writes exactly the monitors the cluster
// needs, strictly decodable, and the readiness alert that the old mixin lacks; once that alert
// is loaded into the Prometheus, the audit no longer reports the readiness gap.
func TestGenerateOnRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs := kubesim.Demo(time.Now().Add(-24 * time.Hour))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Name == "api-6b9c-x1" {
			p.Annotations["prometheus.io/port"] = "8080"
		}
	}
	ksm, err := kubesim.Start(ctx, objs, kubesim.Options{
		AllowAnnotations: map[string][]string{"pods": {"prometheus.io/scrape", "prometheus.io/port"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ksm.Close()
	var pool []servers.KubeTarget
	for _, pod := range []string{"web-5d4f-a", "web-5d4f-b"} {
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("# TYPE http_requests_total counter\nhttp_requests_total 1\n"))
		}))
		defer app.Close()
		pool = append(pool, servers.KubeTarget{Addr: strings.TrimPrefix(app.URL, "http://"), Labels: map[string]string{
			"job": "web", "namespace": "shop", "pod": pod, "service": "web", "container": "app", "endpoint": "http-metrics",
		}})
	}
	p := servers.StartKubePrometheus(t, bins.Prometheus3, servers.KubePrometheusOptions{
		KubeStateMetrics: ksm.Addr,
		Pools:            map[string][]servers.KubeTarget{"serviceMonitor/shop/web/0": pool},
		Alerts:           []servers.KubeAlert{oldMixinNotReady, mixinCrashLooping},
	})
	req := audit.Request{Servers: []collect.FleetSource{{Name: "prometheus", Kind: collect.KindPrometheus,
		HTTP: httpconfig.Options{URL: p.URL, Timeout: 20 * time.Second}}}}

	gen, err := audit.Files(context.Background(), req, generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var monitors []string
	var podRules []byte
	for _, f := range gen.Files {
		switch {
		case strings.HasPrefix(f.Path, kubernetes.Dir+"/"):
			for _, doc := range documents(t, f.Content) {
				obj, err := kubernetes.Decode(doc)
				if err != nil {
					t.Fatalf("%s: %v\n%s", f.Path, err, doc)
				}
				monitors = append(monitors, f.Path+": "+describe(obj))
			}
		case f.Path == "rules/"+kubernetes.FileName+".yaml":
			podRules = f.Content
		}
	}
	labels := "map[app.kubernetes.io/managed-by:blindspot release:prometheus]"
	want := []string{
		"kubernetes/kube-system.yaml: ServiceMonitor kube-system/blindspot-node-agent labels=" + labels + " selector=map[app.kubernetes.io/name:node-agent] ports=[metrics]",
		"kubernetes/payments.yaml: PodMonitor payments/blindspot-api labels=" + labels + " selector=map[app.kubernetes.io/name:api] ports=[8080]",
		"kubernetes/shop.yaml: ServiceMonitor shop/blindspot-cart labels=" + labels + " selector=map[app.kubernetes.io/name:cart] ports=[metrics]",
	}
	if !slices.Equal(monitors, want) {
		t.Errorf("monitors:\n%s\nwant:\n%s", strings.Join(monitors, "\n"), strings.Join(want, "\n"))
	}

	var file struct {
		Groups []struct {
			Rules []struct{ Alert, Expr, For string }
		}
	}
	if err := yaml.Unmarshal(podRules, &file); err != nil || len(file.Groups) != 1 {
		t.Fatalf("rules/%s.yaml: %v\n%s", kubernetes.FileName, err, podRules)
	}
	alerts := []servers.KubeAlert{oldMixinNotReady, mixinCrashLooping}
	var names []string
	for _, r := range file.Groups[0].Rules {
		names = append(names, r.Alert)
		alerts = append(alerts, servers.KubeAlert{Name: r.Alert, Expr: r.Expr, For: r.For})
	}
	if want := []string{kubernetes.AlertPodNotReady}; !slices.Equal(names, want) {
		t.Fatalf("generated pod alerts %v, want %v (the mixin's KubePodCrashLooping covers crash loops)", names, want)
	}

	before, err := audit.Report(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p.SetKubeAlerts(t, alerts)
	after, err := audit.Report(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	gap := "pods/not-ready-unalerted kube-state-metrics"
	if !slices.Contains(reported(before), gap) {
		t.Errorf("before loading the generated alert the audit reports %v, want %s among them", reported(before), gap)
	}
	if slices.Contains(reported(after), gap) {
		t.Errorf("after loading the generated alert the audit still reports %s", gap)
	}
}

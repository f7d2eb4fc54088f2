package audit_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/kubesim"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// kubeFindings returns "check subject: message" of every finding of the Kubernetes checks,
// in report order.
func kubeFindings(r report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if !strings.HasPrefix(f.Check, "workloads/") && !strings.HasPrefix(f.Check, "services/") &&
			!strings.HasPrefix(f.Check, "namespaces/") && !strings.HasPrefix(f.Check, "pods/") {
			continue
		}
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(f.Subject)) {
			kv = append(kv, k+"="+f.Subject[k])
		}
		out = append(out, f.Severity.String()+" "+f.Check+" "+strings.Join(kv, " ")+": "+f.Message)
	}
	return out
}

// The kubernetes-mixin's KubePodNotReady (prometheus-operator/kube-prometheus, Apache-2.0)
// before readiness was added, and as it is now; and its KubePodCrashLooping.
var (
	oldMixinNotReady = servers.KubeAlert{Name: "KubePodNotReady", For: "15m",
		Expr: `sum by (namespace, pod, job, cluster) (max by(namespace, pod, job, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"}) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))) > 0`}
	fixedMixinNotReady = servers.KubeAlert{Name: "KubePodNotReady", For: "15m",
		Expr: `sum by (namespace, pod, job, cluster) (max by(namespace, pod, job, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"} or (kube_pod_status_phase{job="kube-state-metrics", phase="Running"} == 1 and on(namespace, pod, cluster) kube_pod_status_ready{job="kube-state-metrics", condition="true"} == 0)) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))) > 0 unless on(namespace, pod, cluster) kube_pod_status_reason{job="kube-state-metrics", reason="SchedulingGated"} == 1`}
	mixinCrashLooping = servers.KubeAlert{Name: "KubePodCrashLooping", For: "15m",
		Expr: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1`}
)

// TestKubernetesGapsOnRealPrometheus runs kube-state-metrics' own code over the demo cluster
// (kubesim) and a real Prometheus 2 and 3 scraping it and an operator-style pool of the web
// Deployment's two pods (small fake apps): the audit finds exactly the cluster's gaps, the
// old mixin's KubePodNotReady is named and does not cover readiness, the fixed one does, and a
// snapshot gives the same findings offline.
func TestKubernetesGapsOnRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ksm, err := kubesim.Start(ctx, kubesim.Demo(time.Now().Add(-24*time.Hour)), kubesim.Options{
		AllowAnnotations: map[string][]string{"pods": {"prometheus.io/scrape"}},
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
	want := []string{
		"warning pods/crashlooping container=api namespace=payments pod=api-6b9c-x1: container \"api\" of pod api-6b9c-x1 in namespace \"payments\" is waiting in CrashLoopBackOff after 14 restart(s)",
		"warning pods/not-ready namespace=payments pod=api-6b9c-x1: pod api-6b9c-x1 of Deployment/api in namespace \"payments\" is Running and not ready",
		"warning pods/not-ready namespace=shop pod=db-0: pod db-0 of StatefulSet/db in namespace \"shop\" is Running and not ready",
		"warning services/unscraped namespace=shop service=cart: Service cart in namespace \"shop\" has metrics port metrics (9100) and no target scrapes its 1 endpoint(s)",
		"warning workloads/unscraped namespace=payments workload=Deployment/api: Deployment/api in namespace \"payments\" runs 1 pod(s) and no scrape target reaches any of them; it serves metrics: annotation prometheus.io/scrape=true",
		"warning workloads/unscraped namespace=shop workload=Deployment/cart: Deployment/cart in namespace \"shop\" runs 1 pod(s) and no scrape target reaches any of them; it serves metrics: Service cart port metrics (9100)",
		"info namespaces/unmonitored namespace=kube-system: namespace \"kube-system\" runs 2 pod(s) and not one scrape target",
		"info namespaces/unmonitored namespace=payments: namespace \"payments\" runs 1 pod(s) and not one scrape target",
		"info services/unscraped namespace=kube-system service=node-agent: Service node-agent in namespace \"kube-system\" has metrics port metrics (9101) and no target scrapes its 2 endpoint(s)",
		"info workloads/unscraped namespace=kube-system workload=DaemonSet/node-agent: DaemonSet/node-agent in namespace \"kube-system\" runs 2 pod(s) and no scrape target reaches any of them; it serves metrics: Service node-agent port metrics (9101)",
		"info workloads/unscraped namespace=shop workload=StatefulSet/db: StatefulSet/db in namespace \"shop\" runs 1 pod(s) and no scrape target reaches any of them",
		// The job's findings come after those of no job.
		"critical pods/not-ready-unalerted job=kube-state-metrics: no loaded alert fires when a Running pod fails its readiness probe (kube_pod_status_ready{condition=\"true\"} == 0): KubePodNotReady read(s) these series and stay(s) silent",
	}
	for _, v := range []struct{ name, binary string }{{"Prometheus 2", bins.Prometheus2}, {"Prometheus 3", bins.Prometheus3}} {
		t.Run(v.name+" with the old mixin's KubePodNotReady, then the fixed one.", func(t *testing.T) {
			p := servers.StartKubePrometheus(t, v.binary, servers.KubePrometheusOptions{
				KubeStateMetrics: ksm.Addr,
				Pools:            map[string][]servers.KubeTarget{"serviceMonitor/shop/web/0": pool},
				Alerts:           []servers.KubeAlert{oldMixinNotReady, mixinCrashLooping},
			})
			req := audit.Request{Servers: []collect.FleetSource{{Name: "prometheus", Kind: collect.KindPrometheus,
				HTTP: httpconfig.Options{URL: p.URL, Timeout: 20 * time.Second}}}}
			rep, err := audit.Report(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := kubeFindings(rep); !slices.Equal(got, want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			rec, err := audit.Record(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "snap")
			if err := snapshot.Write(dir, rec.Manifest); err != nil {
				t.Fatal(err)
			}
			offline, err := audit.Report(context.Background(), audit.Request{Sources: collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir, SnapshotKind: "snapshot"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := kubeFindings(offline); !slices.Equal(got, want) {
				t.Errorf("offline findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			p.SetKubeAlerts(t, []servers.KubeAlert{fixedMixinNotReady, mixinCrashLooping})
			rep, err = audit.Report(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := kubeFindings(rep); !slices.Equal(got, want[:len(want)-1]) {
				t.Errorf("with the fixed KubePodNotReady, findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want[:len(want)-1], "\n"))
			}
		})
	}
}

package kubesim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/kubesim"
)

// TestDemoIsServedByKubeStateMetrics checks that kube-state-metrics' own code describes the
// demo cluster with the series blindspot reads: owners, phases, readiness, restarts and
// waiting reasons, Services' endpoints and the allowed annotation.
func TestDemoIsServedByKubeStateMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := kubesim.Start(ctx, kubesim.Demo(time.Unix(1_700_000_000, 0)), kubesim.Options{
		AllowAnnotations: map[string][]string{"pods": {"prometheus.io/scrape"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body, err := s.Scrape()
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	lines := map[string]bool{}
	for l := range strings.Lines(text) {
		lines[strings.TrimSuffix(l, "\n")] = true
	}
	for _, want := range []string{
		`kube_pod_owner{namespace="shop",pod="web-5d4f-a",uid="00000000-0000-0000-0000-shop-web-5d4f-a",owner_kind="ReplicaSet",owner_name="web-5d4f",owner_is_controller="true"} 1`,
		`kube_replicaset_owner{namespace="shop",replicaset="web-5d4f",owner_kind="Deployment",owner_name="web",owner_is_controller="true"} 1`,
		`kube_job_owner{namespace="payments",job_name="report-28000000",owner_kind="CronJob",owner_name="report",owner_is_controller="true"} 1`,
		`kube_pod_status_ready{namespace="shop",pod="db-0",uid="00000000-0000-0000-0000-shop-db-0",condition="true"} 0`,
		`kube_pod_status_phase{namespace="payments",pod="report-28000000-z",uid="00000000-0000-0000-0000-payments-report-28000000-z",phase="Succeeded"} 1`,
		`kube_pod_container_status_restarts_total{namespace="payments",pod="api-6b9c-x1",uid="00000000-0000-0000-0000-payments-api-6b9c-x1",container="api"} 14`,
		`kube_pod_container_status_waiting_reason{namespace="payments",pod="api-6b9c-x1",uid="00000000-0000-0000-0000-payments-api-6b9c-x1",container="api",reason="CrashLoopBackOff"} 1`,
		`kube_endpoint_address{namespace="shop",endpoint="cart",port_protocol="TCP",port_number="9100",port_name="metrics",ip="10.1.0.3",ready="true"} 1`,
		`kube_pod_annotations{namespace="payments",pod="api-6b9c-x1",uid="00000000-0000-0000-0000-payments-api-6b9c-x1",annotation_prometheus_io_scrape="true"} 1`,
		`kube_service_info{namespace="kube-system",service="node-agent",uid="00000000-0000-0000-0000-kube-system-node-agent",cluster_ip="10.96.0.10",external_name="",load_balancer_ip="",external_traffic_policy=""} 1`,
	} {
		if !lines[want] {
			t.Errorf("kube-state-metrics does not expose\n%s", want)
		}
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", text)
	}
}

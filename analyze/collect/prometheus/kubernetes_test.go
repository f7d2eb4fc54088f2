package prometheus_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestCollectKubernetes(t *testing.T) {
	collect := func(t *testing.T, h http.HandlerFunc) (*analyze.Inventory, int64) {
		t.Helper()
		var queries atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/query" {
				queries.Add(1)
			}
			h(w, r)
		}))
		defer srv.Close()
		client, err := api.NewClient(api.Config{Address: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		b := analyze.NewBuilder(time.Unix(0, 0))
		b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: srv.URL})
		prometheus.CollectKubernetes(context.Background(), prometheus.NewRecorder(client)).AddTo(b, "prometheus")
		return b.Build(), queries.Load()
	}
	t.Run("Without kube-state-metrics the part is missing with the series that are, in a fixed number of queries.", func(t *testing.T) {
		inv, n := collect(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		})
		if inv.Has(analyze.PartKubernetes) || n != 15 {
			t.Errorf("part held %v after %d queries", inv.Has(analyze.PartKubernetes), n)
		}
		want := []analyze.MissingPart{{Part: analyze.PartKubernetes, Reason: "no kube-state-metrics series kube_pod_info, kube_pod_owner, kube_pod_status_phase"}}
		if got := inv.Sources[0].Missing; !slices.Equal(got, want) || len(inv.Sources[0].Errors) != 0 {
			t.Errorf("missing %v, errors %v", got, inv.Sources[0].Errors)
		}
	})
	t.Run("A server that does not serve queries lacks the part, and has no error.", func(t *testing.T) {
		inv, _ := collect(t, http.NotFound)
		want := []analyze.MissingPart{{Part: analyze.PartKubernetes, Reason: "/api/v1/query is not served (HTTP 404)"}}
		if got := inv.Sources[0].Missing; !slices.Equal(got, want) || len(inv.Sources[0].Errors) != 0 {
			t.Errorf("missing %v, errors %v", got, inv.Sources[0].Errors)
		}
	})
	t.Run("A failing query is an error of the part.", func(t *testing.T) {
		inv, _ := collect(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"unavailable","error":"overloaded"}`))
		})
		if errs := inv.Sources[0].Errors; len(errs) != 1 || errs[0].Part != analyze.PartKubernetes || inv.Has(analyze.PartKubernetes) {
			t.Errorf("errors %v", errs)
		}
	})
	t.Run("A snapshot recorded before the pods' prometheus.io/port was read keeps the part, without ports.", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = r.ParseForm()
			q := r.Form.Get("query")
			switch {
			case strings.Contains(q, "__name__=~"):
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[` +
					`{"metric":{"__name__":"kube_pod_info","job":"kube-state-metrics"},"value":[0,"1"]},` +
					`{"metric":{"__name__":"kube_pod_owner","job":"kube-state-metrics"},"value":[0,"1"]},` +
					`{"metric":{"__name__":"kube_pod_status_phase","job":"kube-state-metrics"},"value":[0,"1"]}]}}`))
			case strings.Contains(q, "kube_pod_info"):
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"payments","pod":"api-1","pod_ip":"10.1.1.2"},"value":[0,"1"]}]}}`))
			case strings.Contains(q, "annotation_prometheus_io_port"):
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"payments","pod":"api-1","annotation_prometheus_io_port":"8080"},"value":[0,"1"]}]}}`))
			default:
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
			}
		}))
		defer srv.Close()
		client, err := api.NewClient(api.Config{Address: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		rec := prometheus.NewRecorder(client)
		live := prometheus.CollectKubernetes(context.Background(), rec)
		if !live.OK || len(live.Kubernetes.Pods) != 1 || live.Kubernetes.Pods[0].PortAnnotation != "8080" {
			t.Fatalf("live: %+v", live)
		}
		var older []prometheus.Response
		for _, r := range rec.Responses() {
			if !strings.Contains(r.Query, "annotation_prometheus_io_port") {
				older = append(older, r)
			}
		}
		if len(older) != len(rec.Responses())-1 {
			t.Fatalf("the port query was not recorded: %d responses", len(rec.Responses()))
		}
		replayed := prometheus.CollectKubernetes(context.Background(), prometheus.NewAuditRecorder(prometheus.NewReplay(older)))
		if !replayed.OK || len(replayed.Kubernetes.Pods) != 1 || replayed.Kubernetes.Pods[0].PortAnnotation != "" {
			t.Errorf("replayed without the port query: %+v", replayed)
		}
	})
}

// Package kubesim serves kube-state-metrics' real output for a small cluster described in Go:
// kube-state-metrics' own metric builders (k8s.io/kube-state-metrics/v2, Apache-2.0) run on
// client-go's fake clientset, and its own HTTP handler answers /metrics on 127.0.0.1.
// Tests use it so that the series blindspot reads are the ones kube-state-metrics writes,
// never a hand-written exposition.
package kubesim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/kube-state-metrics/v2/pkg/allowdenylist"
	"k8s.io/kube-state-metrics/v2/pkg/builder"
	generator "k8s.io/kube-state-metrics/v2/pkg/metric_generator"
	"k8s.io/kube-state-metrics/v2/pkg/metricshandler"
	"k8s.io/kube-state-metrics/v2/pkg/options"
)

// Resources are the kube-state-metrics resources the simulator enables: the ones blindspot reads.
var Resources = []string{
	"pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
	"services", "endpoints", "endpointslices", "namespaces",
}

// Server is a running kube-state-metrics over a fake cluster.
type Server struct {
	URL     string // base URL; metrics are at URL + "/metrics"
	Addr    string // host:port
	srv     *http.Server
	cancel  context.CancelFunc
	handler *metricshandler.MetricsHandler
}

// Options tune what kube-state-metrics exposes.
type Options struct {
	// AllowAnnotations is kube-state-metrics' --metric-annotations-allowlist
	// (resource -> annotation names), e.g. {"pods": {"prometheus.io/scrape"}}.
	AllowAnnotations map[string][]string
}

// Start runs kube-state-metrics over a fake clientset holding objs and serves it on
// 127.0.0.1. It returns once every pod of objs shows in kube_pod_info (the informers have
// synced), or ctx ends.
func Start(ctx context.Context, objs []runtime.Object, opts Options) (*Server, error) {
	client := fake.NewClientset(objs...)
	runCtx, cancel := context.WithCancel(context.Background())

	b := builder.NewBuilder()
	b.WithMetrics(prometheus.NewRegistry())
	if err := b.WithEnabledResources(Resources); err != nil {
		cancel()
		return nil, fmt.Errorf("enabling kube-state-metrics resources: %w", err)
	}
	b.WithKubeClient(client)
	b.WithSharding(0, 1)
	b.WithContext(runCtx)
	b.WithNamespaces(options.DefaultNamespaces)
	b.WithGenerateStoresFunc(b.DefaultGenerateStoresFunc())
	filter, err := allowdenylist.New(map[string]struct{}{}, map[string]struct{}{})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("kube-state-metrics allow list: %w", err)
	}
	b.WithFamilyGeneratorFilter(generator.NewCompositeFamilyGeneratorFilter(filter))
	allow := opts.AllowAnnotations
	if allow == nil {
		allow = map[string][]string{}
	}
	if err := b.WithAllowAnnotations(allow); err != nil {
		cancel()
		return nil, fmt.Errorf("kube-state-metrics annotations allow list: %w", err)
	}
	if err := b.WithAllowLabels(map[string][]string{}); err != nil {
		cancel()
		return nil, fmt.Errorf("kube-state-metrics labels allow list: %w", err)
	}
	h := metricshandler.New(&options.Options{}, client, b, false)
	h.ConfigureSharding(runCtx, 0, 1)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("listening for kube-state-metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	s := &Server{
		URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, cancel: cancel, handler: h,
	}
	go func() { _ = s.srv.Serve(ln) }()

	pods := 0
	for _, o := range objs {
		if _, ok := o.(*corev1.Pod); ok {
			pods++
		}
	}
	if err := s.waitSynced(ctx, pods); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitSynced polls the handler until kube_pod_info has one series per pod: the informers fill
// their stores asynchronously and kube-state-metrics exposes no "synced" signal of its own.
func (s *Server) waitSynced(ctx context.Context, pods int) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		body, err := s.Scrape()
		if err == nil && bytes.Count(body, []byte("\nkube_pod_info{")) == pods {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for kube-state-metrics to list %d pods: %w", pods, errors.Join(ctx.Err(), err))
		case <-tick.C:
		}
	}
}

// Scrape returns what kube-state-metrics answers on /metrics now (text format).
func (s *Server) Scrape() ([]byte, error) {
	rec := &recorder{header: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, "/metrics", nil)
	if err != nil {
		return nil, err
	}
	s.handler.ServeHTTP(rec, req)
	return rec.body.Bytes(), nil
}

// Close stops the server and kube-state-metrics' informers.
func (s *Server) Close() {
	_ = s.srv.Close()
	s.cancel()
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(int)             {}

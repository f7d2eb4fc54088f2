package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// kubeQueries are the instant queries the kubernetes part is read with: a fixed dozen,
// whatever the number of namespaces, workloads and pods. Each is a constant expression,
// parsed once (kubeQuery) and sent as the parser prints it.
var kubeQueries = struct {
	present, pods, owners, controllers, phase, ready, notReadyFor,
	restarts, restartsLastHour, waiting, waitingFor, services, endpoints, annotations string
	// ports came after the others: a snapshot recorded before it lacks it, and keeps the part.
	ports string
}{
	present:          `group by (__name__, job) ({__name__=~"kube_pod_info|kube_pod_owner|kube_pod_status_phase|kube_pod_status_ready|kube_replicaset_owner|kube_job_owner|kube_pod_container_status_restarts_total|kube_pod_container_status_waiting_reason|kube_service_info|kube_endpoint_address|kube_pod_annotations"})`,
	pods:             `group by (namespace, pod, pod_ip) (kube_pod_info)`,
	owners:           `group by (namespace, pod, owner_kind, owner_name) (kube_pod_owner)`,
	controllers:      `group by (__name__, namespace, replicaset, job_name, owner_kind, owner_name) ({__name__=~"kube_replicaset_owner|kube_job_owner"})`,
	phase:            `group by (namespace, pod, phase) (kube_pod_status_phase == 1)`,
	ready:            `group by (namespace, pod, condition) (kube_pod_status_ready == 1)`,
	notReadyFor:      `count_over_time((max by (namespace, pod) (kube_pod_status_ready{condition="true"}) == 0)[1h:1m])`,
	restarts:         `max by (namespace, pod, container) (kube_pod_container_status_restarts_total)`,
	restartsLastHour: `max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total[1h])) > 0`,
	waiting:          `group by (namespace, pod, container, reason) (kube_pod_container_status_waiting_reason == 1)`,
	waitingFor:       `count_over_time((max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}) == 1)[1h:1m])`,
	services:         `group by (namespace, service) (kube_service_info)`,
	endpoints:        `group by (namespace, endpoint, port_name, port_number, ip) (kube_endpoint_address)`,
	annotations:      `group by (namespace, pod, annotation_prometheus_io_scrape) (kube_pod_annotations)`,
	ports:            `group by (namespace, pod, annotation_prometheus_io_port) (kube_pod_annotations{annotation_prometheus_io_port!=""})`,
}

// kubeSubqueryStep is the resolution of the "for how long in the last hour" subqueries.
const kubeSubqueryStep = time.Minute

// kubeQuery is q as the parser prints it; a constant that does not parse is a bug.
func kubeQuery(q string) string {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		panic(fmt.Sprintf("kubernetes query %q: %v", q, err))
	}
	return e.String()
}

// KubernetesResult is what collectKubernetes read.
type KubernetesResult struct {
	Kubernetes analyze.Kubernetes
	OK         bool
	// Err is the first failed query; NotRecorded is set when a snapshot lacks the queries.
	Err         error
	NotRecorded bool
	// NotServed says why the server does not answer the queries (HTTP 404, 405 or 501).
	NotServed string
}

// CollectKubernetes reads what kube-state-metrics exposed with the kubeQueries, in parallel:
// a query group of its own, made once the Prometheus itself was read, whose queries a
// Recorder records with the job_metrics part (so a snapshot replays them, and one recorded
// before they existed lacks the part rather than failing).
func CollectKubernetes(ctx context.Context, rec *Recorder) KubernetesResult {
	api := promv1.NewAPI(rec)
	qs := []string{
		kubeQueries.present, kubeQueries.pods, kubeQueries.owners, kubeQueries.controllers, kubeQueries.phase,
		kubeQueries.ready, kubeQueries.notReadyFor, kubeQueries.restarts, kubeQueries.restartsLastHour,
		kubeQueries.waiting, kubeQueries.waitingFor, kubeQueries.services, kubeQueries.endpoints, kubeQueries.annotations,
		kubeQueries.ports,
	}
	answers := make(map[string]model.Vector, len(qs))
	errs := make([]error, len(qs))
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	sem := make(chan struct{}, jobMetricsParallel)
	for i, q := range qs {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				errs[i] = context.Cause(ctx)
				return
			}
			v, _, _, err := api.Query(ctx, kubeQuery(q), time.Time{})
			if err != nil {
				errs[i] = err
				return
			}
			vec, err := vectorOf(v)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			answers[q] = vec
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || qs[i] == kubeQueries.ports && errors.Is(err, errNotRecorded) {
			continue
		}
		if status := rec.queryStatus(kubeQuery(qs[i])); isMissing(status) {
			return KubernetesResult{NotServed: fmt.Sprintf("/api/v1/query is not served (HTTP %d)", status)}
		}
		return KubernetesResult{Err: fmt.Errorf("reading what kube-state-metrics exposes (query %d of %d): %w", i+1, len(qs), err),
			NotRecorded: errors.Is(err, errNotRecorded)}
	}
	return KubernetesResult{Kubernetes: kubernetesOf(answers), OK: true}
}

// kubernetesOf assembles the answers of the kubeQueries.
func kubernetesOf(a map[string]model.Vector) analyze.Kubernetes {
	var k analyze.Kubernetes
	present := map[string]bool{}
	for _, s := range a[kubeQueries.present] {
		name := string(s.Metric[model.MetricNameLabel])
		present[name] = true
		if name == "kube_pod_info" && (k.Job == "" || string(s.Metric["job"]) < k.Job) {
			k.Job = string(s.Metric["job"])
		}
	}
	for _, name := range analyze.KubeSeries {
		if !present[name] {
			k.Missing = append(k.Missing, name)
		}
	}
	type podKey struct{ ns, pod string }
	type ctrKey struct{ ns, pod, container string }
	key := func(m model.Metric) podKey { return podKey{string(m["namespace"]), string(m["pod"])} }
	ckey := func(m model.Metric) ctrKey {
		return ctrKey{string(m["namespace"]), string(m["pod"]), string(m["container"])}
	}
	pods := map[podKey]*analyze.KubePod{}
	var order []podKey
	for _, s := range a[kubeQueries.pods] {
		pk := key(s.Metric)
		if pk.ns == "" || pk.pod == "" || pods[pk] != nil {
			continue
		}
		pods[pk] = &analyze.KubePod{Namespace: pk.ns, Name: pk.pod, IP: string(s.Metric["pod_ip"])}
		order = append(order, pk)
	}
	// Controllers of ReplicaSets and Jobs: a Deployment's ReplicaSet, a CronJob's Job.
	type ownedKey struct{ ns, kind, name string }
	controller := map[ownedKey]string{}
	for _, s := range a[kubeQueries.controllers] {
		kind, name := "ReplicaSet", string(s.Metric["replicaset"])
		if s.Metric[model.MetricNameLabel] == "kube_job_owner" {
			kind, name = "Job", string(s.Metric["job_name"])
		}
		ok, on := string(s.Metric["owner_kind"]), string(s.Metric["owner_name"])
		if name == "" || ok == "" || ok == "<none>" || on == "" || on == "<none>" {
			continue
		}
		controller[ownedKey{string(s.Metric["namespace"]), kind, name}] = ok + "/" + on
	}
	for _, s := range a[kubeQueries.owners] {
		p := pods[key(s.Metric)]
		kind, name := string(s.Metric["owner_kind"]), string(s.Metric["owner_name"])
		if p == nil || kind == "" || kind == "<none>" || name == "" || name == "<none>" {
			continue
		}
		p.Workload = kind + "/" + name
		if c, ok := controller[ownedKey{p.Namespace, kind, name}]; ok {
			p.Workload = c
		}
	}
	for _, s := range a[kubeQueries.phase] {
		if p := pods[key(s.Metric)]; p != nil {
			p.Phase = string(s.Metric["phase"])
		}
	}
	for _, s := range a[kubeQueries.ready] {
		if p := pods[key(s.Metric)]; p != nil {
			p.Ready = string(s.Metric["condition"])
		}
	}
	for _, s := range a[kubeQueries.notReadyFor] {
		if p := pods[key(s.Metric)]; p != nil {
			p.NotReadyFor = minutes(float64(s.Value))
		}
	}
	for _, s := range a[kubeQueries.annotations] {
		if p := pods[key(s.Metric)]; p != nil {
			p.ScrapeAnnotation = string(s.Metric["annotation_prometheus_io_scrape"])
		}
	}
	for _, s := range a[kubeQueries.ports] {
		if p := pods[key(s.Metric)]; p != nil {
			p.PortAnnotation = string(s.Metric["annotation_prometheus_io_port"])
		}
	}
	containers := map[ctrKey]*analyze.KubeContainer{}
	var corder []ctrKey
	container := func(m model.Metric) *analyze.KubeContainer {
		ck := ckey(m)
		if ck.container == "" || pods[podKey{ck.ns, ck.pod}] == nil {
			return nil
		}
		if c := containers[ck]; c != nil {
			return c
		}
		c := &analyze.KubeContainer{Name: ck.container}
		containers[ck] = c
		corder = append(corder, ck)
		return c
	}
	for _, s := range a[kubeQueries.restarts] {
		if c := container(s.Metric); c != nil {
			c.Restarts = float64(s.Value)
		}
	}
	for _, s := range a[kubeQueries.restartsLastHour] {
		if c := container(s.Metric); c != nil {
			c.RestartsLastHour = math.Round(float64(s.Value))
		}
	}
	for _, s := range a[kubeQueries.waiting] {
		if c := container(s.Metric); c != nil {
			c.Waiting = string(s.Metric["reason"])
		}
	}
	for _, s := range a[kubeQueries.waitingFor] {
		if c := container(s.Metric); c != nil {
			c.WaitingFor = minutes(float64(s.Value))
		}
	}
	for _, ck := range corder {
		p := pods[podKey{ck.ns, ck.pod}]
		p.Containers = append(p.Containers, *containers[ck])
	}
	for _, pk := range order {
		k.Pods = append(k.Pods, *pods[pk])
	}

	type svcKey struct{ ns, name string }
	svcs := map[svcKey]*analyze.KubeService{}
	var sorder []svcKey
	for _, s := range a[kubeQueries.services] {
		sk := svcKey{string(s.Metric["namespace"]), string(s.Metric["service"])}
		if sk.ns == "" || sk.name == "" || svcs[sk] != nil {
			continue
		}
		svcs[sk] = &analyze.KubeService{Namespace: sk.ns, Name: sk.name}
		sorder = append(sorder, sk)
	}
	for _, s := range a[kubeQueries.endpoints] {
		// An Endpoints object has its Service's name.
		svc := svcs[svcKey{string(s.Metric["namespace"]), string(s.Metric["endpoint"])}]
		if svc == nil {
			continue
		}
		if n, err := strconv.Atoi(string(s.Metric["port_number"])); err == nil {
			port := analyze.KubePort{Name: string(s.Metric["port_name"]), Number: n}
			if !slices.Contains(svc.Ports, port) {
				svc.Ports = append(svc.Ports, port)
			}
		}
		if ip := string(s.Metric["ip"]); net.ParseIP(ip) != nil {
			svc.Addresses = append(svc.Addresses, ip)
		}
	}
	for _, sk := range sorder {
		k.Services = append(k.Services, *svcs[sk])
	}
	return k
}

// minutes is a count of subquery steps as a duration.
func minutes(n float64) time.Duration {
	if n <= 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0
	}
	return time.Duration(n) * kubeSubqueryStep
}

// AddTo records the result in b, on the source called source: the part when kube-state-
// metrics' pods were found, else why it is missing (which series, or that a snapshot lacks
// the queries); a failed query is an error of the part.
func (r KubernetesResult) AddTo(b *analyze.Builder, source string) {
	switch {
	case r.OK && r.Kubernetes.Ready():
		b.SetKubernetes(r.Kubernetes)
		b.AddPart(analyze.PartKubernetes)
	case r.OK:
		var missing []string
		for _, s := range analyze.KubeRequiredSeries {
			if !r.Kubernetes.Has(s) {
				missing = append(missing, s)
			}
		}
		b.AddMissing(source, analyze.MissingPart{Part: analyze.PartKubernetes,
			Reason: "no kube-state-metrics series " + strings.Join(missing, ", ")})
	case r.NotServed != "":
		b.AddMissing(source, analyze.MissingPart{Part: analyze.PartKubernetes, Reason: r.NotServed})
	case r.NotRecorded:
		b.AddMissing(source, analyze.MissingPart{Part: analyze.PartKubernetes, Reason: "the kube-state-metrics queries are not in the snapshot"})
	default:
		b.AnnotateSource(source, []analyze.SourceError{{Part: analyze.PartKubernetes, Err: describe(r.Err)}}, nil)
	}
}

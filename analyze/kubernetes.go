package analyze

import (
	"cmp"
	"slices"
	"time"
)

// PartKubernetes is what kube-state-metrics told the Prometheus about the cluster: the pods,
// their workloads, phase, readiness and containers, and the Services with their endpoints,
// read with a fixed handful of batched queries whatever the size of the cluster.
const PartKubernetes Part = "kubernetes"

// KubeSeries are the kube-state-metrics series the Kubernetes checks read. Without the first
// three (KubeRequiredSeries) they do not run, and the report says which were missing.
var KubeSeries = []string{
	"kube_pod_info", "kube_pod_owner", "kube_pod_status_phase", "kube_pod_status_ready",
	"kube_replicaset_owner", "kube_job_owner",
	"kube_pod_container_status_restarts_total", "kube_pod_container_status_waiting_reason",
	"kube_service_info", "kube_endpoint_address", "kube_pod_annotations",
}

// KubeRequiredSeries are the series without which nothing is known of the cluster's pods.
var KubeRequiredSeries = []string{"kube_pod_info", "kube_pod_owner", "kube_pod_status_phase"}

// Kubernetes is what kube-state-metrics exposed about the cluster (PartKubernetes).
type Kubernetes struct {
	// Job is the job label of kube-state-metrics' kube_pod_info series (the first, sorted,
	// when several kube-state-metrics are scraped).
	Job string
	// Missing are the series of KubeSeries the Prometheus held none of, sorted.
	Missing []string
	// Pods are sorted by Namespace, Name.
	Pods []KubePod
	// Services are sorted by Namespace, Name.
	Services []KubeService
}

// Has reports whether kube-state-metrics' series name was found.
func (k Kubernetes) Has(series string) bool { return !slices.Contains(k.Missing, series) }

// Ready reports whether the checks can run: every series of KubeRequiredSeries was found.
func (k Kubernetes) Ready() bool {
	for _, s := range KubeRequiredSeries {
		if !k.Has(s) {
			return false
		}
	}
	return true
}

// KubePod is one pod as kube-state-metrics describes it.
type KubePod struct {
	Namespace, Name string
	IP              string
	// Phase is Running, Pending, Succeeded, Failed or Unknown ("" when unknown).
	Phase string
	// Ready is the pod's Ready condition: "true", "false", "unknown", or "" when not exposed.
	Ready string
	// NotReadyFor is how long the Ready condition was false within the last hour (as the
	// last hour's samples show), 0 when ready.
	NotReadyFor time.Duration
	// Workload is the controller the pod belongs to, resolved through its ReplicaSet or Job:
	// "Deployment/web", "StatefulSet/db", "DaemonSet/agent", "CronJob/report", or the direct
	// owner ("ReplicaSet/x", "Job/y") when no other owns it; "" for a bare pod.
	Workload string
	// ScrapeAnnotation is the pod's prometheus.io/scrape annotation, when kube-state-metrics'
	// annotation allowlist exposes it.
	ScrapeAnnotation string
	// Containers are sorted by Name.
	Containers []KubeContainer
	// PortAnnotation is the pod's prometheus.io/port annotation, when kube-state-metrics'
	// annotation allowlist exposes it: the port a PodMonitor scrapes.
	PortAnnotation string
}

// WorkloadKind is the kind of the pod's workload ("Deployment"), "" for a bare pod.
func (p KubePod) WorkloadKind() string {
	kind, _, _ := cutSlash(p.Workload)
	return kind
}

func cutSlash(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// KubeContainer is one container of a pod.
type KubeContainer struct {
	Name string
	// Restarts is kube_pod_container_status_restarts_total; RestartsLastHour its increase
	// over the last hour.
	Restarts, RestartsLastHour float64
	// Waiting is the reason the container waits (CrashLoopBackOff), "" when it does not.
	Waiting string
	// WaitingFor is how long it waited for that reason within the last hour.
	WaitingFor time.Duration
}

// KubeService is one Service, with the ports and addresses of its Endpoints.
type KubeService struct {
	Namespace, Name string
	Ports           []KubePort // sorted by Name, Number
	// Addresses are the IPs of its endpoints, sorted.
	Addresses []string
}

// KubePort is a named port of a Service's endpoints.
type KubePort struct {
	Name   string
	Number int
}

// AddMissing records on the source called name a part it does not provide.
func (b *Builder) AddMissing(name string, m MissingPart) {
	for i := range b.sources {
		if b.sources[i].Name == name {
			b.sources[i].Missing = append(b.sources[i].Missing, m)
			return
		}
	}
}

// HasKubernetes reports whether SetKubernetes was called with pods.
func (b *Builder) HasKubernetes() bool { return b.parts[PartKubernetes] }

// SetKubernetes records what kube-state-metrics exposed.
func (b *Builder) SetKubernetes(k Kubernetes) { b.kubernetes = k }

// sortedKubernetes sorts k's lists, so that the inventory does not depend on answer order.
func sortedKubernetes(k Kubernetes) Kubernetes {
	k.Missing = slices.Clone(k.Missing)
	slices.Sort(k.Missing)
	k.Pods = slices.Clone(k.Pods)
	slices.SortFunc(k.Pods, func(a, c KubePod) int {
		return cmp.Or(cmp.Compare(a.Namespace, c.Namespace), cmp.Compare(a.Name, c.Name))
	})
	for i := range k.Pods {
		k.Pods[i].Containers = slices.Clone(k.Pods[i].Containers)
		slices.SortFunc(k.Pods[i].Containers, func(a, c KubeContainer) int { return cmp.Compare(a.Name, c.Name) })
	}
	k.Services = slices.Clone(k.Services)
	slices.SortFunc(k.Services, func(a, c KubeService) int {
		return cmp.Or(cmp.Compare(a.Namespace, c.Namespace), cmp.Compare(a.Name, c.Name))
	})
	for i := range k.Services {
		s := &k.Services[i]
		s.Ports = slices.Clone(s.Ports)
		slices.SortFunc(s.Ports, func(a, c KubePort) int { return cmp.Or(cmp.Compare(a.Name, c.Name), cmp.Compare(a.Number, c.Number)) })
		s.Ports = slices.Compact(s.Ports)
		s.Addresses = slices.Compact(slices.Sorted(slices.Values(s.Addresses)))
	}
	return k
}

package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// WorkloadsUnscrapedName is the ID of the WorkloadsUnscraped check.
const WorkloadsUnscrapedName = "workloads/unscraped"

// WorkloadsUnscraped reports the workloads running pods that no scrape target reaches: no job,
// no up series, so no other check can see them.
type WorkloadsUnscraped struct {
	Namespaces Kubernetes
}

var workloadsUnscrapedMeta = Meta{
	ID:          WorkloadsUnscrapedName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartKubernetes, analyze.PartTargets},
	SubjectKeys: []string{"namespace", "workload"},
	Scope:       ScopeWorkload,
	Summary:     "a Kubernetes workload with running pods that no scrape target reaches (kube-state-metrics)",
	Finds: "a Deployment, StatefulSet, DaemonSet or CronJob (`workload`: `Deployment/web`) with running pods none of which is a target, matched on the targets' `namespace` and `pod` labels " +
		"(or `kubernetes_namespace`, `kubernetes_pod_name`) and on the pods' IPs; warning when a Service port or the pod's annotation says it serves metrics, info otherwise and in system namespaces. " +
		"Details: `pods`, `evidence`, `matched_on`",
}

func (WorkloadsUnscraped) Meta() Meta { return workloadsUnscrapedMeta }

// workloadOf is a pod's workload as the subject names it: its controller, or Pod/<name>.
func workloadOf(p analyze.KubePod) string {
	if p.Workload != "" {
		return p.Workload
	}
	return "Pod/" + p.Name
}

// servicesByAddress indexes the Services by namespace and endpoint IP.
func servicesByAddress(inv *analyze.Inventory) map[[2]string][]*analyze.KubeService {
	out := map[[2]string][]*analyze.KubeService{}
	for i := range inv.Kubernetes.Services {
		s := &inv.Kubernetes.Services[i]
		for _, a := range s.Addresses {
			out[[2]string{s.Namespace, a}] = append(out[[2]string{s.Namespace, a}], s)
		}
	}
	return out
}

// evidence says why a set of pods seems to serve metrics: a metrics-named port of a Service
// whose endpoints are theirs, or a prometheus.io/scrape annotation.
func evidence(byAddress map[[2]string][]*analyze.KubeService, pods []analyze.KubePod) []string {
	var out []string
	for _, p := range pods {
		if p.ScrapeAnnotation == "true" {
			out = append(out, "annotation prometheus.io/scrape=true")
		}
		if p.IP == "" {
			continue
		}
		for _, s := range byAddress[[2]string{p.Namespace, p.IP}] {
			for _, port := range s.Ports {
				if metricsPort.MatchString(port.Name) {
					out = append(out, fmt.Sprintf("Service %s port %s (%d)", s.Name, port.Name, port.Number))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (c WorkloadsUnscraped) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	sc := newScraped(inv)
	byAddress := servicesByAddress(inv)
	type key struct{ ns, workload string }
	groups := map[key][]analyze.KubePod{}
	for _, p := range kubePods(inv, c.Namespaces) {
		k := key{p.Namespace, workloadOf(p)}
		groups[k] = append(groups[k], p)
	}
	keys := slices.SortedFunc(func(yield func(key) bool) {
		for k := range groups {
			if !yield(k) {
				return
			}
		}
	}, func(a, b key) int { return cmp.Or(cmp.Compare(a.ns, b.ns), cmp.Compare(a.workload, b.workload)) })
	var out []analyze.Finding
workloads:
	for _, k := range keys {
		var running []analyze.KubePod
		for _, p := range groups[k] {
			if _, ok := sc.pod(p); ok {
				continue workloads
			}
			if p.Phase == "Running" {
				running = append(running, p)
			}
		}
		if len(running) == 0 {
			continue
		}
		ev := evidence(byAddress, running)
		details := map[string]string{
			"pods":       strconv.Itoa(len(running)),
			"matched_on": "targets' namespace+pod labels and pod IPs",
		}
		why := ""
		if len(ev) > 0 {
			details["evidence"] = strings.Join(ev, "; ")
			why = "; it serves metrics: " + strings.Join(ev, "; ")
		}
		f := c.Meta().finding(map[string]string{"namespace": k.ns, "workload": k.workload},
			fmt.Sprintf("%s in namespace %s runs %d pod(s) and no scrape target reaches any of them%s", k.workload, strconv.Quote(k.ns), len(running), why),
			details)
		f.Severity = kubeSeverity(workloadsUnscrapedMeta, k.ns, len(ev) > 0)
		out = append(out, f)
	}
	return out
}

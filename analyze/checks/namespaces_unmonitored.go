package checks

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
)

// NamespacesUnmonitoredName is the ID of the NamespacesUnmonitored check.
const NamespacesUnmonitoredName = "namespaces/unmonitored"

// NamespacesUnmonitored reports the namespaces with running pods and not a single target.
type NamespacesUnmonitored struct {
	Namespaces Kubernetes
}

var namespacesUnmonitoredMeta = Meta{
	ID:          NamespacesUnmonitoredName,
	Severity:    analyze.Info,
	Requires:    []analyze.Part{analyze.PartKubernetes, analyze.PartTargets},
	SubjectKeys: []string{"namespace"},
	Scope:       ScopeNamespace,
	Summary:     "a Kubernetes namespace with running pods and not a single scrape target",
	Finds:       "a namespace with running pods (kube-state-metrics) where no target carries the namespace (`namespace` or `kubernetes_namespace` label) nor a pod's IP. Details: `running_pods`",
}

func (NamespacesUnmonitored) Meta() Meta { return namespacesUnmonitoredMeta }

func (c NamespacesUnmonitored) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	sc := newScraped(inv)
	running := map[string]int{}
	monitored := map[string]bool{}
	for _, p := range kubePods(inv, c.Namespaces) {
		if _, ok := sc.pod(p); ok || sc.namespaces[p.Namespace] {
			monitored[p.Namespace] = true
		}
		if p.Phase == "Running" {
			running[p.Namespace]++
		}
	}
	var out []analyze.Finding
	for _, ns := range slices.Sorted(func(yield func(string) bool) {
		for ns := range running {
			if !yield(ns) {
				return
			}
		}
	}) {
		if monitored[ns] {
			continue
		}
		out = append(out, c.Meta().finding(map[string]string{"namespace": ns},
			fmt.Sprintf("namespace %s runs %d pod(s) and not one scrape target", strconv.Quote(ns), running[ns]),
			map[string]string{"running_pods": strconv.Itoa(running[ns])}))
	}
	return out
}

package checks

import (
	"fmt"
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
)

// PodsNotReadyName is the ID of the PodsNotReady check.
const PodsNotReadyName = "pods/not-ready"

// PodsNotReady reports the Running pods that are not ready now, with for how long.
type PodsNotReady struct {
	Namespaces Kubernetes
}

var podsNotReadyMeta = Meta{
	ID:          PodsNotReadyName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartKubernetes},
	SubjectKeys: []string{"namespace", "pod"},
	Scope:       ScopePod,
	Summary:     "a Running pod that is not ready now",
	Finds:       "a pod in phase Running whose Ready condition is false now (`kube_pod_status_ready`), with how long within the last hour. Details: `workload`, `not_ready_for`",
}

func (PodsNotReady) Meta() Meta { return podsNotReadyMeta }

func (c PodsNotReady) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	var out []analyze.Finding
	for _, p := range kubePods(inv, c.Namespaces) {
		if p.Phase != "Running" || p.Ready != "false" {
			continue
		}
		f := c.Meta().finding(map[string]string{"namespace": p.Namespace, "pod": p.Name},
			fmt.Sprintf("pod %s of %s in namespace %s is Running and not ready", p.Name, workloadOf(p), strconv.Quote(p.Namespace)),
			map[string]string{"workload": workloadOf(p), "not_ready_for": since(p.NotReadyFor)})
		if systemNamespace(p.Namespace) {
			f.Severity = analyze.Info
		}
		out = append(out, f)
	}
	return out
}

package checks

import (
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// PodsNotReadyUnalertedName is the ID of the PodsNotReadyUnalerted check.
const PodsNotReadyUnalertedName = "pods/not-ready-unalerted"

// PodsNotReadyUnalerted reports that no loaded alert fires when a Running pod fails its
// readiness probe, decided by evaluating the alerts (coverage.KubePods), not by their names.
type PodsNotReadyUnalerted struct{}

var podsNotReadyUnalertedMeta = Meta{
	ID:          PodsNotReadyUnalertedName,
	Severity:    analyze.Critical,
	Requires:    []analyze.Part{analyze.PartKubernetes, analyze.PartRules},
	SubjectKeys: []string{"job"},
	Scope:       ScopeJob,
	Summary:     "no alert fires when a Running pod fails its readiness probe",
	Finds: "no loaded alert fires, in every namespace, for a Running pod whose `kube_pod_status_ready{condition=\"true\"}` is 0, decided by evaluating the alerts over kube-state-metrics series " +
		"(an old kubernetes-mixin `KubePodNotReady`, phase only, does not cover it); `job` is kube-state-metrics' job label. Details: `read_by` (alerts that read the series and stay silent)",
}

func (PodsNotReadyUnalerted) Meta() Meta { return podsNotReadyUnalertedMeta }

func (PodsNotReadyUnalerted) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	if d.Kube == nil || len(inv.Kubernetes.Pods) == 0 || len(d.Kube.NotReady) > 0 {
		return nil
	}
	return []analyze.Finding{kubeUnalerted(podsNotReadyUnalertedMeta, d.Kube.Job, d.Kube.ReadNotReady,
		"no loaded alert fires when a Running pod fails its readiness probe (kube_pod_status_ready{condition=\"true\"} == 0)")}
}

// kubeUnalerted is the finding of a pod failure no alert covers, naming the alerts that read
// its series and stay silent.
func kubeUnalerted(m Meta, job string, readBy []coverage.RuleRef, msg string) analyze.Finding {
	var details map[string]string
	if len(readBy) > 0 {
		var names []string
		for _, r := range readBy {
			names = append(names, r.Name)
		}
		details = map[string]string{"read_by": strings.Join(names, ", ")}
		msg += ": " + strings.Join(names, ", ") + " read(s) these series and stay(s) silent"
	}
	return m.finding(map[string]string{"job": job}, msg, details)
}

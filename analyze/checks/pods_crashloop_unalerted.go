package checks

import (
	"github.com/blindspot-dev/blindspot/analyze"
)

// PodsCrashloopUnalertedName is the ID of the PodsCrashloopUnalerted check.
const PodsCrashloopUnalertedName = "pods/crashloop-unalerted"

// PodsCrashloopUnalerted reports that no loaded alert fires when a container crash-loops,
// decided by evaluating the alerts (coverage.KubePods), not by their names.
type PodsCrashloopUnalerted struct{}

var podsCrashloopUnalertedMeta = Meta{
	ID:          PodsCrashloopUnalertedName,
	Severity:    analyze.Critical,
	Requires:    []analyze.Part{analyze.PartKubernetes, analyze.PartRules},
	SubjectKeys: []string{"job"},
	Scope:       ScopeJob,
	Summary:     "no alert fires when a container crash-loops",
	Finds: "no loaded alert fires, in every namespace, for a container whose `kube_pod_container_status_restarts_total` keeps increasing while it waits with reason `CrashLoopBackOff`, " +
		"decided by evaluating the alerts over kube-state-metrics series; `job` is kube-state-metrics' job label. Details: `read_by` (alerts that read the series and stay silent)",
}

func (PodsCrashloopUnalerted) Meta() Meta { return podsCrashloopUnalertedMeta }

func (PodsCrashloopUnalerted) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	if d.Kube == nil || len(inv.Kubernetes.Pods) == 0 || len(d.Kube.CrashLoop) > 0 {
		return nil
	}
	return []analyze.Finding{kubeUnalerted(podsCrashloopUnalertedMeta, d.Kube.Job, d.Kube.ReadCrashLoop,
		"no loaded alert fires when a container crash-loops (restarts increasing, waiting reason CrashLoopBackOff)")}
}

package checks

import (
	"fmt"
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
)

// PodsCrashloopingName is the ID of the PodsCrashlooping check.
const PodsCrashloopingName = "pods/crashlooping"

// PodsCrashlooping reports the containers crash-looping now: waiting with reason
// CrashLoopBackOff, or restarted within the last hour.
type PodsCrashlooping struct {
	Namespaces Kubernetes
}

var podsCrashloopingMeta = Meta{
	ID:          PodsCrashloopingName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartKubernetes},
	SubjectKeys: []string{"namespace", "pod", "container"},
	Scope:       ScopeContainer,
	Summary:     "a container crash-looping now",
	Finds: "a container waiting with reason `CrashLoopBackOff` now, or restarted within the last hour (`kube_pod_container_status_restarts_total`). " +
		"Details: `workload`, `restarts`, `restarts_last_hour`, `waiting` and `crashlooping_for` (how long within the last hour)",
}

func (PodsCrashlooping) Meta() Meta { return podsCrashloopingMeta }

func (c PodsCrashlooping) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	var out []analyze.Finding
	for _, p := range kubePods(inv, c.Namespaces) {
		for _, ct := range p.Containers {
			if ct.Name == "" || (ct.Waiting != "CrashLoopBackOff" && ct.RestartsLastHour <= 0) {
				continue
			}
			details := map[string]string{
				"workload":           workloadOf(p),
				"restarts":           strconv.FormatFloat(ct.Restarts, 'f', -1, 64),
				"restarts_last_hour": strconv.FormatFloat(ct.RestartsLastHour, 'f', -1, 64),
			}
			state := "restarted within the last hour"
			if ct.Waiting == "CrashLoopBackOff" {
				details["waiting"] = ct.Waiting
				details["crashlooping_for"] = since(ct.WaitingFor)
				state = "waiting in CrashLoopBackOff"
			}
			f := c.Meta().finding(map[string]string{"namespace": p.Namespace, "pod": p.Name, "container": ct.Name},
				fmt.Sprintf("container %s of pod %s in namespace %s is %s after %s restart(s)", strconv.Quote(ct.Name), p.Name, strconv.Quote(p.Namespace), state, details["restarts"]),
				details)
			if systemNamespace(p.Namespace) {
				f.Severity = analyze.Info
			}
			out = append(out, f)
		}
	}
	return out
}

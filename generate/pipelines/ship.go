package pipelines

import (
	"fmt"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// ShipFiles writes, for every job whose logs reach no Loki stream (logs/unaggregated), an
// Alloy snippet that ships them, as a starting point: Kubernetes targets (with namespace and
// pod labels) get pod-log discovery narrowed to the job's pods; others get a file source whose
// path the user adapts.
func ShipFiles(inv *analyze.Inventory, jobs []string) ([]generate.File, error) {
	var files []generate.File
	for _, job := range jobs {
		stem := promqlbuild.FileStem(job)
		id := strings.ReplaceAll(stem, "-", "_")
		id = strings.ReplaceAll(id, ".", "_")
		w := &alloyWriter{}
		w.line("// %s", generate.Header)
		w.line("// Ships the logs of job %s to Loki, labelled job=%s so that blindspot relates them", alloyString(job), alloyString(job))
		w.line("// to the job. A starting point: review it, then wire loki.write.default to your Loki.")
		w.line("")
		namespaces, kubernetes := podNamespaces(inv, job)
		if kubernetes {
			w.open(fmt.Sprintf("discovery.kubernetes %s", alloyString("ship_"+id)))
			w.line("role = %s", alloyString("pod"))
			w.open("namespaces")
			quoted := make([]string, len(namespaces))
			for i, ns := range namespaces {
				quoted[i] = alloyString(ns)
			}
			w.line("names = [%s]", strings.Join(quoted, ", "))
			w.close()
			w.close()
			w.line("")
			w.open(fmt.Sprintf("discovery.relabel %s", alloyString("ship_"+id)))
			w.line("targets = discovery.kubernetes.ship_%s.targets", id)
			w.line("")
			w.open("rule")
			w.line("target_label = %s", alloyString("job"))
			w.line("replacement  = %s", alloyString(job))
			w.close()
			w.close()
			w.line("")
			w.open(fmt.Sprintf("loki.source.kubernetes %s", alloyString("ship_"+id)))
			w.line("targets    = discovery.relabel.ship_%s.output", id)
			w.line("forward_to = [loki.write.default.receiver]")
			w.close()
		} else {
			w.open(fmt.Sprintf("local.file_match %s", alloyString("ship_"+id)))
			w.line("// Adapt the path to where the job writes its logs.")
			w.line("path_targets = [{%s = %s, %s = %s}]", alloyString("__path__"), alloyString("/var/log/"+stem+"/*.log"), alloyString("job"), alloyString(job))
			w.close()
			w.line("")
			w.open(fmt.Sprintf("loki.source.file %s", alloyString("ship_"+id)))
			w.line("targets    = local.file_match.ship_%s.targets", id)
			w.line("forward_to = [loki.write.default.receiver]")
			w.close()
		}
		files = append(files, generate.File{Path: "pipelines/alloy/ship-" + stem + ".alloy", Content: w.b.Bytes()})
	}
	return files, nil
}

// podNamespaces returns the namespaces of the job's targets when they are Kubernetes pods.
func podNamespaces(inv *analyze.Inventory, job string) ([]string, bool) {
	var out []string
	for _, t := range inv.TargetsOf(job) {
		ns, pod := t.Labels["namespace"], t.Labels["pod"]
		if ns == "" || pod == "" {
			return nil, false
		}
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out, len(out) > 0
}

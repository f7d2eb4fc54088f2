// Package kubernetes writes the fix of the Kubernetes gaps: a ServiceMonitor or PodMonitor
// for each Service or workload no target scrapes (kubernetes/<namespace>.yaml), and the
// readiness and crash-loop alerts over every namespace when no loaded alert covers them
// (rules/kubernetes-pods.yaml, with its promtool tests and runbooks).
package kubernetes

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
)

// Dir is the directory of the monitors in the output directory: one file per namespace,
// kubernetes/<namespace>.yaml, holding its ServiceMonitors then its PodMonitors, by name.
const Dir = "kubernetes"

// ManagedBy is the app.kubernetes.io/managed-by label of every monitor.
const ManagedBy = "blindspot"

// Monitors writes a ServiceMonitor for each Service with a metrics port that no target
// scrapes (services/unscraped, and the Services whose endpoints are the pods of an unscraped
// workload), and a PodMonitor for an unscraped workload that no such Service selects but
// whose pods name their metrics port (prometheus.io/port).
type Monitors struct{}

func (Monitors) Name() string   { return "Kubernetes monitors" }
func (Monitors) Dirs() []string { return []string{Dir} }

func (Monitors) Generate(in generate.Input, out *generate.Output) error {
	files, notes, err := Files(in.Inventory, in.Findings, in.Options)
	out.Files = append(out.Files, files...)
	out.Notes = append(out.Notes, notes...)
	return err
}

// monitor is one object to write: a *monitoringv1.ServiceMonitor or *monitoringv1.PodMonitor.
type monitor struct {
	kind, name string
	// from is what the monitor scrapes ("Service/web", "Deployment/api"): of two monitors
	// of one name, the first by from is written.
	from string
	obj  any
}

// Files returns the monitors' files, one per namespace, and notes on the gaps no monitor
// could close (no known metrics port).
func Files(inv *analyze.Inventory, findings []analyze.Finding, o generate.Options) ([]generate.File, []string, error) {
	o = generate.DefaultOptions(o)
	if inv == nil {
		return nil, nil, nil
	}
	k := inv.Kubernetes
	// Indexes, so that a cluster of thousands of workloads is read once.
	services := map[[2]string]*analyze.KubeService{}
	byAddress := map[[2]string][]*analyze.KubeService{} // namespace, endpoint IP
	for i := range k.Services {
		s := &k.Services[i]
		services[[2]string{s.Namespace, s.Name}] = s
		if len(metricsPorts(s)) == 0 {
			continue
		}
		for _, a := range s.Addresses {
			byAddress[[2]string{s.Namespace, a}] = append(byAddress[[2]string{s.Namespace, a}], s)
		}
	}
	running := map[[2]string][]analyze.KubePod{} // namespace, workload as the finding names it
	for _, p := range k.Pods {
		if p.Phase != "Running" {
			continue
		}
		wl := p.Workload
		if wl == "" {
			wl = "Pod/" + p.Name
		}
		running[[2]string{p.Namespace, wl}] = append(running[[2]string{p.Namespace, wl}], p)
	}
	wanted := map[[2]string]bool{} // Services to monitor
	type workload struct {
		ns, name string
		port     int32
	}
	var podWorkloads []workload
	var notes []string
	for _, f := range findings {
		switch f.Check {
		case checks.ServicesUnscrapedName:
			key := [2]string{f.Subject["namespace"], f.Subject["service"]}
			if s := services[key]; s != nil && len(metricsPorts(s)) > 0 {
				wanted[key] = true
			}
		case checks.WorkloadsUnscrapedName:
			ns, wl := f.Subject["namespace"], f.Subject["workload"]
			pods := running[[2]string{ns, wl}]
			selected := false
			for _, p := range pods {
				for _, s := range byAddress[[2]string{ns, p.IP}] {
					wanted[[2]string{s.Namespace, s.Name}] = true
					selected = true
				}
			}
			if selected {
				continue
			}
			if podPort(pods) == 0 {
				// Only a workload that seems to serve metrics is worth a note: most pods serve none.
				if f.Details["evidence"] == "" {
					continue
				}
				notes = append(notes, fmt.Sprintf("%s/%s.yaml: no monitor for %s in namespace %s: no Service with a metrics port selects its pods and they carry no prometheus.io/port annotation kube-state-metrics exposes",
					Dir, ns, wl, strconv.Quote(ns)))
				continue
			}
			podWorkloads = append(podWorkloads, workload{ns, wl, podPort(pods)})
		}
	}

	byNS := map[string][]monitor{}
	for key := range wanted {
		m, err := serviceMonitor(services[key], o)
		if err != nil {
			return nil, notes, err
		}
		byNS[key[0]] = append(byNS[key[0]], m)
	}
	for _, w := range podWorkloads {
		m, err := podMonitor(w.ns, w.name, w.port, o)
		if err != nil {
			return nil, notes, err
		}
		byNS[w.ns] = append(byNS[w.ns], m)
	}

	var files []generate.File
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		ms := byNS[ns]
		slices.SortFunc(ms, func(a, b monitor) int {
			return cmp.Or(cmp.Compare(kindOrder(a.kind), kindOrder(b.kind)), cmp.Compare(a.name, b.name), cmp.Compare(a.from, b.from))
		})
		// Two workloads may need the same PodMonitor name; the first wins, the rest are noted.
		kept := ms[:0]
		for _, m := range ms {
			if n := len(kept); n > 0 && kept[n-1].kind == m.kind && kept[n-1].name == m.name {
				notes = append(notes, fmt.Sprintf("%s/%s.yaml: %s and %s would both get the %s %s; only the first is written", Dir, ns, kept[n-1].from, m.from, m.kind, m.name))
				continue
			}
			kept = append(kept, m)
		}
		ms = kept
		content, err := render(ms)
		if err != nil {
			return nil, notes, fmt.Errorf("generating %s/%s.yaml: %w", Dir, ns, err)
		}
		files = append(files, generate.File{Path: Dir + "/" + ns + ".yaml", Content: content})
	}
	slices.Sort(notes)
	return files, slices.Compact(notes), nil
}

func kindOrder(kind string) int {
	if kind == monitoringv1.ServiceMonitorsKind {
		return 0
	}
	return 1
}

// metricsPorts are the names of a Service's ports that say they serve metrics, sorted.
func metricsPorts(s *analyze.KubeService) []string {
	var out []string
	for _, p := range s.Ports {
		if p.Name != "" && checks.IsMetricsPort(p.Name) {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// podPort is the prometheus.io/port the pods agree on, 0 when none says or they disagree.
func podPort(pods []analyze.KubePod) int32 {
	port := ""
	for _, p := range pods {
		switch {
		case p.PortAnnotation == "":
		case port == "":
			port = p.PortAnnotation
		case port != p.PortAnnotation:
			return 0
		}
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return int32(n)
}

func objectMeta(name, ns string, o generate.Options) (metav1.ObjectMeta, error) {
	name = o.Operator.NamePrefix + name
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return metav1.ObjectMeta{}, fmt.Errorf("%q is not a valid Kubernetes object name: %s", name, strings.Join(errs, "; "))
	}
	labels := maps.Clone(o.Kubernetes.Labels)
	labels["app.kubernetes.io/managed-by"] = ManagedBy
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, nil
}

// serviceMonitor scrapes every metrics port of s, by name, on the Services carrying
// SelectorLabel=<s.Name> in s's namespace.
func serviceMonitor(s *analyze.KubeService, o generate.Options) (monitor, error) {
	meta, err := objectMeta(s.Name, s.Namespace, o)
	if err != nil {
		return monitor{}, err
	}
	sm := &monitoringv1.ServiceMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.ServiceMonitorsKind},
		ObjectMeta: meta,
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector:          metav1.LabelSelector{MatchLabels: map[string]string{o.Kubernetes.SelectorLabel: s.Name}},
			NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: []string{s.Namespace}},
		},
	}
	for _, p := range metricsPorts(s) {
		sm.Spec.Endpoints = append(sm.Spec.Endpoints, monitoringv1.Endpoint{Port: p})
	}
	return monitor{kind: monitoringv1.ServiceMonitorsKind, name: meta.Name, from: "Service/" + s.Name, obj: sm}, nil
}

// podMonitor scrapes port of the pods carrying SelectorLabel=<workload name> in ns.
func podMonitor(ns, wl string, port int32, o generate.Options) (monitor, error) {
	_, name, _ := strings.Cut(wl, "/")
	meta, err := objectMeta(name, ns, o)
	if err != nil {
		return monitor{}, err
	}
	pm := &monitoringv1.PodMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PodMonitorsKind},
		ObjectMeta: meta,
		Spec: monitoringv1.PodMonitorSpec{
			Selector:            metav1.LabelSelector{MatchLabels: map[string]string{o.Kubernetes.SelectorLabel: name}},
			NamespaceSelector:   monitoringv1.NamespaceSelector{MatchNames: []string{ns}},
			PodMetricsEndpoints: []monitoringv1.PodMetricsEndpoint{{PortNumber: &port}},
		},
	}
	return monitor{kind: monitoringv1.PodMonitorsKind, name: meta.Name, from: wl, obj: pm}, nil
}

// render writes the monitors as one YAML stream after the generated-code header, each
// marshalled from the operator's own types and decoded back strictly before it is kept.
func render(ms []monitor) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# " + generate.Header + "\n")
	for i, m := range ms {
		doc, err := yaml.Marshal(m.obj)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", m.kind, m.name, err)
		}
		if _, err := Decode(doc); err != nil {
			return nil, fmt.Errorf("%s %s does not read back: %w", m.kind, m.name, err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(doc)
	}
	return buf.Bytes(), nil
}

// Decode reads one YAML document strictly into the operator's type its kind names: a field
// the type does not have is an error. It returns a *monitoringv1.ServiceMonitor or
// *monitoringv1.PodMonitor.
func Decode(doc []byte) (any, error) {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, err
	}
	var obj any
	switch {
	case tm.APIVersion != monitoringv1.SchemeGroupVersion.String():
		return nil, fmt.Errorf("unexpected apiVersion %q", tm.APIVersion)
	case tm.Kind == monitoringv1.ServiceMonitorsKind:
		obj = &monitoringv1.ServiceMonitor{}
	case tm.Kind == monitoringv1.PodMonitorsKind:
		obj = &monitoringv1.PodMonitor{}
	default:
		return nil, fmt.Errorf("unexpected kind %q", tm.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

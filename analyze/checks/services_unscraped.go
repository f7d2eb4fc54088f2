package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// ServicesUnscrapedName is the ID of the ServicesUnscraped check.
const ServicesUnscrapedName = "services/unscraped"

// ServicesUnscraped reports the Services with a metrics port whose endpoints no target scrapes.
type ServicesUnscraped struct {
	Namespaces Kubernetes
}

var servicesUnscrapedMeta = Meta{
	ID:          ServicesUnscrapedName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartKubernetes, analyze.PartTargets},
	SubjectKeys: []string{"namespace", "service"},
	Scope:       ScopeService,
	Summary:     "a Kubernetes Service with a metrics port whose endpoints no target scrapes",
	Finds: "a Service (`kube_service_info`) whose endpoints (`kube_endpoint_address`) have a port named like `metrics` or `http-metrics`, when no target carries its `namespace` and `service` labels, " +
		"nor the `pod` label or the IP of one of its endpoints; info in system namespaces. Details: `ports`, `addresses`",
}

func (ServicesUnscraped) Meta() Meta { return servicesUnscrapedMeta }

func (c ServicesUnscraped) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	sc := newScraped(inv)
	podByIP := map[string]analyze.KubePod{}
	for _, p := range inv.Kubernetes.Pods {
		if p.IP != "" {
			podByIP[p.Namespace+"/"+p.IP] = p
		}
	}
	var out []analyze.Finding
services:
	for _, s := range inv.Kubernetes.Services {
		if s.Namespace == "" || s.Name == "" || !c.Namespaces.accepts(s.Namespace) || len(s.Addresses) == 0 {
			continue
		}
		var ports []string
		for _, p := range s.Ports {
			if metricsPort.MatchString(p.Name) {
				ports = append(ports, fmt.Sprintf("%s (%d)", p.Name, p.Number))
			}
		}
		if len(ports) == 0 || sc.services[[2]string{s.Namespace, s.Name}] {
			continue
		}
		for _, a := range s.Addresses {
			if sc.hosts[a] {
				continue services
			}
			if p, ok := podByIP[s.Namespace+"/"+a]; ok {
				if _, scraped := sc.pod(p); scraped {
					continue services
				}
			}
		}
		slices.Sort(ports)
		f := c.Meta().finding(map[string]string{"namespace": s.Namespace, "service": s.Name},
			fmt.Sprintf("Service %s in namespace %s has metrics port %s and no target scrapes its %d endpoint(s)",
				s.Name, strconv.Quote(s.Namespace), strings.Join(ports, ", "), len(s.Addresses)),
			map[string]string{"ports": strings.Join(ports, ", "), "addresses": strings.Join(s.Addresses, ", ")})
		f.Severity = kubeSeverity(servicesUnscrapedMeta, s.Namespace, true)
		out = append(out, f)
	}
	return out
}

package checks

import (
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Scopes of the Kubernetes checks' findings.
const (
	ScopeWorkload  Scope = "workload"
	ScopeService   Scope = "service"
	ScopeNamespace Scope = "namespace"
	ScopePod       Scope = "pod"
	ScopeContainer Scope = "container"
)

// Kubernetes scopes the Kubernetes checks to namespaces (kubernetes.namespaces): globs in
// path.Match syntax. Empty Include means every namespace; Exclude removes from it.
type Kubernetes struct {
	Include, Exclude []string
}

// accepts says whether the checks judge namespace ns.
func (k Kubernetes) accepts(ns string) bool {
	match := func(globs []string) bool {
		return slices.ContainsFunc(globs, func(g string) bool { ok, err := path.Match(g, ns); return err == nil && ok })
	}
	if len(k.Include) > 0 && !match(k.Include) {
		return false
	}
	return !match(k.Exclude)
}

// systemNamespace says whether ns belongs to the cluster itself rather than to its users:
// their findings are info, after the users' own.
func systemNamespace(ns string) bool {
	return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" || strings.HasSuffix(ns, "-system")
}

// metricsPort says whether a port's name says it serves metrics (metrics, http-metrics,
// metrics-https, prometheus, …).
var metricsPort = regexp.MustCompile(`(^|-)(metrics|prometheus|prom)($|-)`)

// IsMetricsPort reports whether a port's name says it serves metrics ("metrics",
// "http-metrics"), as workloads/unscraped and services/unscraped read it.
func IsMetricsPort(name string) bool { return metricsPort.MatchString(name) }

// scraped indexes the active targets by what Kubernetes discovery and the Prometheus
// Operator leave on them.
type scraped struct {
	pods     map[[2]string]bool // namespace, pod
	services map[[2]string]bool // namespace, service
	hosts    map[string]bool    // the host part of instance and of the scrape URL
	// namespaces are the namespaces that have at least one target.
	namespaces map[string]bool
}

func firstLabel(ls map[string]string, names ...string) string {
	for _, n := range names {
		if v := ls[n]; v != "" {
			return v
		}
	}
	return ""
}

func newScraped(inv *analyze.Inventory) scraped {
	s := scraped{pods: map[[2]string]bool{}, services: map[[2]string]bool{}, hosts: map[string]bool{}, namespaces: map[string]bool{}}
	for _, t := range inv.Targets {
		ns := firstLabel(t.Labels, "namespace", "kubernetes_namespace")
		if ns != "" {
			s.namespaces[ns] = true
			if pod := firstLabel(t.Labels, "pod", "kubernetes_pod_name", "pod_name"); pod != "" {
				s.pods[[2]string{ns, pod}] = true
			}
			if svc := firstLabel(t.Labels, "service", "kubernetes_service_name", "kubernetes_name"); svc != "" {
				s.services[[2]string{ns, svc}] = true
			}
		}
		for _, a := range []string{t.Instance, hostOfURL(t.ScrapeURL)} {
			if h, _, err := net.SplitHostPort(a); err == nil {
				s.hosts[h] = true
			} else if a != "" {
				s.hosts[a] = true
			}
		}
	}
	return s
}

func hostOfURL(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// pod says whether a target scrapes the pod, and what matched.
func (s scraped) pod(p analyze.KubePod) (string, bool) {
	if s.pods[[2]string{p.Namespace, p.Name}] {
		return "namespace+pod labels", true
	}
	if p.IP != "" && s.hosts[p.IP] {
		return "pod IP " + p.IP, true
	}
	return "", false
}

// kubePods are the pods of the namespaces the checks judge.
func kubePods(inv *analyze.Inventory, k Kubernetes) []analyze.KubePod {
	var out []analyze.KubePod
	for _, p := range inv.Kubernetes.Pods {
		if p.Namespace != "" && p.Name != "" && k.accepts(p.Namespace) {
			out = append(out, p)
		}
	}
	return out
}

// kubeSeverity is info for a system namespace or a subject without evidence that it serves
// metrics, else the check's severity: the users' own gaps with evidence lead.
func kubeSeverity(m Meta, ns string, evidence bool) analyze.Severity {
	if systemNamespace(ns) || !evidence {
		return analyze.Info
	}
	return m.Severity
}

// since writes how long something lasted within the last hour.
func since(d time.Duration) string {
	if d <= 0 {
		return "less than a minute"
	}
	if d >= time.Hour {
		return "at least 1h (the whole last hour)"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

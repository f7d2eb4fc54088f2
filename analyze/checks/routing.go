package checks

import (
	"slices"
	"strings"
	"sync"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// lazyRouting builds the routing decisions once per inventory for the checks that share them.
type lazyRouting struct {
	cov  *lazyCoverage
	opts routing.Options
	mu   sync.Mutex
	inv  *analyze.Inventory
	r    *routed
}

// routed is the routing tree of the Alertmanager and the label sets of every alert.
type routed struct {
	tree   *routing.Tree // nil without PartAlertmanagerConfig
	alerts []routing.Alert
}

func newLazyRouting(cov *lazyCoverage, o routing.Options) *lazyRouting {
	return &lazyRouting{cov: cov, opts: o.WithDefaults()}
}

func (l *lazyRouting) get(inv *analyze.Inventory) *routed {
	if l == nil {
		l = newLazyRouting(nil, routing.Options{})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inv != inv {
		r := &routed{alerts: routing.Alerts(inv, l.cov.get(inv))}
		if inv.Has(analyze.PartAlertmanagerConfig) && inv.Alerting.Config != nil {
			r.tree = routing.NewTree(inv.Alerting.Config, l.opts)
		}
		l.inv, l.r = inv, r
	}
	return l.r
}

// options returns the routing options, defaults filled, for a check built as a zero value too.
func (l *lazyRouting) options() routing.Options {
	if l == nil {
		return routing.Options{}.WithDefaults()
	}
	return l.opts
}

// receiverList names receivers for a message, with their integration kinds.
func receiverList(t *routing.Tree, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		kinds := t.Kinds(n)
		if len(kinds) == 0 {
			parts = append(parts, n+" (no integration)")
			continue
		}
		parts = append(parts, n+" ("+strings.Join(kinds, ", ")+")")
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// routingUser is a check that reads the shared routing decisions.
type routingUser interface{ routing() *lazyRouting }

func (c AlertsUnrouted) routing() *lazyRouting { return c.routes }

// Pages returns, for every job of matrix, the receivers that page and that the job's alerts
// reach with the job's labels, sorted. ok is false when the routing is unknown (no
// Alertmanager configuration read, or alerts/unrouted not in list).
func Pages(inv *analyze.Inventory, list []Check, matrix []coverage.JobCoverage) (pages map[string][]string, ok bool) {
	var l *lazyRouting
	for _, c := range list {
		if u, is := c.(routingUser); is {
			l = u.routing()
			break
		}
	}
	if l == nil || !inv.Has(analyze.PartAlertmanagerConfig) || !inv.Has(analyze.PartRules) {
		return nil, false
	}
	r := l.get(inv)
	pages = map[string][]string{}
	for _, jc := range matrix {
		out := []string{}
		for _, ref := range jc.Alerts() {
			for _, a := range r.alerts {
				if a.Rule.Name != ref.Name || a.Rule.Group != ref.Group || a.Rule.File != ref.File {
					continue
				}
				for _, ls := range a.LabelSets {
					if ls.Job != jc.Job {
						continue
					}
					for _, name := range r.tree.Paging(r.tree.Match(ls.Labels)) {
						if !slices.Contains(out, name) {
							out = append(out, name)
						}
					}
				}
			}
		}
		slices.Sort(out)
		pages[jc.Job] = out
	}
	return pages, true
}

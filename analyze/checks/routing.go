package checks

import (
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// routedAlert is an alert with the route each of its label sets takes: Routes[i] is where
// LabelSets[i] goes.
type routedAlert struct {
	routing.Alert
	Routes []routing.Route
}

// routedAlerts returns the alerts whose rule keep accepts, in rule order, with their routes
// through the Alertmanager configuration. ok is false when the inventory claims a
// configuration it does not hold: nothing can then be said of where alerts go.
func (r routed) routedAlerts(keep func(*analyze.Rule) bool) (alerts []routedAlert, ok bool) {
	if r.tree == nil {
		return nil, false
	}
	for _, a := range r.alerts {
		if !keep(a.Rule) {
			continue
		}
		ra := routedAlert{Alert: a}
		for _, ls := range a.LabelSets {
			ra.Routes = append(ra.Routes, r.tree.Match(ls.Labels))
		}
		alerts = append(alerts, ra)
	}
	return alerts, true
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

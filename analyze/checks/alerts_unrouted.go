package checks

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// AlertsUnroutedName is the ID of the AlertsUnrouted check.
const AlertsUnroutedName = "alerts/unrouted"

// AlertsUnrouted reports critical alerts whose notifications reach no paging receiver: only
// null receivers (no integration) or only chat and mail. Such an alert exists and fires, and
// nobody is woken up: as blind as no alert.
type AlertsUnrouted struct{}

func (AlertsUnrouted) Meta() Meta {
	return Meta{ID: AlertsUnroutedName, Severity: analyze.Critical, Scope: ScopeRule, MatrixColumn: ColumnPages,
		Requires: []analyze.Part{analyze.PartRules, analyze.PartAlertmanagerConfig}, SubjectKeys: []string{"rule"},
		Summary: "a critical alert whose notifications reach no paging receiver",
		Finds:   "a critical alert whose notifications reach only null or non-paging receivers. Details: `receivers`, `jobs`",
	}
}

func (c AlertsUnrouted) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	o, tree := d.routes.opts, d.routes.tree
	critical, ok := d.routes.routedAlerts(func(r *analyze.Rule) bool { return routing.Critical(r, o) })
	if !ok {
		return nil // the inventory claims a configuration it does not hold
	}
	var out []analyze.Finding
	for _, a := range critical {
		var unpaged []string
		reached := map[string]bool{}
		for i, route := range a.Routes {
			for _, name := range route.Receivers {
				reached[name] = true
			}
			if len(tree.Paging(route)) == 0 {
				unpaged = append(unpaged, cmp.Or(a.LabelSets[i].Job, "(no job)"))
			}
		}
		if len(unpaged) == 0 {
			continue
		}
		names := sortedKeys(reached)
		details := map[string]string{"receivers": strings.Join(names, ",")}
		if len(a.LabelSets) > 1 || a.LabelSets[0].Job != "" {
			details["jobs"] = strings.Join(unpaged, ",")
		}
		f := findingAboutRule(c.Meta(), a.Group, a.Rule,
			fmt.Sprintf("critical alert %s pages nobody: it reaches %s", strconv.Quote(a.Rule.Name), receiverList(tree, names)),
			fmt.Sprintf("route it to a receiver with a %s integration; blindspot generate writes alertmanager/routes.yaml with a route per team", strings.Join(o.PagingKinds, ", ")),
			details)
		out = append(out, f)
	}
	return out
}

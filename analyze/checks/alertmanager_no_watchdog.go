package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// AlertmanagerNoWatchdogName is the ID of the AlertmanagerNoWatchdog check.
const AlertmanagerNoWatchdogName = "alertmanager/no-watchdog"

// AlertmanagerNoWatchdog reports a setup without a heartbeat: an always-firing alert
// (vector(1)) routed to a receiver with an integration, which a dead man's switch outside the
// cluster watches. Without one, a Prometheus or Alertmanager that dies takes every alert with
// it, silently.
type AlertmanagerNoWatchdog struct{}

func (AlertmanagerNoWatchdog) Meta() Meta {
	return Meta{ID: AlertmanagerNoWatchdogName, Severity: analyze.Warning, Scope: ScopeSource,
		Requires: []analyze.Part{analyze.PartRules, analyze.PartAlertmanagerConfig}, SubjectKeys: []string{"alertmanager"},
		Summary: "no always-firing heartbeat routed to a receiver",
		Finds:   "no always-firing `vector(1)` heartbeat reaching a receiver with an integration. Details: `heartbeats`",
	}
}

func (c AlertmanagerNoWatchdog) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	heartbeats, ok := d.routes.routedAlerts(routing.AlwaysFiring)
	if !ok {
		return nil // the inventory claims a configuration it does not hold
	}
	notifies := func(receiver string) bool { return !d.routes.tree.Null(receiver) }
	names := make([]string, len(heartbeats))
	for i, a := range heartbeats {
		names[i] = a.Rule.Name
		for _, route := range a.Routes {
			if slices.ContainsFunc(route.Receivers, notifies) {
				return nil
			}
		}
	}
	msg := "no always-firing heartbeat alert (vector(1)) exists: if Prometheus or Alertmanager dies, nothing notices"
	if len(names) > 0 {
		msg = fmt.Sprintf("the heartbeat alert %s reaches only receivers without an integration: nothing outside the cluster watches it", strconv.Quote(names[0]))
	}
	f := c.Meta().finding(map[string]string{"alertmanager": inv.Alerting.ConfigURL}, msg,
		map[string]string{"heartbeats": strings.Join(names, ",")})
	f.Fix = "blindspot generate writes a Watchdog rule (vector(1)) and alertmanager/routes.yaml routes it to a heartbeat receiver; point that receiver at a dead man's switch outside the cluster"
	return []analyze.Finding{f}
}

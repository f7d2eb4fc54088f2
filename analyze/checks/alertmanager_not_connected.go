package checks

import (
	"fmt"
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
)

// AlertmanagerNotConnectedName is the ID of the AlertmanagerNotConnected check.
const AlertmanagerNotConnectedName = "alertmanager/not-connected"

// AlertmanagerNotConnected reports a Prometheus with no active Alertmanager: every alert it
// evaluates goes nowhere.
type AlertmanagerNotConnected struct{}

func (AlertmanagerNotConnected) Meta() Meta {
	return Meta{ID: AlertmanagerNotConnectedName, Severity: analyze.Critical, Scope: ScopeSource,
		Requires: []analyze.Part{analyze.PartAlertmanagers}, SubjectKeys: []string{"prometheus"},
		Summary: "Prometheus sends its alerts to no active Alertmanager",
		Finds:   "a Prometheus with no active Alertmanager. Details: `dropped`",
	}
}

func (c AlertmanagerNotConnected) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	dropped := 0
	for _, am := range inv.Alerting.Alertmanagers {
		if am.Active {
			return nil
		}
		dropped++
	}
	prom := ""
	for _, s := range inv.Sources {
		if s.Name == "prometheus" {
			prom = s.URL
			break
		}
	}
	msg := "Prometheus sends its alerts to no Alertmanager: every alert goes nowhere"
	if dropped > 0 {
		msg = fmt.Sprintf("all %d Alertmanagers of Prometheus are dropped by relabeling: every alert goes nowhere", dropped)
	}
	f := c.Meta().finding(map[string]string{"prometheus": prom}, msg,
		map[string]string{"dropped": strconv.Itoa(dropped)})
	f.Fix = "add an alerting.alertmanagers section to the Prometheus configuration (or fix its relabel_configs) and check /api/v1/alertmanagers lists it as active"
	return []analyze.Finding{f}
}

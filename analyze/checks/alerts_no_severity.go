package checks

import (
	"fmt"
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
)

// AlertsNoSeverityName is the ID of the AlertsNoSeverity check.
const AlertsNoSeverityName = "alerts/no-severity"

// AlertsNoSeverity reports alerting rules without a severity label: Alertmanager routes on it,
// so such an alert lands on the default route, which pages for everything or for nothing.
type AlertsNoSeverity struct {
	// Label holds the severity; empty means severity.
	Label string
}

// NewAlertsNoSeverity returns the check reading the severity label named in o.
func NewAlertsNoSeverity(o Options) Check {
	return AlertsNoSeverity{Label: o.withDefaults().SeverityLabel}
}

func (AlertsNoSeverity) Meta() Meta {
	return Meta{ID: AlertsNoSeverityName, Severity: analyze.Info, Scope: ScopeRule,
		Requires: []analyze.Part{analyze.PartRules}, SubjectKeys: []string{"rule"},
		Summary: "an alert without a severity label",
		Finds:   "an alerting rule without the severity label (`checks.severity_label`, default `severity`) or with an empty one",
	}
}

func (c AlertsNoSeverity) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	label := Options{SeverityLabel: c.Label}.withDefaults().SeverityLabel
	var out findingBuffer
	for g, r := range eachAlertingRule(inv) {
		what := missingValue(r.Labels, label, "label")
		if what == "" {
			continue
		}
		out.add(findingAboutRule(c.Meta(), g, r,
			fmt.Sprintf("alert %s has %s", strconv.Quote(r.Name), what),
			fmt.Sprintf("blindspot generate writes a %s label in the generated rules; on this rule, add %s: critical (pages) or warning (tickets) to its labels", label, label),
			nil))
	}
	return out.findings()
}

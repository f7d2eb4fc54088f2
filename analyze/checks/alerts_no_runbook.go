package checks

import (
	"fmt"
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/weblink"
)

// AlertsNoRunbookName is the ID of the AlertsNoRunbook check.
const AlertsNoRunbookName = "alerts/no-runbook"

// AlertsNoRunbook reports alerting rules without a runbook link, or with one that is not a web
// link (weblink.Safe): whoever is paged at night has to guess what the alert means and what
// to do.
type AlertsNoRunbook struct {
	// Annotation holds the runbook link; empty means runbook_url.
	Annotation string
}

// NewAlertsNoRunbook returns the check reading the runbook annotation named in o.
func NewAlertsNoRunbook(o Options) Check {
	return AlertsNoRunbook{Annotation: o.withDefaults().RunbookAnnotation}
}

func (AlertsNoRunbook) Meta() Meta {
	return Meta{ID: AlertsNoRunbookName, Severity: analyze.Warning, Scope: ScopeRule, MatrixColumn: ColumnRunbooks,
		Requires: []analyze.Part{analyze.PartRules}, SubjectKeys: []string{"rule"},
		Summary: "an alert without a runbook link",
		Finds:   "an alerting rule without the runbook annotation (`checks.runbook_annotation`, default `runbook_url`) or with an empty one",
	}
}

func (c AlertsNoRunbook) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	annotation := Options{RunbookAnnotation: c.Annotation}.withDefaults().RunbookAnnotation
	var out findingBuffer
	for g, r := range eachAlertingRule(inv) {
		what := missingValue(r.Annotations, annotation, "annotation")
		if what == "" {
			if _, ok := weblink.Safe(r.Annotations[annotation]); ok {
				continue
			}
			// A javascript: or data: "runbook" helps nobody and is never copied as a link
			// into a dashboard or a report: it counts as none.
			what = fmt.Sprintf("a %s annotation that is not an http, https or relative link", annotation)
		}
		out.add(findingAboutRule(c.Meta(), g, r,
			fmt.Sprintf("alert %s has %s", strconv.Quote(r.Name), what),
			fmt.Sprintf("blindspot generate writes runbooks/%s.md and a %s annotation in the generated rules", r.Name, annotation),
			nil))
	}
	return out.findings()
}

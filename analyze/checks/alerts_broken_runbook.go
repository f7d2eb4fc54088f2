package checks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// AlertsBrokenRunbookName is the ID of the AlertsBrokenRunbook check.
const AlertsBrokenRunbookName = "alerts/broken-runbook"

// AlertsBrokenRunbook reports alerting rules whose runbook link does not resolve: whoever is
// paged follows it and finds nothing (most runbook links in the wild 404).
type AlertsBrokenRunbook struct {
	// Annotation holds the runbook link; empty means runbook_url.
	Annotation string
}

// NewAlertsBrokenRunbook returns the check reading the runbook annotation named in o.
func NewAlertsBrokenRunbook(o Options) Check {
	return AlertsBrokenRunbook{Annotation: o.withDefaults().RunbookAnnotation}
}

var alertsBrokenRunbookMeta = Meta{
	ID: AlertsBrokenRunbookName, Severity: analyze.Warning, Scope: ScopeRule,
	Requires: []analyze.Part{analyze.PartRules, analyze.PartRunbookLinks}, SubjectKeys: []string{"rule"},
	Summary: "an alert whose runbook link does not resolve",
	Finds: "an alerting rule whose runbook link (`checks.runbook_annotation`) does not resolve: the name does not resolve, the connection is refused or times out, or the answer is a 4xx or 5xx after redirects. " +
		"Each distinct link is fetched once (HEAD, then GET when HEAD is refused); relative links are resolved against `generate.runbook_base_url` and not fetched without it, templated ones are not fetched; `checks.runbook_links: false` fetches none. Details: `url`, `status` or `error`",
}

func (AlertsBrokenRunbook) Meta() Meta { return alertsBrokenRunbookMeta }

func (c AlertsBrokenRunbook) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	annotation := Options{RunbookAnnotation: c.Annotation}.withDefaults().RunbookAnnotation
	var out findingBuffer
	for g, r := range eachAlertingRule(inv) {
		value := strings.TrimSpace(r.Annotations[annotation])
		if value == "" {
			continue // alerts/no-runbook reports it
		}
		link, ok := inv.RunbookLink(value)
		if !ok || !link.Broken() {
			continue
		}
		details := map[string]string{"url": link.URL}
		why := link.Err
		if why == "" {
			why = fmt.Sprintf("HTTP %d", link.Status)
			details["status"] = strconv.Itoa(link.Status)
		} else {
			details["error"] = link.Err
		}
		out.add(findingAboutRule(alertsBrokenRunbookMeta, g, r,
			fmt.Sprintf("alert %s has a runbook link that does not resolve (%s: %s)", strconv.Quote(r.Name), link.URL, why),
			fmt.Sprintf("publish the runbook at that address or correct the %s annotation; blindspot generate writes runbooks/%s.md", annotation, r.Name),
			details))
	}
	return out.findings()
}

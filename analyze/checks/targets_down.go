package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// TargetsDownName is the ID of the TargetsDown check.
const TargetsDownName = "targets/down"

// TargetsDown reports every active target whose last scrape failed.
type TargetsDown struct{}

func (TargetsDown) Meta() Meta {
	return Meta{ID: TargetsDownName, Severity: analyze.Critical, Scope: ScopeTarget, MatrixColumn: ColumnScraped, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartTargets}, SubjectKeys: []string{"job", "instance"},
		Summary: "a target whose last scrape failed",
		Finds:   "an active target whose last scrape failed; the message has the scrape error. Details: `scrape_pool`, `scrape_url`, `last_error`, `last_scrape`, `last_scrape_duration_seconds`",
	}
}

func (c TargetsDown) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	var out []analyze.Finding
	for _, t := range inv.Targets {
		if t.Health != analyze.HealthDown {
			continue
		}
		lastError := t.LastError
		if lastError == "" {
			lastError = "no error reported"
		}
		details := map[string]string{
			"scrape_pool": t.ScrapePool,
			"scrape_url":  t.ScrapeURL,
			"last_error":  t.LastError,
		}
		if !t.LastScrape.IsZero() {
			details["last_scrape"] = t.LastScrape.UTC().Format(time.RFC3339)
			details["last_scrape_duration_seconds"] = strconv.FormatFloat(t.LastScrapeDuration.Seconds(), 'f', -1, 64)
		}
		f := c.Meta().finding(
			map[string]string{"job": t.Job, "instance": t.Instance},
			fmt.Sprintf("target %s of job %s is down: %s", t.Instance, strconv.Quote(t.Job), lastError),
			details)
		f.Fix = "blindspot generate cannot repair a target: fix the scrape error above (is the process running and listening at " +
			t.ScrapeURL + "?); alerts/missing-up makes sure the next outage pages"
		out = append(out, f)
	}
	return out
}

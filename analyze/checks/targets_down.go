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

func (TargetsDown) Name() string               { return TargetsDownName }
func (TargetsDown) Severity() analyze.Severity { return analyze.Critical }
func (TargetsDown) Requires() []analyze.Part   { return []analyze.Part{analyze.PartTargets} }

func (c TargetsDown) Run(inv *analyze.Inventory) []analyze.Finding {
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
		f := analyze.NewFinding(c.Name(), c.Severity(),
			map[string]string{"job": t.Job, "instance": t.Instance},
			fmt.Sprintf("target %s of job %s is down: %s", t.Instance, strconv.Quote(t.Job), lastError),
			details)
		f.Fix = "blindspot generate cannot repair a target: fix the scrape error above (is the process running and listening at " +
			t.ScrapeURL + "?); alerts/missing-up makes sure the next outage pages"
		out = append(out, f)
	}
	return out
}

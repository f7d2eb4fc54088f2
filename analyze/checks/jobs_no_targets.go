package checks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// JobsNoTargetsName is the ID of the JobsNoTargets check.
const JobsNoTargetsName = "jobs/no-targets"

// JobsNoTargets reports scrape pools (job_name in scrape_configs) that have no active target,
// and says whether service discovery found nothing or relabeling dropped everything it found.
// The subject is the pool, not a job: without targets there is no job label to name, and
// relabeling may give a pool's targets any job label.
type JobsNoTargets struct{}

func (JobsNoTargets) Meta() Meta {
	return Meta{ID: JobsNoTargetsName, Severity: analyze.Warning, Scope: ScopeScrapePool, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartTargets, analyze.PartConfig}, SubjectKeys: []string{"scrape_pool"},
		Summary: "a scrape pool (`job_name`) whose discovery or relabeling left it without targets",
		Finds:   "a job in `scrape_configs` with no active target. Details: `cause` is `discovery` (service discovery returned nothing) or `relabeling` (relabeling dropped every discovered target, `dropped` of them), `sd` (the SD kinds), `relabel_rules`",
	}
}

func (c JobsNoTargets) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	var out []analyze.Finding
	for _, p := range inv.Pools {
		if !p.Configured || p.Active > 0 {
			continue
		}
		details := map[string]string{
			"sd":            strings.Join(p.SDKinds, ","),
			"dropped":       strconv.Itoa(p.Dropped),
			"relabel_rules": strconv.Itoa(p.RelabelRules),
		}
		if p.JobLabel != "" {
			details["job"] = p.JobLabel
		}
		var msg string
		if p.Dropped > 0 {
			details["cause"] = "relabeling"
			msg = fmt.Sprintf("scrape pool %s has no targets: relabeling dropped all %d discovered targets", strconv.Quote(p.Name), p.Dropped)
			if p.Dropped == 1 {
				msg = fmt.Sprintf("scrape pool %s has no targets: relabeling dropped the only discovered target", strconv.Quote(p.Name))
			}
		} else {
			details["cause"] = "discovery"
			msg = fmt.Sprintf("scrape pool %s has no targets: service discovery (%s) returned nothing", strconv.Quote(p.Name), sdList(p.SDKinds))
		}
		f := c.Meta().finding(map[string]string{"scrape_pool": p.Name}, msg, details)
		if p.Dropped > 0 {
			f.Fix = "blindspot generate cannot change scrape configs: check the pool's relabel_configs (Status > Service Discovery in the Prometheus UI shows what was dropped); an absence alert (alerts/missing-absent) pages when this happens"
		} else {
			f.Fix = "blindspot generate cannot change scrape configs: check the pool's service discovery; an absence alert (alerts/missing-absent) pages when a pool loses all its targets"
		}
		out = append(out, f)
	}
	return out
}

func sdList(kinds []string) string {
	if len(kinds) == 0 {
		return "none configured"
	}
	return strings.Join(kinds, ", ")
}

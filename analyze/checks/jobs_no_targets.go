package checks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// JobsNoTargetsName is the ID of the JobsNoTargets check.
const JobsNoTargetsName = "jobs/no-targets"

// JobsNoTargets reports jobs configured in scrape_configs that have no active target, and says
// whether service discovery found nothing or relabeling dropped everything it found.
type JobsNoTargets struct{}

func (JobsNoTargets) Name() string               { return JobsNoTargetsName }
func (JobsNoTargets) Severity() analyze.Severity { return analyze.Warning }
func (JobsNoTargets) Requires() []analyze.Part {
	return []analyze.Part{analyze.PartTargets, analyze.PartConfig}
}

func (c JobsNoTargets) Run(inv *analyze.Inventory) []analyze.Finding {
	var out []analyze.Finding
	for _, j := range inv.Jobs {
		if !j.Configured || j.PoolActive > 0 {
			continue
		}
		details := map[string]string{
			"sd":            strings.Join(j.SDKinds, ","),
			"dropped":       strconv.Itoa(j.Dropped),
			"relabel_rules": strconv.Itoa(j.RelabelRules),
		}
		var msg string
		if j.Dropped > 0 {
			details["cause"] = "relabeling"
			msg = fmt.Sprintf("job %s has no targets: relabeling dropped all %d discovered targets", strconv.Quote(j.Name), j.Dropped)
			if j.Dropped == 1 {
				msg = fmt.Sprintf("job %s has no targets: relabeling dropped the only discovered target", strconv.Quote(j.Name))
			}
		} else {
			details["cause"] = "discovery"
			msg = fmt.Sprintf("job %s has no targets: service discovery (%s) returned nothing", strconv.Quote(j.Name), sdList(j.SDKinds))
		}
		f := analyze.NewFinding(c.Name(), c.Severity(), map[string]string{"job": j.Name}, msg, details)
		if j.Dropped > 0 {
			f.Fix = "blindspot generate cannot change scrape configs: check the job's relabel_configs (Status > Service Discovery in the Prometheus UI shows what was dropped); an absence alert (alerts/missing-absent) pages when this happens"
		} else {
			f.Fix = "blindspot generate cannot change scrape configs: check the job's service discovery; an absence alert (alerts/missing-absent) pages when a job loses all its targets"
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

package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// AlertsSilencedName is the ID of the AlertsSilenced check.
const AlertsSilencedName = "alerts/silenced"

// AlertsSilenced reports alerts muted by an active silence that outlives the horizon, or by a
// silence that names nothing narrower than a job: a silence set during an incident and
// forgotten keeps the alert blind long after.
type AlertsSilenced struct{}

func (AlertsSilenced) Meta() Meta {
	return Meta{ID: AlertsSilencedName, Severity: analyze.Warning, Scope: ScopeRule,
		Requires: []analyze.Part{analyze.PartRules, analyze.PartSilences}, SubjectKeys: []string{"rule"},
		Summary: "an alert muted by a long-lived or job-wide silence",
		Finds:   "an alert muted by an active silence ending beyond `routing.silence_horizon`, or by a job-wide silence. Details: `silences`, `created_by`, `ends_at`",
	}
}

func (c AlertsSilenced) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	r := d.routes
	horizon := r.opts.SilenceHorizon
	limit := inv.CollectedAt.Add(horizon)
	var out []analyze.Finding
	for _, a := range r.alerts {
		var found []*analyze.Silence
		var why []string
		for _, ls := range a.LabelSets {
			for _, s := range routing.Silenced(inv, ls.Labels) {
				if slices.Contains(found, s) {
					continue
				}
				switch {
				case s.EndsAt.After(limit):
					why = append(why, fmt.Sprintf("silence %s ends %s, more than %s from now", s.ID, s.EndsAt.UTC().Format(time.RFC3339), horizonText(horizon)))
				case routing.BroadSilence(s):
					why = append(why, fmt.Sprintf("silence %s mutes every alert of the job", s.ID))
				default:
					continue
				}
				found = append(found, s)
			}
		}
		if len(found) == 0 {
			continue
		}
		ids := make([]string, len(found))
		for i, s := range found {
			ids[i] = s.ID
		}
		details := map[string]string{"silences": strings.Join(ids, ","), "created_by": found[0].CreatedBy, "ends_at": found[0].EndsAt.UTC().Format(time.RFC3339)}
		out = append(out, findingAboutRule(c.Meta(), a.Group, a.Rule,
			fmt.Sprintf("alert %s is silenced: %s", strconv.Quote(a.Rule.Name), strings.Join(why, "; ")),
			"expire the silence (amtool silence expire ID) or narrow it to the alerts of the incident, with an end within days",
			details))
	}
	return out
}

// horizonText prints a duration in days when it is whole days (7 days, not 168h0m0s).
func horizonText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	}
	return d.String()
}

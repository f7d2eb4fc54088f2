package checks

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// DefaultVanishedTargetShare is history.vanished_target_share's default: a job that lost more
// than half of the most targets it had in the lookback is reported.
const DefaultVanishedTargetShare = 0.5

// lostTargets are the findings of the jobs that still have up series but lost more than the
// share of the most they had during the lookback, for longer than the grace a vanished job
// gets. A job whose targets the targets API lists now at least as many as it had is left
// alone, whatever the range query said. The finding's subject is the job alone: the job
// cannot both have vanished and still have targets, so the IDs never meet.
func (c JobsVanished) lostTargets(inv *analyze.Inventory) []analyze.Finding {
	h := inv.History
	share := cmp.Or(c.targetShare, DefaultVanishedTargetShare)
	grace := max(vanishGrace, 2*h.Step)
	var out []analyze.Finding
	for _, tc := range h.TargetCounts {
		if tc.Job == "" || tc.Now <= 0 || tc.Most <= tc.Now {
			continue
		}
		lost := tc.Most - tc.Now
		if float64(lost) <= share*float64(tc.Most) {
			continue
		}
		if !tc.MostUntil.IsZero() && h.End.Sub(tc.MostUntil) < grace {
			continue
		}
		if job := inv.Job(tc.Job); inv.Has(analyze.PartTargets) && job != nil && job.Active() >= tc.Most {
			continue
		}
		details := map[string]string{
			"kind":           "targets",
			"targets_before": strconv.Itoa(tc.Most),
			"targets_now":    strconv.Itoa(tc.Now),
		}
		when := "during the lookback"
		if !tc.MostUntil.IsZero() {
			details["last_seen"] = tc.MostUntil.UTC().Format(time.RFC3339)
			when = fmt.Sprintf("until %s (%s ago)", tc.MostUntil.UTC().Format(historyTime), roundDuration(h.End.Sub(tc.MostUntil)))
		}
		msg := fmt.Sprintf("job %s had %d targets with up series %s and has %d now: %d vanished (more than %s of them), and an alert on up cannot fire for a target that is gone",
			strconv.Quote(tc.Job), tc.Most, when, tc.Now, lost, formatShare(share))
		out = append(out, jobsVanishedMeta.finding(map[string]string{"job": tc.Job}, msg, details))
	}
	return out
}

// formatShare writes a share as a percentage (0.5: 50%).
func formatShare(share float64) string {
	return strconv.FormatFloat(share*100, 'f', -1, 64) + "%"
}

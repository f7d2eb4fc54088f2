package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// JobsVanishedName is the ID of the JobsVanished check.
const JobsVanishedName = "jobs/vanished"

// JobsVanished reports the job label values that had up series during the lookback and have
// none now: their service discovery or configuration silently lost them, and an alert on up
// has nothing left to fire on. It also reports the jobs that still exist but lost more than
// a share of their targets (history.vanished_target_share; jobs_vanished_targets.go).
type JobsVanished struct {
	targetShare float64
}

// NewJobsVanished returns the check with o's history.vanished_target_share.
func NewJobsVanished(o Options) Check {
	return JobsVanished{targetShare: o.withDefaults().History.VanishedTargetShare}
}

var jobsVanishedMeta = Meta{
	ID:          JobsVanishedName,
	Severity:    analyze.Critical,
	Requires:    []analyze.Part{analyze.PartHistory},
	SubjectKeys: []string{"job"},
	Scope:       ScopeJob,
	Summary:     "a job that had `up` series during the history's lookback and has none now, or lost more than a share of its targets",
	Finds:       "a job label value that had `up` series during the lookback (`history.lookback`) and has none now: its discovery or configuration lost it (details: `last_seen`); or a job that still has `up` series but lost more than `history.vanished_target_share` (default 0.5) of the most it had (details: `kind: targets`, `targets_before`, `targets_now`, `last_seen`)",
	GroupByJob:  true,
}

func (JobsVanished) Meta() Meta { return jobsVanishedMeta }

// vanishGrace is how long a job may lack up series before it counts as vanished: Prometheus
// keeps a series for five minutes after its last sample.
const vanishGrace = 5 * time.Minute

func (c JobsVanished) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	h := inv.History
	grace := max(vanishGrace, 2*h.Step)
	var out []analyze.Finding
	for _, j := range h.Jobs {
		if j.Name == "" || j.LastSeen.IsZero() || h.End.Sub(j.LastSeen) < grace {
			continue
		}
		// A job whose targets the targets API lists now has not vanished, whatever the
		// range query said.
		if job := inv.Job(j.Name); inv.Has(analyze.PartTargets) && job != nil && job.Active() > 0 {
			continue
		}
		gone := h.End.Sub(j.LastSeen)
		msg := fmt.Sprintf("job %s had up series until %s (%s ago) and has none now: its service discovery or configuration lost it, and no alert on up can fire for it",
			strconv.Quote(j.Name), j.LastSeen.UTC().Format(historyTime), roundDuration(gone))
		out = append(out, jobsVanishedMeta.finding(map[string]string{"job": j.Name}, msg, map[string]string{
			"last_seen": j.LastSeen.UTC().Format(time.RFC3339),
		}))
	}
	return append(out, c.lostTargets(inv)...)
}

// historyTime is how the history checks write a time in a message.
const historyTime = "2006-01-02 15:04 UTC"

// roundDuration is d to the minute, or to the hour beyond a day, as Prometheus writes
// durations (2d3h).
func roundDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		d = d.Round(time.Hour)
	case d >= time.Minute:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Second)
	}
	return model.Duration(d).String()
}

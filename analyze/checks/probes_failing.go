package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// ProbesFailingName is the ID of the ProbesFailing check.
const ProbesFailingName = "probes/failing"

// ProbesFailing reports the probes (a blackbox exporter's, or any probe_success) failing now,
// with since when: what a probe watches is down, whether or not the prober's own target is up.
// It also reports the probe jobs whose probe_success no loaded alert covers
// (probes_uncovered.go), a gap of the configuration it finds without the history: it needs
// the rules, and reads the history only when it was read.
type ProbesFailing struct{}

var probesFailingMeta = Meta{
	ID:          ProbesFailingName,
	Severity:    analyze.Critical,
	Requires:    []analyze.Part{analyze.PartRules},
	SubjectKeys: []string{"job"},
	SubjectDoc:  "`job`, `instance` for a failing probe; `job` alone for a probe job no alert covers",
	Scope:       ScopeTarget,
	Summary:     "a probe (`probe_success`, a blackbox exporter's) failing now, or a probe job no alert covers",
	Finds:       "a probe whose `probe_success` is 0 now, with since when it fails, read with the history (`history.lookback`; details: `since`, absent when it failed throughout the lookback, `failing_for`); and, history or not, a probe job (its series carry `probe_success`, or it scrapes a `/probe` path) whose `probe_success` no loaded alert covers when every probe fails (details: `kind: uncovered`, `probes`)",
	GroupByJob:  true,
}

func (ProbesFailing) Meta() Meta { return probesFailingMeta }

func (ProbesFailing) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	out := uncoveredProbeJobs(inv, d)
	if !inv.Has(analyze.PartHistory) {
		return out
	}
	h := inv.History
	for _, p := range h.Probes {
		if p.Job == "" || p.Instance == "" {
			continue
		}
		var msg string
		details := map[string]string{}
		if p.Since.IsZero() || !p.Since.After(h.Start) {
			details["failing_for"] = inDays(h.Lookback)
			msg = fmt.Sprintf("probe %s of job %s fails (probe_success 0) and has failed throughout the lookback of %s: what it probes is down or unreachable",
				strconv.Quote(p.Instance), strconv.Quote(p.Job), inDays(h.Lookback))
		} else {
			failing := max(h.End.Sub(p.Since), 0)
			details["since"] = p.Since.UTC().Format(time.RFC3339)
			details["failing_for"] = roundDuration(failing)
			msg = fmt.Sprintf("probe %s of job %s fails (probe_success 0) since %s (%s): what it probes is down or unreachable",
				strconv.Quote(p.Instance), strconv.Quote(p.Job), p.Since.UTC().Format(historyTime), roundDuration(failing))
		}
		out = append(out, probesFailingMeta.finding(map[string]string{"job": p.Job, "instance": p.Instance}, msg, details))
	}
	return out
}

// inDays writes a lookback in days when it is whole days (7d, as history.lookback is
// described, rather than 1w).
func inDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return roundDuration(d)
}

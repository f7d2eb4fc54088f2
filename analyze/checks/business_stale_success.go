package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// BusinessStaleSuccessName is the ID of the BusinessStaleSuccess check.
const BusinessStaleSuccessName = "business/stale-success"

// BusinessStaleSuccess reports the last-success timestamp gauges (the staleness candidates of
// alerts/missing-business: *_last_success_timestamp_seconds and the other names of
// rulesets/business_exclude.yaml) whose age at the end of the lookback exceeds the interval
// learnt from how often they advanced during it, by a margin: the batch job stopped
// succeeding while its process may well be up. The usual interval is the longest seen between
// two consecutive successes, and a gauge is overdue past StaleMargin(interval). A gauge that
// did not advance at least twice gives no interval: it is reported only when it did not
// advance at all and is older than the whole lookback, saying that no interval was learnt.
type BusinessStaleSuccess struct{}

// NewBusinessStaleSuccess returns the check.
func NewBusinessStaleSuccess(Options) Check { return BusinessStaleSuccess{} }

// StaleMargin is how old a last-success gauge whose longest interval between successes was
// interval may grow before it is reported: max(2 × interval, interval + 1h), so that a job
// running every six hours is overdue after twelve, and one running every ten minutes after an
// hour and ten.
func StaleMargin(interval time.Duration) time.Duration {
	return max(2*interval, interval+time.Hour)
}

var businessStaleSuccessMeta = Meta{
	ID:          BusinessStaleSuccessName,
	Severity:    analyze.Critical,
	Requires:    []analyze.Part{analyze.PartHistory, analyze.PartJobMetrics},
	SubjectKeys: []string{"job", "metric"},
	SubjectDoc:  "`job`, `metric`, and `instance` when the gauge's series carry one",
	Scope:       ScopeJob,
	Summary:     "a last-success timestamp gauge older than its usual interval allows",
	Finds:       "a last-success timestamp gauge (the staleness candidates of `alerts/missing-business`) whose age exceeds max(2 × the longest interval between its successes in the lookback, that interval + 1h), whether an alert covers it or not; or one that did not advance during the whole lookback (`usual_interval: unknown`). Details: `last_success`, `age`, `usual_interval`, `overdue_since`, `advances`, `covered_by`",
	GroupByJob:  true,
}

func (BusinessStaleSuccess) Meta() Meta { return businessStaleSuccessMeta }

func (BusinessStaleSuccess) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	h := inv.History
	var out []analyze.Finding
	for _, s := range h.Successes {
		if s.Job == "" || s.Metric == "" || s.Last.IsZero() || h.End.IsZero() {
			continue
		}
		m, ok := staleGauge(d.Coverage, s.Job, s.Metric)
		if !ok {
			continue
		}
		age := h.End.Sub(s.Last)
		details := map[string]string{
			"last_success": s.Last.UTC().Format(time.RFC3339),
			"age":          roundDuration(max(age, 0)),
			"advances":     strconv.Itoa(s.Advances),
		}
		gauge := fmt.Sprintf("the last-success gauge %s of job %s", strconv.Quote(s.Metric), strconv.Quote(s.Job))
		if s.Instance != "" {
			gauge += fmt.Sprintf(" (instance %s)", strconv.Quote(s.Instance))
		}
		var why string
		switch {
		case s.Advances >= 2 && s.LongestInterval > 0:
			overdue := StaleMargin(s.LongestInterval)
			if age <= overdue {
				continue
			}
			details["usual_interval"] = roundDuration(s.LongestInterval)
			details["overdue_since"] = s.Last.Add(overdue).UTC().Format(time.RFC3339)
			why = fmt.Sprintf("during the lookback it advanced %d times, never more than %s apart, so it is overdue since %s",
				s.Advances, roundDuration(s.LongestInterval), s.Last.Add(overdue).UTC().Format(historyTime))
		case s.Advances == 0 && !s.Last.After(h.Start):
			details["usual_interval"] = "unknown"
			why = fmt.Sprintf("it did not advance during the lookback of %s, so no usual interval could be learnt: a job that runs less often than that is not stale (lengthen history.lookback), any other stopped succeeding",
				inDays(h.Lookback))
		default:
			continue
		}
		alert := "no alert covers it"
		if len(m.CoveredBy) > 0 {
			alert = ruleNames(m.CoveredBy) + " covers it and should be firing"
			details["covered_by"] = ruleNames(m.CoveredBy)
		}
		msg := fmt.Sprintf("%s says the last success was at %s (%s ago); %s; %s",
			gauge, s.Last.UTC().Format(historyTime), roundDuration(max(age, 0)), why, alert)
		subject := map[string]string{"job": s.Job, "metric": s.Metric}
		if s.Instance != "" {
			subject["instance"] = s.Instance
		}
		out = append(out, businessStaleSuccessMeta.finding(subject, msg, details))
	}
	return out
}

// staleGauge returns the last-success gauge metric of job, if it is a business candidate of
// that kind under the user's business_metrics settings.
func staleGauge(a *coverage.Analysis, job, metric string) (coverage.BusinessMetric, bool) {
	m, ok := a.BusinessMetricOf(job, metric)
	return m, ok && m.Kind == coverage.KindStaleness
}

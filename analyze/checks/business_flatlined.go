package checks

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// BusinessFlatlinedName is the ID of the BusinessFlatlined check.
const BusinessFlatlinedName = "business/flatlined"

// BusinessFlatlined reports the business counters (the candidates of alerts/missing-business)
// that increased during the lookback and have not increased since for at least
// max(history.min_flat, FlatGapFactor × the longest gap between their increases): the work
// stopped while the job may well be up. It is reported whether an alert covers the counter or
// not; the alert that covers it is named, since it did not fire or was not heard.
type BusinessFlatlined struct {
	minFlat time.Duration
}

// FlatGapFactor is k in max(history.min_flat, k × longest gap): how many times longer than
// its longest pause a counter must have stayed flat to be reported.
const FlatGapFactor = 3

// DefaultMinFlat is history.min_flat's default: the shortest flat stretch reported.
const DefaultMinFlat = time.Hour

// NewBusinessFlatlined returns the check with o's history.min_flat.
func NewBusinessFlatlined(o Options) Check {
	return BusinessFlatlined{minFlat: o.withDefaults().History.MinFlat}
}

var businessFlatlinedMeta = Meta{
	ID:          BusinessFlatlinedName,
	Severity:    analyze.Critical,
	Requires:    []analyze.Part{analyze.PartHistory, analyze.PartJobMetrics},
	SubjectKeys: []string{"job", "metric"},
	Scope:       ScopeJob,
	Summary:     "a business counter that increased during the history's lookback and has stopped",
	Finds:       "a business counter (the candidates of `alerts/missing-business`) that increased during the lookback and has been flat for at least max(`history.min_flat`, 3 × the longest gap between its increases), whether an alert covers it or not. Details: `since`, `flat_for`, `rate_per_second`, `longest_gap`, `covered_by`",
	GroupByJob:  true,
}

func (BusinessFlatlined) Meta() Meta { return businessFlatlinedMeta }

func (c BusinessFlatlined) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	h := inv.History
	minFlat := cmp.Or(c.minFlat, DefaultMinFlat)
	var out []analyze.Finding
	for _, ch := range h.Counters {
		if ch.Job == "" || ch.Metric == "" || ch.Increases == 0 || ch.LastIncrease.IsZero() {
			continue
		}
		m, ok := businessCounter(d.Coverage, ch.Job, ch.Metric)
		if !ok {
			continue
		}
		flat := h.End.Sub(ch.LastIncrease)
		if flat < max(minFlat, FlatGapFactor*ch.LongestGap) {
			continue
		}
		before := "it increased once before"
		if ch.Increases > 1 {
			before = fmt.Sprintf("before, it rose at %s and never paused longer than %s", formatRate(ch.Rate()), roundDuration(max(ch.LongestGap, h.Step)))
		}
		alert := "no alert covers it"
		details := map[string]string{
			"since":           ch.LastIncrease.UTC().Format(time.RFC3339),
			"flat_for":        roundDuration(flat),
			"rate_per_second": strconv.FormatFloat(ch.Rate(), 'g', 4, 64),
			"longest_gap":     roundDuration(ch.LongestGap),
		}
		if len(m.CoveredBy) > 0 {
			alert = ruleNames(m.CoveredBy) + " covers it and should be firing"
			details["covered_by"] = ruleNames(m.CoveredBy)
		}
		msg := fmt.Sprintf("the counter %s of job %s has not increased since %s (%s); %s; %s",
			strconv.Quote(ch.Metric), strconv.Quote(ch.Job), ch.LastIncrease.UTC().Format(historyTime), roundDuration(flat), before, alert)
		out = append(out, businessFlatlinedMeta.finding(map[string]string{"job": ch.Job, "metric": ch.Metric}, msg, details))
	}
	return out
}

// businessCounter returns the business counter metric of job, if it is one.
func businessCounter(a *coverage.Analysis, job, metric string) (coverage.BusinessMetric, bool) {
	m, ok := a.BusinessMetricOf(job, metric)
	return m, ok && m.Kind == coverage.KindCounter
}

// formatRate writes a rate per second in the unit that gives it a whole part: 2.5/s, 3/min,
// 1/h.
func formatRate(perSecond float64) string {
	switch {
	case perSecond >= 1:
		return strconv.FormatFloat(perSecond, 'g', 3, 64) + "/s"
	case perSecond*60 >= 1:
		return strconv.FormatFloat(perSecond*60, 'g', 3, 64) + "/min"
	default:
		return strconv.FormatFloat(perSecond*3600, 'g', 3, 64) + "/h"
	}
}

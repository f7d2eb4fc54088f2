package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// Sparkline is the series of the history behind a finding (analyze.JobHistory.Series,
// CounterHistory.Series), drawn beside it by the HTML report: a value per bucket of Step, the
// last bucket ending at End.
type Sparkline struct {
	// Title says what the series shows, for the drawing's title and label.
	Title  string
	End    time.Time
	Step   time.Duration
	Values []float64
}

// sparklines returns, by finding ID, the series of the findings drawn with one: a
// business/flatlined counter's increase per bucket and a jobs/vanished job's up series per
// bucket, looked up in the inventory's history by the finding's subject; nil when none has
// one.
func sparklines(h analyze.History, findings []analyze.Finding) map[string]Sparkline {
	if h.SeriesStep <= 0 {
		return nil
	}
	var out map[string]Sparkline
	add := func(id, what string, values []float64) {
		if len(values) == 0 {
			return
		}
		if out == nil {
			out = map[string]Sparkline{}
		}
		out[id] = Sparkline{Title: sparklineTitle(what, h, values), End: h.End, Step: h.SeriesStep, Values: values}
	}
	for _, f := range findings {
		job := f.Subject["job"]
		switch f.Check {
		case checks.BusinessFlatlinedName:
			metric := f.Subject["metric"]
			if i := slices.IndexFunc(h.Counters, func(c analyze.CounterHistory) bool { return c.Job == job && c.Metric == metric }); i >= 0 {
				add(f.ID, fmt.Sprintf("increase of %s of job %s", metric, strconv.Quote(job)), h.Counters[i].Series)
			}
		case checks.JobsVanishedName:
			if i := slices.IndexFunc(h.Jobs, func(j analyze.JobHistory) bool { return j.Name == job }); i >= 0 {
				add(f.ID, fmt.Sprintf("up series of job %s", strconv.Quote(job)), h.Jobs[i].Series)
			}
		}
	}
	return out
}

// sparklineTitle is "what per 3h30m over the 7d to 2026-11-26 03:00 UTC: highest 120, last 0".
func sparklineTitle(what string, h analyze.History, values []float64) string {
	span := time.Duration(len(values)) * h.SeriesStep
	return fmt.Sprintf("%s per %s over the %s to %s: highest %s, last %s", what, spanString(h.SeriesStep), spanString(span),
		h.End.UTC().Format("2006-01-02 15:04 UTC"), formatValue(slices.Max(values)), formatValue(values[len(values)-1]))
}

// spanString writes a duration as Prometheus does, but whole weeks in days (7d, not 1w).
func spanString(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return model.Duration(d).String()
}

// formatValue writes a value of a series shortly: 12, 0.5, 1.23e+06.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// The size of a drawn sparkline, in CSS pixels, and the margin that keeps its line and dot
// inside.
const (
	sparkWidth  = 120
	sparkHeight = 24
	sparkMargin = 2
)

// htmlSparkline is what the template draws of a Sparkline: an inline SVG polyline through
// the values, scaled to the highest, and a dot on the last.
type htmlSparkline struct {
	Title         string
	Width, Height int
	Points        string
	LastX, LastY  string
}

// newHTMLSparkline lays s out; nil when it has no values.
func newHTMLSparkline(s Sparkline) *htmlSparkline {
	if len(s.Values) == 0 {
		return nil
	}
	top := slices.Max(s.Values)
	inner := float64(sparkHeight - 2*sparkMargin)
	x := func(i int) float64 {
		if len(s.Values) == 1 {
			return sparkWidth / 2
		}
		return sparkMargin + float64(i)*float64(sparkWidth-2*sparkMargin)/float64(len(s.Values)-1)
	}
	y := func(v float64) float64 {
		if top <= 0 || v <= 0 {
			return sparkHeight - sparkMargin
		}
		return sparkHeight - sparkMargin - min(v/top, 1)*inner
	}
	coord := func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
	points := make([]string, len(s.Values))
	for i, v := range s.Values {
		points[i] = coord(x(i)) + "," + coord(y(v))
	}
	last := len(s.Values) - 1
	return &htmlSparkline{Title: s.Title, Width: sparkWidth, Height: sparkHeight, Points: strings.Join(points, " "),
		LastX: coord(x(last)), LastY: coord(y(s.Values[last]))}
}

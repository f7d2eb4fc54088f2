package snapshot

import (
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// HistorySuccess is a last-success gauge (analyze.SuccessHistory); LongestInterval is a Go
// duration, absent when no interval was learnt.
type HistorySuccess struct {
	Job             string    `json:"job"`
	Instance        string    `json:"instance,omitempty"`
	Metric          string    `json:"metric"`
	Last            time.Time `json:"last"`
	Advances        int       `json:"advances"`
	LongestInterval string    `json:"longest_interval,omitempty"`
}

// HistoryTargetCount is a job that lost up series (analyze.TargetCountHistory).
type HistoryTargetCount struct {
	Job       string    `json:"job"`
	Most      int       `json:"most"`
	MostUntil time.Time `json:"most_until,omitzero"`
	Now       int       `json:"now"`
}

// addHistoryData copies what history_data.go adds to a history into f.
func (f *HistoryFile) addHistoryData(h analyze.History) {
	for _, s := range h.Successes {
		hs := HistorySuccess{Job: s.Job, Instance: s.Instance, Metric: s.Metric, Last: s.Last.UTC(), Advances: s.Advances}
		if s.LongestInterval != 0 {
			hs.LongestInterval = s.LongestInterval.String()
		}
		f.Successes = append(f.Successes, hs)
	}
	for _, c := range h.TargetCounts {
		f.TargetCounts = append(f.TargetCounts, HistoryTargetCount{Job: c.Job, Most: c.Most, MostUntil: c.MostUntil.UTC(), Now: c.Now})
	}
}

// historyData converts f's gauges and target counts back; duration parses a Go duration and
// remembers the first error.
func (f HistoryFile) historyData(h *analyze.History, duration func(what, s string) time.Duration) {
	for _, s := range f.Successes {
		var interval time.Duration
		if s.LongestInterval != "" {
			interval = duration("longest_interval", s.LongestInterval)
		}
		h.Successes = append(h.Successes, analyze.SuccessHistory{Job: s.Job, Instance: s.Instance, Metric: s.Metric,
			Last: s.Last.UTC(), Advances: s.Advances, LongestInterval: interval})
	}
	for _, c := range f.TargetCounts {
		h.TargetCounts = append(h.TargetCounts, analyze.TargetCountHistory{Job: c.Job, Most: c.Most, MostUntil: c.MostUntil.UTC(), Now: c.Now})
	}
}

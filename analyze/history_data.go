package analyze

import (
	"cmp"
	"slices"
	"time"
)

// SuccessHistory is what the history says of a last-success timestamp gauge (a business
// candidate of kind staleness) of a job and instance: its value at the end of the lookback and
// how often it advanced during it. The series of one job, instance and name are folded to
// their oldest value (min), so that one stale task among fresh ones is not hidden.
type SuccessHistory struct {
	Job, Instance, Metric string
	// Last is the gauge's value at End: the time of the last success it records.
	Last time.Time
	// Advances counts the steps of the lookback at which the gauge rose.
	Advances int
	// LongestInterval is the longest time between two consecutive successes seen (the
	// difference of the values it rose to); 0 with fewer than two advances, when no interval
	// can be learnt.
	LongestInterval time.Duration
}

// TargetCountHistory is a job whose number of up series fell during the lookback and stayed
// lower: Most targets at its peak, Now at the end. Jobs whose count never fell, or that have
// none left (jobs/vanished's whole-job case), are not recorded.
type TargetCountHistory struct {
	Job string
	// Most is the largest number of up series the job had at a step of the lookback, and
	// MostUntil the last step at which it had that many.
	Most      int
	MostUntil time.Time
	// Now is its number of up series at the end.
	Now int
}

// sortHistoryData sorts what history_data.go adds to a History, on copies.
func sortHistoryData(h History) History {
	h.Successes = slices.Clone(h.Successes)
	slices.SortFunc(h.Successes, func(a, c SuccessHistory) int {
		return cmp.Or(cmp.Compare(a.Job, c.Job), cmp.Compare(a.Metric, c.Metric), cmp.Compare(a.Instance, c.Instance))
	})
	h.TargetCounts = slices.Clone(h.TargetCounts)
	slices.SortFunc(h.TargetCounts, func(a, c TargetCountHistory) int { return cmp.Compare(a.Job, c.Job) })
	return h
}

package analyze

import (
	"cmp"
	"slices"
	"time"
)

// PartLogHistory is what Loki stored over the history's lookback: which jobs' log streams had
// lines, until when, and how many lines they had in the last log silence, read with two
// metric queries.
const PartLogHistory Part = "log_history"

// AllLogHistoryParts lists the parts a Loki provides when its history is read too.
var AllLogHistoryParts = []Part{PartLogHistory}

// LogHistory is what the log history checks read of Loki's past, compactly: one fact per
// job label value of the streams, not the lines or the samples.
type LogHistory struct {
	// Requested is the lookback asked for; Lookback is what was read, Requested clipped to
	// Loki's max_query_length when it refused the longer range.
	Requested, Lookback time.Duration
	// Silence is how long a job's streams must have had no line to count as stopped
	// (history.log_silence).
	Silence time.Duration
	// Start and End bound the range read, and Step is its resolution.
	Start, End time.Time
	Step       time.Duration
	// Jobs are the job label values of the streams that had lines during the lookback,
	// sorted by Job.
	Jobs []JobLogHistory
}

// JobLogHistory is the log streams of one job label value, summed.
type JobLogHistory struct {
	Job string
	// LastLine is the end of the last step whose window held lines: the last line was
	// written within Step before it.
	LastLine time.Time
	// Lines counts the lines of the lookback; Recent those of the last Silence.
	Lines, Recent int64
}

// Stopped reports whether the job's streams had lines during the lookback and none in the
// last log silence.
func (j JobLogHistory) Stopped() bool { return j.Lines > 0 && j.Recent == 0 }

// SetLogHistory records what Loki stored over the lookback.
func (b *Builder) SetLogHistory(h LogHistory) {
	h.Jobs = slices.Clone(h.Jobs)
	slices.SortFunc(h.Jobs, func(a, c JobLogHistory) int { return cmp.Compare(a.Job, c.Job) })
	b.logHistory = h
}

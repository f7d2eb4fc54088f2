package analyze

import (
	"cmp"
	"slices"
	"time"
)

// PartLogHistory is what Loki stored over the history's lookback: which jobs' log streams had
// lines, until when, and whether they had some in the last log silence, read from Loki's
// index (volume, Loki ≥ 2.9) or with two metric queries counting the lines.
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

// JobLogHistory is the log streams of one job label value, summed. It is read one of two
// ways, and Indexed says which.
//
// Counted (Indexed false, Loki before 2.9 or without volume): LastLine is the end of the last
// step whose window held lines (the last line was written within Step before it), Lines
// counts the lines of the lookback and Recent those of the last Silence.
//
// Indexed (Loki's /index/volume_range and /index/volume): the index knows chunks, not lines.
// It gives a chunk's size and entries to the steps its time range (first to last line)
// covers, in proportion, rounded down, and lists a job in a step only when that share holds
// at least one entry. LastLine is then the end of the last step the index gives a share of
// the job's chunks to: never after the step of the last line, but before it by up to a
// chunk's time span (max_chunk_age, 2h by default) when the streams are so sparse that the
// last step's share rounds to no entry. Bytes is the size the index gives the job's chunks
// over the lookback (sizes are rounded to KiB: a job with lines can weigh 0), and Active
// whether the index gives it any chunk in the last Silence. Lines and Recent are zero.
type JobLogHistory struct {
	Job      string
	LastLine time.Time
	// Lines counts the lines of the lookback; Recent those of the last Silence.
	Lines, Recent int64
	Indexed       bool
	Bytes         int64
	Active        bool
}

// Stopped reports whether the job's streams had lines during the lookback and none in the
// last log silence.
func (j JobLogHistory) Stopped() bool {
	if j.Indexed {
		return !j.LastLine.IsZero() && !j.Active
	}
	return j.Lines > 0 && j.Recent == 0
}

// SetLogHistory records what Loki stored over the lookback.
func (b *Builder) SetLogHistory(h LogHistory) {
	h.Jobs = slices.Clone(h.Jobs)
	slices.SortFunc(h.Jobs, func(a, c JobLogHistory) int { return cmp.Compare(a.Job, c.Job) })
	b.logHistory = h
}

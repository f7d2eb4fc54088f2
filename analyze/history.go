package analyze

import (
	"cmp"
	"slices"
	"time"
)

// PartHistory is what Prometheus stored over the lookback: which jobs had up series and when
// the business counter candidates increased, read with a few batched range queries.
const PartHistory Part = "history"

// History is what the history checks read of the past, compactly: a few facts per job and per
// counter rather than the samples.
type History struct {
	// Requested is the lookback asked for; Lookback is what was read, Requested clipped to the
	// server's retention.
	Requested, Lookback time.Duration
	// Start and End bound the range read, and Step is its resolution.
	Start, End time.Time
	Step       time.Duration
	// Jobs are the job label values whose up series stopped during the lookback and had not
	// come back by its end, sorted by Name.
	Jobs []JobHistory
	// Counters are the counters that increased during the lookback, summed over the series of
	// a job, sorted by Job and Metric.
	Counters []CounterHistory
	// Probes are the probes whose probe_success was 0 at End, sorted by Job and Instance.
	Probes []ProbeHistory
	// Successes are the last-success gauges of the jobs, sorted by Job, Metric and Instance.
	Successes []SuccessHistory
	// TargetCounts are the jobs that lost up series and still have some, sorted by Job.
	TargetCounts []TargetCountHistory
	// Alerts is what ALERTS showed: which alerts fired, how often and how long.
	Alerts AlertsHistory
	// SeriesStep is the width of one bucket of the jobs' and counters' Series, which end at
	// End: of n buckets, bucket i covers (End − (n−i)×SeriesStep, End − (n−i−1)×SeriesStep].
	// Zero when no series were read.
	SeriesStep time.Duration
}

// ProbeHistory is a probe (a job and instance, typically of a blackbox exporter) failing at the
// end of the lookback.
type ProbeHistory struct {
	Job, Instance string
	// Since is the step at which its current failure began (probe_success 0 after 1, or
	// first seen at 0); zero when it was failing throughout the lookback.
	Since time.Time
}

// JobHistory is a job label value whose up series stopped.
type JobHistory struct {
	Name string
	// LastSeen is the last step at which the job had up series.
	LastSeen time.Time
	// Series is, per bucket of the lookback (History.SeriesStep), how many up series the job
	// had in it; empty when not read.
	Series []float64
}

// CounterHistory is when a counter of a job (summed over the job's series) increased.
type CounterHistory struct {
	Job, Metric string
	// FirstIncrease and LastIncrease are the first and last steps at which the counter was
	// higher than one step before; Increases counts those steps.
	FirstIncrease, LastIncrease time.Time
	Increases                   int
	// LongestGap is the longest time between two consecutive increases (0 with one).
	// For a counter that rose in every hour of the lookback and at least every 15 minutes of
	// its last hour, FirstIncrease is the end of the first hour it rose in, Increases a lower
	// bound, and LongestGap the longest of its last hour (the history reads it coarsely).
	LongestGap time.Duration
	// Rise is how much the counter rose from FirstIncrease to LastIncrease.
	Rise float64
	// Series is, per bucket of the lookback (History.SeriesStep), how much the counter rose
	// in it (the first increase's own size is unknown and counts 0); empty when not read, and
	// for a counter that rose in the last three steps (it cannot be flat).
	Series []float64
}

// Rate is the counter's rate per second from its first to its last increase; 0 when it
// increased once.
func (c CounterHistory) Rate() float64 {
	span := c.LastIncrease.Sub(c.FirstIncrease)
	if span <= 0 {
		return 0
	}
	return c.Rise / span.Seconds()
}

// SetHistory records what Prometheus stored over the lookback.
func (b *Builder) SetHistory(h History) { b.history = h }

// AnnotateSource adds errors and notes to the source called name, already added; a source of
// another name is left alone.
func (b *Builder) AnnotateSource(name string, errs []SourceError, notes []string) {
	for i := range b.sources {
		if b.sources[i].Name == name {
			b.sources[i].Errors = append(b.sources[i].Errors, errs...)
			b.sources[i].Notes = append(b.sources[i].Notes, notes...)
			return
		}
	}
}

// sortedHistory returns h with its jobs and counters sorted, on copies.
func sortedHistory(h History) History {
	h.Jobs = slices.Clone(h.Jobs)
	slices.SortFunc(h.Jobs, func(a, c JobHistory) int { return cmp.Compare(a.Name, c.Name) })
	h.Counters = slices.Clone(h.Counters)
	slices.SortFunc(h.Counters, func(a, c CounterHistory) int {
		return cmp.Or(cmp.Compare(a.Job, c.Job), cmp.Compare(a.Metric, c.Metric))
	})
	h.Probes = slices.Clone(h.Probes)
	slices.SortFunc(h.Probes, func(a, c ProbeHistory) int {
		return cmp.Or(cmp.Compare(a.Job, c.Job), cmp.Compare(a.Instance, c.Instance))
	})
	h.Alerts = sortedAlertsHistory(h.Alerts)
	return sortHistoryData(h)
}

// JobMetricJobs counts, per metric name recorded with AddJobMetric, the jobs it was recorded
// for.
func (b *Builder) JobMetricJobs() map[string]int {
	out := map[string]int{}
	for _, ms := range b.jobMetrics {
		for _, m := range slices.Compact(slices.Sorted(slices.Values(ms))) {
			out[m]++
		}
	}
	return out
}

// JobMetricNames returns the metric names recorded with AddJobMetric, of every job, sorted.
func (b *Builder) JobMetricNames() []string {
	var out []string
	for _, ms := range b.jobMetrics {
		out = append(out, ms...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Storage is what a Prometheus's configuration says its queries may read beyond the samples
// its own TSDB holds: remote storage, and samples up to an out-of-order window older than the
// newest of a series (which may be older than anything else it holds).
type Storage struct {
	RemoteRead       bool
	OutOfOrderWindow time.Duration
}

// SetStorage records what the configuration of the Prometheus source called source says of
// its storage.
func (b *Builder) SetStorage(source string, s Storage) { b.storage[source] = s }

// StorageOf is what SetStorage recorded of source; false when nothing was (its configuration
// was not read, or said nothing that can be relied on).
func (b *Builder) StorageOf(source string) (Storage, bool) {
	s, ok := b.storage[source]
	return s, ok
}

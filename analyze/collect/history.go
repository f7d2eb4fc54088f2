package collect

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// historyAskable reports whether the history of a Prometheus source is worth asking: not when
// reading every part of it failed (a server answering every request with an error, say), whose
// history would fail the same way and only repeat the error.
func historyAskable(src analyze.Source) bool {
	for _, p := range analyze.AllPrometheusParts {
		if !slices.ContainsFunc(src.Errors, func(e analyze.SourceError) bool { return e.Part == p }) {
			return true
		}
	}
	return false
}

// readHistory reads the history of a live Prometheus whose other parts b holds, as o says,
// up to now: the counters it reads are the names the job_metrics part found, and what its
// configuration said of its storage (the source called source) lets it start where the
// server's data does.
func readHistory(ctx context.Context, client api.Client, o prometheus.HistoryOptions, b *analyze.Builder, source string, now time.Time) prometheus.HistoryResult {
	o.End, o.Counters, o.CounterJobs = now, b.JobMetricNames(), b.JobMetricJobs()
	if s, ok := b.StorageOf(source); ok {
		o.Storage = &s
	}
	return prometheus.CollectHistory(ctx, client, o)
}

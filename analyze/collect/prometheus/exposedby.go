package prometheus

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Exposure is which job exposes which of the metric names asked about.
type Exposure struct {
	// Jobs maps every name of a query that was answered to the sorted jobs whose series carry
	// it (empty when none does).
	Jobs map[string][]string
	// Unanswered counts the names of queries a snapshot has no answer for (it was taken
	// before these queries were made, or for other dashboards) or the server does not serve
	// (HTTP 404, 405 or 501); Why says which, for the first.
	Unanswered int
	Why        string
	// Err is the first failure of a query; the names of failed queries are absent from Jobs.
	Err error
}

// CollectExposure asks which jobs expose the given metric names (those the dashboards read),
// with the `group by (job, __name__)` queries of the job_metrics part, JobMetricsBatch names
// to a query. It is a query group of its own, made once the dashboards are known (after the
// Prometheus itself was read): the queries of the other groups read as before, so a snapshot
// recorded before this group existed replays them, and only lacks this one (Unanswered).
// Through a Recorder, its queries are recorded with the job_metrics part.
func CollectExposure(ctx context.Context, rec *Recorder, names []string) Exposure {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	out := Exposure{Jobs: map[string][]string{}}
	queries, err := jobMetricQueries(names)
	if err != nil {
		out.Err = err
		return out
	}
	vectors, errs := queryJobNames(ctx, rec, queries)
	for i := range queries {
		batch := names[i*JobMetricsBatch : min((i+1)*JobMetricsBatch, len(names))]
		switch status := rec.queryStatus(queries[i]); {
		case errors.Is(errs[i], errNotRecorded):
			out.unanswered(len(batch), "not in the snapshot")
			continue
		case errs[i] != nil && isMissing(status):
			out.unanswered(len(batch), fmt.Sprintf("/api/v1/query is not served (HTTP %d)", status))
			continue
		case errs[i] != nil:
			if out.Err == nil {
				out.Err = fmt.Errorf("querying which jobs expose the dashboards' metrics (query %d of %d): %w", i+1, len(queries), errs[i])
			}
			continue
		}
		for _, n := range batch {
			out.Jobs[n] = []string{}
		}
		for _, s := range vectors[i] {
			job, name := s.job, s.name
			if _, asked := out.Jobs[name]; job == "" || !asked {
				continue
			}
			out.Jobs[name] = append(out.Jobs[name], job)
		}
	}
	for n, jobs := range out.Jobs {
		slices.Sort(jobs)
		out.Jobs[n] = slices.Compact(jobs)
	}
	return out
}

func (e *Exposure) unanswered(n int, why string) {
	if e.Unanswered == 0 {
		e.Why = why
	}
	e.Unanswered += n
}

// queryStatus is the HTTP status the server answered a query with; 0 when it did not answer.
func (r *Recorder) queryStatus(query string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resp[request{part: analyze.PartJobMetrics, query: query}].Status
}

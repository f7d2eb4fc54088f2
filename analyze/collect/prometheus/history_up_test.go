package prometheus_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestCollectHistoryUpPasses(t *testing.T) {
	upQueries := func(f *historyFake) (coarse, fine []url.Values) {
		for _, q := range f.queries {
			switch expr := q.Get("query"); {
			case strings.Contains(expr, "present_over_time(up"):
				coarse = append(coarse, q)
			case strings.Contains(expr, "(up"):
				fine = append(fine, q)
			}
		}
		return coarse, fine
	}

	t.Run("The up history costs one coarse query, and two one-minute queries per batch of jobs the coarse pass names, however many jobs there are.", func(t *testing.T) {
		var jobs []string
		for i := range prometheus.JobMetricsBatch + 1 {
			jobs = append(jobs, fmt.Sprintf("job.%04d", i))
		}
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, matrix: func(q string) string {
			if !strings.Contains(q, "present_over_time") {
				return ""
			}
			series := make([]string, len(jobs))
			for i, j := range jobs {
				series[i] = fmt.Sprintf(`{"metric":{"job":%q},"values":[[%d,"1"]]}`, j, historyEnd.Add(-time.Hour).Unix())
			}
			return "[" + strings.Join(series, ",") + "]"
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour, End: historyEnd})
		if !res.OK {
			t.Fatalf("result %+v", res)
		}
		coarse, fine := upQueries(f)
		if len(coarse) != 1 || coarse[0].Get("step") != "3600" {
			t.Errorf("coarse up queries %v, want one at an hour's step", coarse)
		}
		if len(fine) != 4 {
			t.Fatalf("%d one-minute up queries, want 4: two batches of %d jobs, each asked which stopped and how many targets they had", len(fine), prometheus.JobMetricsBatch)
		}
		for i, q := range fine {
			expr := q.Get("query")
			first, last := jobs[0], jobs[prometheus.JobMetricsBatch-1]
			if i >= 2 {
				first, last = jobs[prometheus.JobMetricsBatch], jobs[prometheus.JobMetricsBatch]
			}
			// Each name is quoted: job.0001 does not match jobX0001.
			if !strings.Contains(expr, `up{job=~"`+strings.ReplaceAll(first, ".", `\\.`)) || !strings.Contains(expr, strings.ReplaceAll(last, ".", `\\.`)+`"}`) ||
				q.Get("step") != "60" || !unixParam(t, q.Get("end")).Equal(historyEnd) || !unixParam(t, q.Get("start")).Equal(historyEnd.Add(-7*24*time.Hour)) {
				t.Errorf("one-minute up query %d: %v", i, q)
			}
		}
	})

	t.Run("A lookback shorter than three hours is read at one minute alone, every job at once.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{Lookback: 2 * time.Hour, End: historyEnd})
		if !res.OK {
			t.Fatalf("result %+v", res)
		}
		coarse, fine := upQueries(f)
		if len(coarse) != 0 || len(fine) != 2 || slices.ContainsFunc(fine, func(q url.Values) bool { return strings.Contains(q.Get("query"), "job=~") }) {
			t.Errorf("coarse %v, one-minute %v", coarse, fine)
		}
	})
}

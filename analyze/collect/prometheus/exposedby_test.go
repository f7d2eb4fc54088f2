package prometheus_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestCollectExposure(t *testing.T) {
	s := &seriesServer{t: t, series: map[string][]string{
		"node_cpu_seconds_total": {"node", "node-edge"},
		"node_uname_info":        {"node"},
		"http_requests_total":    {"payments", "api"},
		"a.b|c":                  {"odd"},
		"axb":                    {"not-asked"},
	}}
	// More names than one query asks about, most of which no job exposes.
	names := []string{"node_cpu_seconds_total", "node_uname_info", "http_requests_total", "a.b|c", "node_uname_info"}
	for i := range prometheus.JobMetricsBatch {
		names = append(names, fmt.Sprintf("absent_%04d", i))
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client, err := prometheus.NewClient(options(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	rec := prometheus.NewRecorder(client)
	live := prometheus.CollectExposure(context.Background(), rec, names)

	t.Run("Every name asked about maps to the jobs exposing it, in batched group by queries.", func(t *testing.T) {
		if live.Err != nil || live.Unanswered != 0 {
			t.Fatalf("err %v, not recorded %d", live.Err, live.Unanswered)
		}
		want := map[string][]string{
			"node_cpu_seconds_total": {"node", "node-edge"},
			"node_uname_info":        {"node"},
			"http_requests_total":    {"api", "payments"},
			"a.b|c":                  {"odd"},
		}
		for n, jobs := range want {
			if !slices.Equal(live.Jobs[n], jobs) {
				t.Errorf("%s: %v, want %v", n, live.Jobs[n], jobs)
			}
		}
		if jobs, ok := live.Jobs["absent_0399"]; !ok || len(jobs) != 0 {
			t.Errorf("absent_0399: %v (asked %v), want asked and exposed by none", jobs, ok)
		}
		if _, ok := live.Jobs["axb"]; ok || len(live.Jobs) != len(want)+prometheus.JobMetricsBatch {
			t.Errorf("%d names known, want %d and not axb", len(live.Jobs), len(want)+prometheus.JobMetricsBatch)
		}
		if s.count() != 2 {
			t.Errorf("%d queries, want 2", s.count())
		}
	})

	t.Run("A snapshot of the answers replays them.", func(t *testing.T) {
		replayed := prometheus.CollectExposure(context.Background(), prometheus.NewRecorder(prometheus.NewReplay(rec.Responses())), names)
		if replayed.Err != nil || replayed.Unanswered != 0 || !maps.EqualFunc(replayed.Jobs, live.Jobs, slices.Equal) {
			t.Errorf("replayed %+v", replayed)
		}
	})

	t.Run("A snapshot taken before, or for other dashboards, has no answer: the names are unknown, not exposed by none.", func(t *testing.T) {
		// Sorted, the first batch is the recorded one; the second now holds node_load1 too.
		e := prometheus.CollectExposure(context.Background(), prometheus.NewRecorder(prometheus.NewReplay(rec.Responses())), append(names, "node_load1"))
		if _, known := e.Jobs["node_load1"]; e.Err != nil || e.Unanswered != 5 || e.Why != "not in the snapshot" || len(e.Jobs) != prometheus.JobMetricsBatch || known {
			t.Errorf("err %v, unanswered %d (%s), known %d", e.Err, e.Unanswered, e.Why, len(e.Jobs))
		}
	})

	t.Run("A server that does not serve the query endpoint leaves the names unknown, without an error.", func(t *testing.T) {
		nf := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(nf.Close)
		client, err := prometheus.NewClient(options(nf.URL))
		if err != nil {
			t.Fatal(err)
		}
		e := prometheus.CollectExposure(context.Background(), prometheus.NewRecorder(client), []string{"up"})
		if e.Err != nil || e.Unanswered != 1 || e.Why != "/api/v1/query is not served (HTTP 404)" || len(e.Jobs) != 0 {
			t.Errorf("%+v", e)
		}
	})

	t.Run("A failed query is an error; its names are unknown.", func(t *testing.T) {
		fail := httptest.NewServer(apiError(t, http.StatusServiceUnavailable, "unavailable", "overloaded"))
		t.Cleanup(fail.Close)
		o := options(fail.URL)
		o.Attempts = 1
		client, err := prometheus.NewClient(o)
		if err != nil {
			t.Fatal(err)
		}
		e := prometheus.CollectExposure(context.Background(), prometheus.NewRecorder(client), []string{"up"})
		if e.Err == nil || len(e.Jobs) != 0 {
			t.Errorf("%+v", e)
		}
	})
}

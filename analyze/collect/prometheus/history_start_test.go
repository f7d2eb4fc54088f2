package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// tsdbStatusServer answers /api/v1/status/self_metrics, /status/tsdb and /status/tsdb/blocks
// as Prometheus documents them; an empty answer is a 404, as from a server without the
// endpoint.
func tsdbStatusServer(t *testing.T, self, head, blocks string) api.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var data string
		switch r.URL.Path {
		case "/api/v1/status/self_metrics":
			if r.URL.Query().Get("metric_name_pattern") == "prometheus_tsdb_lowest_timestamp" {
				data = self
			}
		case "/api/v1/status/tsdb":
			data = head
		case "/api/v1/status/tsdb/blocks":
			data = blocks
		}
		w.Header().Set("Content-Type", "application/json")
		if data == "" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "404 page not found")
			return
		}
		fmt.Fprintf(w, `{"status":"success","data":%s}`, data)
	}))
	t.Cleanup(srv.Close)
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestDataStartOf(t *testing.T) {
	const (
		self   = `[{"name":"prometheus_tsdb_lowest_timestamp","help":"Lowest timestamp value stored in the database.","type":"GAUGE","metric":[{"gauge":{"value":1764800000000}}]}]`
		head   = `{"headStats":{"numSeries":10,"numLabelPairs":4,"chunkCount":10,"minTime":1764979200000,"maxTime":1765000000000},"seriesCountByMetricName":[],"labelValueCountByLabelName":[],"memoryInBytesByLabelName":[],"seriesCountByLabelValuePair":[]}`
		blocks = `{"blocks":[{"ulid":"01JZ8JKZY6XSK3PTDP9ZKRWT60","minTime":1764900000000,"maxTime":1764907200000,"stats":{"numSamples":1,"numSeries":1,"numChunks":1},"compaction":{"level":1},"version":1},` +
			`{"ulid":"01JZ8JKZY6XSK3PTDP9ZKRWT61","minTime":1764907200000,"maxTime":1764979200000,"stats":{"numSamples":1,"numSeries":1,"numChunks":1},"compaction":{"level":1},"version":1}]}`
		noBlocks  = `{"blocks":[]}`
		emptyHead = `{"headStats":{"numSeries":0,"numLabelPairs":0,"chunkCount":0,"minTime":9223372036854775807,"maxTime":-9223372036854775808}}`
		emptySelf = `[{"name":"prometheus_tsdb_lowest_timestamp","type":"GAUGE","metric":[{"gauge":{"value":9.223372036854776e+18}}]}]`
	)
	lowest, oldestBlock, headStart := time.UnixMilli(1764800000000).UTC(), time.UnixMilli(1764900000000).UTC(), time.UnixMilli(1764979200000).UTC()
	local := &analyze.Storage{}
	for _, tc := range []struct {
		name               string
		storage            *analyze.Storage
		self, head, blocks string
		want               time.Time
	}{
		{"The server's lowest timestamp, when it answers its own metrics (3.12 and later).", local, self, head, blocks, lowest},
		{"Without: the oldest block's start, when the blocks are older than the head.", local, "", head, blocks, oldestBlock},
		{"Without: the head's start, without blocks.", local, "", head, noBlocks, headStart},
		{"An empty lowest timestamp: the blocks and head say.", local, emptySelf, head, blocks, oldestBlock},
		{"An answer of other metrics: the blocks and head say.", local, `[{"name":"go_goroutines","metric":[{"gauge":{"value":1}}]}]`, head, blocks, oldestBlock},
		{"An empty head: the oldest block's start.", local, "", emptyHead, blocks, oldestBlock},
		{"An out-of-order window reaches back that much further.", &analyze.Storage{OutOfOrderWindow: 30 * time.Minute}, self, head, blocks, lowest.Add(-30 * time.Minute)},
		{"Remote storage read too: not known.", &analyze.Storage{RemoteRead: true}, self, head, blocks, time.Time{}},
		{"The configuration not read: not known.", nil, self, head, blocks, time.Time{}},
		{"No blocks endpoint (Prometheus before 3.6, Thanos): not known.", local, "", head, "", time.Time{}},
		{"No TSDB status: not known.", local, "", "", blocks, time.Time{}},
		{"No data at all: not known.", local, emptySelf, emptyHead, noBlocks, time.Time{}},
		{"A block ending before it starts: not known.", local, "", head, `{"blocks":[{"ulid":"x","minTime":1764907200000,"maxTime":1764900000000}]}`, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dataStartOf(t.Context(), tsdbStatusServer(t, tc.self, tc.head, tc.blocks), tc.storage); !got.Equal(tc.want) {
				t.Errorf("data start %v, want %v", got, tc.want)
			}
		})
	}
}

// rangeRecorder is an API that records the ranges of its range queries and answers none.
type rangeRecorder struct {
	promv1.API
	mu     sync.Mutex
	ranges []promv1.Range
}

func (r *rangeRecorder) QueryRange(_ context.Context, _ string, rg promv1.Range, _ ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ranges = append(r.ranges, rg)
	return model.Matrix{}, nil, nil, nil
}

func TestFromDataStart(t *testing.T) {
	end := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	week := promv1.Range{Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Hour}
	for _, tc := range []struct {
		name  string
		r     promv1.Range
		start time.Time
		want  time.Time
	}{
		{"A range starting before the data starts at its last step at or before the data's start.", week, end.Add(-90 * time.Minute), end.Add(-2 * time.Hour)},
		{"On a step: that step.", week, end.Add(-3 * time.Hour), end.Add(-3 * time.Hour)},
		{"A range starting after the data starts is not changed.", week, end.Add(-8 * 24 * time.Hour), week.Start},
		{"Data starting after the range: its last step only.", week, end.Add(time.Hour), end},
		{"A one-minute range keeps its steps' grid.", promv1.Range{Start: end.Add(-time.Hour), End: end, Step: time.Minute}, end.Add(-150 * time.Second), end.Add(-3 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &rangeRecorder{}
			if _, _, _, err := (fromDataStart{API: rec, start: tc.start}).QueryRange(t.Context(), "up", tc.r); err != nil {
				t.Fatal(err)
			}
			got := rec.ranges[0]
			if !got.Start.Equal(tc.want) || !got.End.Equal(tc.r.End) || got.Step != tc.r.Step {
				t.Errorf("range %v to %v step %v, want from %v", got.Start, got.End, got.Step, tc.want)
			}
			if d := got.Start.Sub(tc.r.Start); d%tc.r.Step != 0 {
				t.Errorf("the start moved %v, not a whole number of steps", d)
			}
		})
	}
}

func TestCoarsePassOnAYoungServer(t *testing.T) {
	end := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h := analyze.History{Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute}
	r := promv1.Range{Start: h.Start, End: h.End, Step: h.Step}
	for _, tc := range []struct {
		name   string
		start  time.Time
		coarse bool
	}{
		{"Data of the last 59 minutes: no coarse pass (no hour has one before it).", end.Add(-59 * time.Minute), false},
		{"Data of the last hour exactly: the last step compares with its start, the pass runs.", end.Add(-time.Hour), true},
		{"Data of the last two hours: the coarse pass runs.", end.Add(-2 * time.Hour), true},
		{"Where the data starts is not known: the coarse pass runs.", time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &rangeRecorder{}
			if _, what, err := collectCounters(t.Context(), rec, []string{"orders_total"}, nil, r, newSeriesBuckets(h), tc.start); err != nil {
				t.Fatal(what, err)
			}
			coarse := slices.ContainsFunc(rec.ranges, func(r promv1.Range) bool { return r.Step == counterCoarseStep })
			recent := slices.ContainsFunc(rec.ranges, func(r promv1.Range) bool { return r.Step == time.Minute && r.Start.Equal(end.Add(-time.Hour)) })
			if coarse != tc.coarse || !recent {
				t.Errorf("coarse pass %v (want %v), recent pass %v; ranges %+v", coarse, tc.coarse, recent, rec.ranges)
			}
		})
	}
}

func TestCollectHistoryFromDataStart(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute)
	self := func(at time.Time) string {
		return fmt.Sprintf(`[{"name":"prometheus_tsdb_lowest_timestamp","type":"GAUGE","metric":[{"gauge":{"value":%d}}]}]`, at.UnixMilli())
	}
	for _, tc := range []struct {
		name    string
		start   time.Time
		clipped bool
	}{
		{"Data of the last two hours: the first range query starts there.", end.Add(-2 * time.Hour), true},
		{"Data said to start after the audit's time: the whole lookback.", end.Add(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The server answers no range query: the history stops at its first, whose start
			// is what is looked at.
			c := &startsClient{Client: tsdbStatusServer(t, self(tc.start), "", "")}
			CollectHistory(t.Context(), c, HistoryOptions{Lookback: 7 * 24 * time.Hour, End: end, Storage: &analyze.Storage{}})
			if len(c.starts) == 0 {
				t.Fatal("no range query")
			}
			weekStart := end.Add(-7 * 24 * time.Hour)
			if clipped := c.starts[0].After(weekStart); clipped != tc.clipped || clipped && c.starts[0].After(tc.start) {
				t.Errorf("the first range query starts at %v (data from %v, lookback from %v)", c.starts[0], tc.start, weekStart)
			}
		})
	}
}

package loki_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

func TestReadHistoryAgainstLoki1(t *testing.T) {
	t.Parallel()
	l := servers.StartLoki(t, servers.Find(t).Loki)
	now := time.Now().Truncate(time.Second)
	// api wrote a line every five minutes from three hours ago until 65 minutes ago; worker
	// writes still; legacy has no job label.
	var api, worker []servers.LogEntry
	for ago := 180 * time.Minute; ago >= 65*time.Minute; ago -= 5 * time.Minute {
		api = append(api, servers.LogEntry{Time: now.Add(-ago), Line: "GET /orders 200"})
	}
	for ago := 170 * time.Minute; ago > 0; ago -= 10 * time.Minute {
		worker = append(worker, servers.LogEntry{Time: now.Add(-ago), Line: "job done"})
	}
	l.Push(t,
		servers.LogStream{Labels: map[string]string{"job": "api", "env": "prod"}, Entries: api[:10]},
		servers.LogStream{Labels: map[string]string{"job": "api", "env": "canary"}, Entries: api[10:]},
		servers.LogStream{Labels: map[string]string{"job": "worker"}, Entries: worker},
		servers.LogStream{Labels: map[string]string{"app": "legacy"}, Entries: []servers.LogEntry{{Time: now.Add(-2 * time.Hour), Line: "beat"}}},
	)
	proxy := newCountingProxy(t, l.URL)
	res := loki.ReadHistory(context.Background(), newClient(t, proxy.URL), loki.HistoryOptions{Lookback: 6 * time.Hour, End: now})

	if !res.OK || len(res.Errors) != 0 || len(res.Notes) != 0 {
		t.Fatalf("result %+v", res)
	}
	h := res.History
	if h.Lookback != 6*time.Hour || h.Silence != loki.DefaultLogSilence || h.Step != time.Minute || !h.End.Equal(now) {
		t.Errorf("history read over %s, silence %s, step %s, end %s", h.Lookback, h.Silence, h.Step, h.End)
	}
	if len(h.Jobs) != 2 || h.Jobs[0].Job != "api" || h.Jobs[1].Job != "worker" {
		t.Fatalf("jobs %+v, want api and worker (streams summed by job; none without one)", h.Jobs)
	}
	a, w := h.Jobs[0], h.Jobs[1]
	last := api[len(api)-1].Time
	if a.Lines != int64(len(api)) || a.Recent != 0 || !a.Stopped() || a.LastLine.Before(last) || !a.LastLine.Before(last.Add(h.Step)) {
		t.Errorf("api %+v, want %d lines, none recent, the last line within a step after %s", a, len(api), last)
	}
	// The line of exactly an hour ago is outside the window (end-1h, end].
	if w.Lines != int64(len(worker)) || w.Recent != 5 || w.Stopped() {
		t.Errorf("worker %+v, want %d lines, 5 in the last hour", w, len(worker))
	}
	if a.Indexed || w.Indexed {
		t.Errorf("jobs %+v read from an index Loki 1 does not have", h.Jobs)
	}
	if got := proxy.count(); len(got) != 2 || got["index/volume_range"] != 1 || got["query_range"] != 2 {
		t.Errorf("requests %v, want the index asked once (404) and two metric queries", got)
	}
}

func TestReadHistoryReadsLoki3sIndexWithoutCountingLines(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	// api wrote a line every five minutes from three hours ago until 65 minutes ago; worker
	// writes still; legacy has no job label.
	var api, worker []fakeEntry
	for ago := 180 * time.Minute; ago >= 65*time.Minute; ago -= 5 * time.Minute {
		api = append(api, fakeEntry{end.Add(-ago), "GET /orders 200"})
	}
	for ago := 170 * time.Minute; ago > 0; ago -= 10 * time.Minute {
		worker = append(worker, fakeEntry{end.Add(-ago), "job done"})
	}
	f, srv := newFakeLoki3(t,
		fakeStream{labels: map[string]string{"job": "api", "env": "prod", "service_name": "api"}, entries: api[:10]},
		fakeStream{labels: map[string]string{"job": "api", "env": "canary", "service_name": "api"}, entries: api[10:]},
		fakeStream{labels: map[string]string{"job": "worker", "service_name": "worker"}, entries: worker},
		fakeStream{labels: map[string]string{"app": "legacy", "service_name": "legacy"}, entries: []fakeEntry{{end.Add(-2 * time.Hour), "beat"}}},
	)
	res := loki.ReadHistory(context.Background(), newClient(t, srv.URL), loki.HistoryOptions{Lookback: 6 * time.Hour, End: end})

	if !res.OK || len(res.Errors) != 0 || len(res.Notes) != 0 {
		t.Fatalf("result %+v", res)
	}
	h := res.History
	// Six hours in at most 200 steps: whole minutes of 2.
	if h.Lookback != 6*time.Hour || h.Step != 2*time.Minute || !h.Start.Equal(end.Add(-6*time.Hour)) || !h.End.Equal(end) {
		t.Errorf("history read over %s from %s to %s, step %s", h.Lookback, h.Start, h.End, h.Step)
	}
	// Each point is stamped with the end of its step, a millisecond before the next one.
	want := []analyze.JobLogHistory{
		{Job: "api", LastLine: end.Add(-64*time.Minute - time.Millisecond), Indexed: true, Bytes: int64(len(api) * len("GET /orders 200"))},
		{Job: "worker", LastLine: end.Add(-8*time.Minute - time.Millisecond), Indexed: true, Bytes: int64(len(worker) * len("job done")), Active: true},
	}
	if !reflect.DeepEqual(h.Jobs, want) {
		t.Errorf("jobs\n%+v\nwant\n%+v", h.Jobs, want)
	}
	if !h.Jobs[0].Stopped() || h.Jobs[1].Stopped() {
		t.Errorf("api stopped %t, worker stopped %t; want api only", h.Jobs[0].Stopped(), h.Jobs[1].Stopped())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var got []string
	for _, r := range f.requests {
		q := r.URL.Query()
		got = append(got, fmt.Sprintf("%s query=%s targetLabels=%s step=%s start=-%s end=%s", strings.TrimPrefix(r.URL.Path, "/loki/api/v1/"),
			q.Get("query"), q.Get("targetLabels"), q.Get("step"), end.Sub(nanos(q.Get("start"))), nanos(q.Get("end")).UTC().Format(time.TimeOnly)))
	}
	wantRequests := []string{
		`index/volume_range query={job=~".+"} targetLabels=job step=120 start=-6h0m0s end=03:00:00`,
		`index/volume query={job=~".+"} targetLabels= step= start=-1h0m0s end=03:00:00`,
	}
	if !reflect.DeepEqual(got, wantRequests) {
		t.Errorf("requests\n%s\nwant\n%s (no count_over_time)", strings.Join(got, "\n"), strings.Join(wantRequests, "\n"))
	}
}

func TestReadHistoryCountsLinesWhenTheIndexKnowsNoJob(t *testing.T) {
	// A Loki 2.9+ whose index is not TSDB answers volume requests with nothing.
	f := &limitedLoki{emptyIndex: true}
	srv := httptest.NewServer(f)
	defer srv.Close()
	res := loki.ReadHistory(context.Background(), newClient(t, srv.URL), loki.HistoryOptions{End: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)})
	if !res.OK || len(res.History.Jobs) != 1 || res.History.Jobs[0].Lines != 7 || res.History.Jobs[0].Indexed || !res.History.Jobs[0].Stopped() {
		t.Fatalf("result %+v, want api's 7 lines counted", res)
	}
	if len(f.ranges) != 2 || f.index != 1 {
		t.Errorf("%d metric queries after %d index requests, want 2 after 1", len(f.ranges), f.index)
	}
}

// limitedLoki answers the log history's metric queries as a Loki with limits does: a range
// longer than maxLength is refused as Loki 1.x to 3.x refuse it; with tooManySeries every
// query is refused as Loki 2.x and 3.x refuse more series than max_query_series.
type limitedLoki struct {
	maxLength     time.Duration
	tooManySeries bool
	// emptyIndex answers volume_range with no series, as an index other than TSDB does;
	// otherwise the index endpoints are not found.
	emptyIndex bool

	mu     sync.Mutex
	ranges []time.Duration
	index  int
}

func (f *limitedLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/loki/api/v1/query_range" {
		f.mu.Lock()
		f.index++
		f.mu.Unlock()
		if f.emptyIndex && r.URL.Path == "/loki/api/v1/index/volume_range" {
			success(w, map[string]any{"resultType": "matrix", "result": []any{}})
			return
		}
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	start, end := nanos(q.Get("start")), nanos(q.Get("end"))
	step, _ := strconv.ParseFloat(q.Get("step"), 64)
	length := end.Sub(start) + time.Duration(step*float64(time.Second))
	f.mu.Lock()
	f.ranges = append(f.ranges, length)
	f.mu.Unlock()
	switch {
	case f.tooManySeries:
		http.Error(w, "maximum number of series (500) reached for a single query", http.StatusBadRequest)
	case f.maxLength > 0 && length > f.maxLength:
		http.Error(w, fmt.Sprintf("the query time range exceeds the limit (query length: %s, limit: %s)", length, f.maxLength), http.StatusBadRequest)
	case strings.Contains(q.Get("query"), "[3600s]"):
		success(w, map[string]any{"resultType": "matrix", "result": []any{}})
	default:
		success(w, map[string]any{"resultType": "matrix", "result": []any{
			map[string]any{"metric": map[string]string{"job": "api"}, "values": [][2]any{{float64(end.Add(-2 * time.Hour).Unix()), "7"}}},
		}})
	}
}

func TestReadHistoryClipsTheLookbackToLokisMaxQueryLength(t *testing.T) {
	f := &limitedLoki{maxLength: 24 * time.Hour}
	srv := httptest.NewServer(f)
	defer srv.Close()
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	res := loki.ReadHistory(context.Background(), newClient(t, srv.URL), loki.HistoryOptions{End: end})
	if !res.OK || len(res.Errors) != 0 {
		t.Fatalf("result %+v", res)
	}
	if want := []string{"log history: the lookback of 1w is clipped to Loki's max_query_length of 1d"}; fmt.Sprint(res.Notes) != fmt.Sprint(want) {
		t.Errorf("notes %q, want %q", res.Notes, want)
	}
	h := res.History
	if h.Requested != loki.DefaultLookback || h.Lookback != 24*time.Hour || h.Start.Before(end.Add(-24*time.Hour)) {
		t.Errorf("history %+v, want a day read", h)
	}
	if len(h.Jobs) != 1 || !h.Jobs[0].Stopped() || h.Jobs[0].Lines != 7 {
		t.Errorf("jobs %+v", h.Jobs)
	}
	for _, r := range f.ranges[1:] {
		if r > f.maxLength {
			t.Errorf("a query of %s after clipping, want at most %s", r, f.maxLength)
		}
	}
	if len(f.ranges) != 3 {
		t.Errorf("%d queries, want the refused one, its retry and the silence's", len(f.ranges))
	}
}

func TestReadHistoryNamesLokisSeriesLimit(t *testing.T) {
	srv := httptest.NewServer(&limitedLoki{tooManySeries: true})
	defer srv.Close()
	res := loki.ReadHistory(context.Background(), newClient(t, srv.URL), loki.HistoryOptions{End: time.Now()})
	if res.OK || len(res.Errors) != 1 || res.Errors[0].Part != analyze.PartLogHistory || !strings.Contains(res.Errors[0].Err, "max_query_series") {
		t.Errorf("result %+v, want an error of the log history naming max_query_series", res)
	}
}

func TestTheLogHistoryIsAddedWithTheLokiSource(t *testing.T) {
	r := &loki.Result{Parts: []analyze.Part{analyze.PartLogStreams}, History: &loki.HistoryResult{
		OK: true, Notes: []string{"clipped"},
		History: analyze.LogHistory{Silence: time.Hour, Jobs: []analyze.JobLogHistory{{Job: "b", Lines: 1}, {Job: "a", Lines: 2, Recent: 1}}},
	}}
	b := analyze.NewBuilder(time.Time{})
	src := r.AddTo(b, analyze.Source{Name: "loki"})
	inv := b.Build()
	if !inv.Has(analyze.PartLogHistory) || len(inv.LogHistory.Jobs) != 2 || inv.LogHistory.Jobs[0].Job != "a" {
		t.Errorf("inventory parts %v, log history %+v", inv.Parts, inv.LogHistory)
	}
	if fmt.Sprint(src.Notes) != "[clipped]" || fmt.Sprint(inv.Sources[0].Notes) != "[clipped]" {
		t.Errorf("source %+v", src)
	}

	failed := &loki.Result{History: &loki.HistoryResult{Errors: []analyze.SourceError{{Part: analyze.PartLogHistory, Err: "boom"}}}}
	b = analyze.NewBuilder(time.Time{})
	src = failed.AddTo(b, analyze.Source{Name: "loki"})
	if inv := b.Build(); inv.Has(analyze.PartLogHistory) || src.OK() {
		t.Errorf("a failed log history: parts %v, source %+v", inv.Parts, src)
	}
}

func TestReadHistoryNamesLokisVolumeSeriesLimitWithoutCountingLines(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		http.Error(w, "the query hit the max number of series limit (limit: 1000 series)", http.StatusBadRequest)
	}))
	defer srv.Close()
	res := loki.ReadHistory(context.Background(), newClient(t, srv.URL), loki.HistoryOptions{End: time.Now()})
	if res.OK || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Err, "raise limits_config.volume_max_series") {
		t.Errorf("result %+v, want an error of the log history naming volume_max_series", res)
	}
	if len(paths) != 1 || paths[0] != "/loki/api/v1/index/volume_range" {
		t.Errorf("requests %v, want the index's refusal only", paths)
	}
}

func TestReadHistoryClipsTheIndexsLookbackToLokisMaxQueryLength(t *testing.T) {
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		length := end.Sub(nanos(q.Get("start")))
		paths = append(paths, fmt.Sprintf("%s %s", strings.TrimPrefix(r.URL.Path, "/loki/api/v1/"), length))
		switch {
		case length > 24*time.Hour:
			http.Error(w, fmt.Sprintf("the query time range exceeds the limit (query length: %s, limit: 1d)", length), http.StatusBadRequest)
		case r.URL.Path == "/loki/api/v1/index/volume_range":
			success(w, map[string]any{"resultType": "matrix", "result": []any{
				map[string]any{"metric": map[string]string{"job": "api"}, "values": [][2]any{{float64(end.Add(-2 * time.Hour).Unix()), "1024"}}},
			}})
		default:
			success(w, map[string]any{"resultType": "vector", "result": []any{}})
		}
	}))
	defer srv.Close()
	res := loki.ReadHistory(context.Background(), newClient(t, srv.URL), loki.HistoryOptions{End: end})
	if !res.OK || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "clipped to Loki's max_query_length of 1d") {
		t.Fatalf("result %+v", res)
	}
	want := []analyze.JobLogHistory{{Job: "api", LastLine: end.Add(-2 * time.Hour), Indexed: true, Bytes: 1024}}
	if h := res.History; h.Lookback != 24*time.Hour || h.Step != 8*time.Minute || !reflect.DeepEqual(h.Jobs, want) {
		t.Errorf("history %+v", h)
	}
	if want := []string{"index/volume_range 168h0m0s", "index/volume_range 24h0m0s", "index/volume 1h0m0s"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("requests %q, want %q", paths, want)
	}
}

package prometheus_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// historyFake answers the flags, runtimeinfo and query_range endpoints and records the range
// queries it was asked.
type historyFake struct {
	mu      sync.Mutex
	queries []url.Values
	flags   string // the data of /api/v1/status/flags; "" answers 404
	runtime string // the data of /api/v1/status/runtimeinfo; "" answers 404
	// matrix answers a range query; "" answers an empty matrix.
	matrix func(query string) string
	// vector answers an instant query; "" answers an empty vector.
	vector func(query string) string
	// ranged, when set, answers a range query before matrix, from the whole request; ""
	// leaves it to matrix.
	ranged func(q url.Values) string
	fail   bool
}

func (f *historyFake) start(t *testing.T) api.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(data string) {
			if data == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"success","data":%s}`, data)
		}
		switch r.URL.Path {
		case "/api/v1/status/flags":
			answer(f.flags)
		case "/api/v1/status/runtimeinfo":
			answer(f.runtime)
		case "/api/v1/query_range":
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			f.mu.Lock()
			f.queries = append(f.queries, r.Form)
			f.mu.Unlock()
			if f.fail {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)
				return
			}
			result := "[]"
			if f.ranged != nil {
				result = cmp.Or(f.ranged(r.Form), result)
			}
			if f.matrix != nil && result == "[]" {
				if m := f.matrix(r.Form.Get("query")); m != "" {
					result = m
				}
			}
			answer(`{"resultType":"matrix","result":` + result + `}`)
		case "/api/v1/query":
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			result := "[]"
			if f.vector != nil {
				if v := f.vector(r.Form.Get("query")); v != "" {
					result = v
				}
			}
			answer(`{"resultType":"vector","result":` + result + `}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var historyEnd = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

func TestCollectHistory(t *testing.T) {
	t.Run("Jobs and counters are read with one range query each per batch of names, at a step that keeps a week under 11,000 points a series.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`}
		names := []string{"go_gc_cycles_total", "up", "last_success_timestamp_seconds"}
		for i := range prometheus.CounterBatchNames + 1 {
			names = append(names, fmt.Sprintf("app_%04d_total", i))
		}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour, End: historyEnd, Counters: names})
		if !res.OK || len(res.Errors) != 0 || len(res.Notes) != 0 {
			t.Fatalf("result %+v", res)
		}
		// The coarse pass over up (no job lost series: no one-minute pass over up), the coarse
		// and the recent counter passes (two batches each; no counter needs the fine pass), then
		// alerts.
		if len(f.queries) != 6 {
			t.Fatalf("%d range queries, want 6", len(f.queries))
		}
		q := f.queries[0]
		if q.Get("query") != `count by (job) (present_over_time(up[1h6m])) unless on (job) (count by (job) (up) >= on (job) count by (job) (present_over_time(up[1h6m])))` ||
			q.Get("step") != "3600" || !unixParam(t, q.Get("end")).Equal(historyEnd) || !unixParam(t, q.Get("start")).Equal(historyEnd.Add(-7*24*time.Hour)) {
			t.Errorf("coarse jobs query %v", q)
		}
		counters := slices.DeleteFunc(slices.Clone(f.queries), func(q url.Values) bool { return !strings.Contains(q.Get("query"), `__name__=~"app_`) })
		if len(counters) != 4 {
			t.Fatalf("%d counter queries, want 4: two batches of %d names, each read coarsely and over the last hour", len(counters), prometheus.CounterBatchNames)
		}
		for i, q := range counters {
			expr := q.Get("query")
			if strings.Contains(expr, "go_gc_cycles_total") || strings.Contains(expr, "last_success") || strings.Contains(expr, `"up"`) {
				t.Errorf("a name the business defaults exclude, or no counter, was queried: %s", expr)
			}
			start, end := unixParam(t, q.Get("start")), unixParam(t, q.Get("end"))
			coarse := i < 2
			switch {
			case coarse && (!strings.Contains(expr, `> on (job, __name__) sum by (job, __name__) ({__name__=~"app_`) || !strings.HasSuffix(expr, " offset 1h)")):
				t.Errorf("coarse counter query %s", expr)
			case coarse && (q.Get("step") != "3600" || !end.Equal(historyEnd) || end.Sub(start) != 7*24*time.Hour):
				t.Errorf("coarse range %s to %s step %s", start, end, q.Get("step"))
			case !coarse && (!strings.HasPrefix(expr, `idelta(label_replace(sum by (job, __name__) ({__name__=~"app_`) || !strings.HasSuffix(expr, `, "metric", "$1", "__name__", "(.+)")[2m:1m]) > 0`)):
				t.Errorf("recent counter query %s", expr)
			case !coarse && (q.Get("step") != "60" || !end.Equal(historyEnd) || end.Sub(start) != time.Hour):
				t.Errorf("recent range %s to %s step %s", start, end, q.Get("step"))
			}
		}
		h := res.History
		if h.Lookback != 7*24*time.Hour || h.Step != time.Minute || !h.End.Equal(historyEnd) || !h.Start.Equal(historyEnd.Add(-7*24*time.Hour)) {
			t.Errorf("history %+v", h)
		}
	})

	t.Run("Every range query's steps fall on multiples of its step since the epoch, as the counter rise queries' subqueries do, even a step that does not divide a day.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"90d"}`}
		// 52 days at no more than 10,800 points: a step of 7 minutes. The end is not on one.
		end := historyEnd.Add(3*time.Minute + 17*time.Second)
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{Lookback: 52 * 24 * time.Hour, End: end, Counters: []string{"orders_total"}})
		if !res.OK || res.History.Step != 7*time.Minute {
			t.Fatalf("result %+v", res)
		}
		if e := res.History.End; e.Unix()%(7*60) != 0 || e.After(end) || !e.After(end.Add(-7*time.Minute)) {
			t.Errorf("the history ends at %s, want the last multiple of 7m at or before %s", e, end)
		}
		rises := 0
		for _, q := range f.queries {
			step, err := strconv.Atoi(q.Get("step"))
			if err != nil || step%(7*60) != 0 {
				t.Errorf("step %q, want a multiple of 7m", q.Get("step"))
				continue
			}
			if start, end := unixParam(t, q.Get("start")), unixParam(t, q.Get("end")); start.Unix()%(7*60) != 0 || end.Unix()%(7*60) != 0 {
				t.Errorf("%s from %s to %s: not on the steps", q.Get("query"), start, end)
			}
			if strings.HasPrefix(q.Get("query"), "idelta(") {
				rises++
				if !strings.HasSuffix(q.Get("query"), "[14m:7m]) > 0") {
					t.Errorf("rise query %s, want a subquery of two steps", q.Get("query"))
				}
			}
		}
		if rises == 0 {
			t.Errorf("no rise query among %v", f.queries)
		}
	})

	t.Run("The coarse up windows reach back the server's query.lookback-delta, 5m when its flags do not say.", func(t *testing.T) {
		for flags, window := range map[string]string{
			`{"storage.tsdb.retention.time":"15d","query.lookback-delta":"15m"}`: "1h16m",
			`{"storage.tsdb.retention.time":"15d","query.lookback-delta":"0s"}`:  "1h6m",
			`{"storage.tsdb.retention.time":"15d"}`:                              "1h6m",
		} {
			f := &historyFake{flags: flags}
			if res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd}); !res.OK {
				t.Fatalf("result %+v", res)
			}
			if q := f.queries[0].Get("query"); !strings.HasPrefix(q, "count by (job) (present_over_time(up["+window+"]))") {
				t.Errorf("flags %s: coarse up query %s, want windows of %s", flags, q, window)
			}
		}
	})

	t.Run("A lookback longer than the retention is clipped to it, and a note says so; the retention comes from runtimeinfo when the flags do not say it.", func(t *testing.T) {
		for _, f := range []*historyFake{
			{flags: `{"storage.tsdb.retention.time":"1d"}`},
			{flags: `{"storage.tsdb.retention.time":"0s"}`, runtime: `{"storageRetention":"1d or 512MiB"}`},
			{runtime: `{"storageRetention":"1d"}`},
		} {
			res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
			want := []string{"history: the lookback of 7d is clipped to the server's retention of 1d"}
			if !res.OK || !slices.Equal(res.Notes, want) || res.History.Lookback != 24*time.Hour || res.History.Requested != 7*24*time.Hour {
				t.Errorf("flags %s, runtimeinfo %s: notes %q, history %+v", f.flags, f.runtime, res.Notes, res.History)
			}
			start := unixParam(t, f.queries[0].Get("start"))
			if !start.Equal(historyEnd.Add(-24 * time.Hour)) {
				t.Errorf("the query starts at %s, want a day before the end", start)
			}
		}
	})

	t.Run("A server that does not say its retention is read over the whole lookback, and a note says the retention is unknown.", func(t *testing.T) {
		f := &historyFake{}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{Lookback: 48 * time.Hour, End: historyEnd})
		if !res.OK || res.History.Lookback != 48*time.Hour || !slices.Equal(res.Notes, []string{"history: the server's retention could not be read; the lookback of 2d is not clipped"}) {
			t.Errorf("result %+v", res)
		}
	})

	t.Run("A failed range query is an error of the history part with the server's message, and the part is not held.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, fail: true}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: []string{"orders_total"}})
		if res.OK || len(res.Errors) != 1 || res.Errors[0].Part != analyze.PartHistory ||
			res.Errors[0].Err != "reading which jobs had up series: query processing would load too many samples into memory" {
			t.Fatalf("result %+v", res)
		}
		b := analyze.NewBuilder(historyEnd)
		b.AddSource(analyze.Source{Name: "prometheus", Kind: "live"})
		res.AddTo(b, "prometheus")
		inv := b.Build()
		if inv.Has(analyze.PartHistory) || len(inv.Sources[0].Errors) != 1 {
			t.Errorf("parts %v, source %+v", inv.Parts, inv.Sources[0])
		}
	})

	t.Run("The answers become the jobs whose up series last stopped, seen a step before, and, per counter, its increases, longest gap and rise.", func(t *testing.T) {
		ts := func(d time.Duration) string { return fmt.Sprint(historyEnd.Add(d).Unix()) }
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, matrix: func(q string) string {
			if strings.Contains(q, "present_over_time") {
				// The coarse pass names the jobs that lost up series in some hour.
				return `[{"metric":{"job":"legacy"},"values":[[` + ts(-96*time.Hour) + `,"1"],[` + ts(-71*time.Hour) + `,"1"]]},` +
					`{"metric":{"job":"api"},"values":[[` + ts(-2*time.Hour) + `,"1"]]}]`
			}
			if strings.HasPrefix(q, "label_replace") {
				// legacy stopped twice and started once in between; api stopped and came back;
				// a series without a job or an event says nothing.
				return `[{"metric":{"job":"legacy","event":"stopped"},"values":[[` + ts(-96*time.Hour) + `,"1"],[` + ts(-71*time.Hour) + `,"1"]]},` +
					`{"metric":{"job":"legacy","event":"started"},"values":[[` + ts(-90*time.Hour) + `,"1"]]},` +
					`{"metric":{"job":"api","event":"stopped"},"values":[[` + ts(-2*time.Hour) + `,"1"]]},` +
					`{"metric":{"job":"api","event":"started"},"values":[[` + ts(-time.Hour) + `,"1"]]},` +
					`{"metric":{"event":"stopped"},"values":[[` + ts(0) + `,"1"]]},{"metric":{"job":"x"},"values":[[` + ts(0) + `,"1"]]}]`
			}
			if strings.HasPrefix(q, "count by (job) (max_over_time(") {
				// legacy had two up series in the first bucket, one in the 27th.
				return `[{"metric":{"job":"legacy"},"values":[[` + ts(-47*210*time.Minute) + `,"2"],[` + ts(-21*210*time.Minute) + `,"1"]]}]`
			}
			if strings.HasPrefix(q, "idelta(") {
				// The rise queries answer how much each counter rose at each step it did, and
				// name it in the label metric.
				return `[{"metric":{"metric":"orders_total","job":"shop"},"values":[[` + ts(-3*time.Hour) + `,"7"],[` + ts(-2*time.Hour) + `,"2"],[` + ts(-time.Hour+time.Minute) + `,"1"],[` + ts(-time.Hour+2*time.Minute) + `,"3"]]},` +
					`{"metric":{"metric":"steady_total","job":"shop"},"values":[[` + ts(-2*time.Minute) + `,"1"],[` + ts(-time.Minute) + `,"1"],[` + ts(0) + `,"1"]]},` +
					// A series without a metric label says nothing.
					`{"metric":{"job":"shop"},"values":[[` + ts(0) + `,"1"]]}]`
			}
			// The coarse pass answers the counters' sums at the hours they rose.
			return `[{"metric":{"__name__":"orders_total","job":"shop"},"values":[[` + ts(-3*time.Hour) + `,"10"],[` + ts(-2*time.Hour) + `,"12"],[` + ts(-time.Hour+time.Minute) + `,"1"],[` + ts(-time.Hour+2*time.Minute) + `,"4"]]},` +
				`{"metric":{"__name__":"steady_total","job":"shop"},"values":[[` + ts(-2*time.Minute) + `,"1"],[` + ts(-time.Minute) + `,"2"],[` + ts(0) + `,"3"]]}]`
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: []string{"orders_total"}})
		h := res.History
		// A week in buckets of whole steps: 48 of 3h30m, the last ending at the end.
		legacy := make([]float64, 48)
		legacy[0], legacy[26] = 2, 1
		if len(h.Jobs) != 1 || !reflect.DeepEqual(h.Jobs[0], analyze.JobHistory{Name: "legacy", LastSeen: historyEnd.Add(-71*time.Hour - time.Minute), Series: legacy}) {
			t.Errorf("jobs %+v", h.Jobs)
		}
		// The rises at two hours and at 59 and 58 minutes before the end fall in the last
		// bucket; the first point's adds nothing (it is before FirstIncrease).
		orders := make([]float64, 48)
		orders[47] = 2 + 1 + 3
		want := analyze.CounterHistory{Job: "shop", Metric: "orders_total", FirstIncrease: historyEnd.Add(-3 * time.Hour), LastIncrease: historyEnd.Add(-time.Hour + 2*time.Minute),
			Increases: 4, LongestGap: 61 * time.Minute, Rise: 2 + 1 + 3, Series: orders}
		// A counter that rose in the last steps cannot be flat: its series is not kept.
		steady := analyze.CounterHistory{Job: "shop", Metric: "steady_total", FirstIncrease: historyEnd.Add(-2 * time.Minute), LastIncrease: historyEnd,
			Increases: 3, LongestGap: time.Minute, Rise: 2}
		if len(h.Counters) != 2 || !reflect.DeepEqual(h.Counters[0], want) || !reflect.DeepEqual(h.Counters[1], steady) {
			t.Errorf("counters %+v, want %+v and %+v", h.Counters, want, steady)
		}
		if h.SeriesStep != 210*time.Minute {
			t.Errorf("series step %s, want 3h30m", h.SeriesStep)
		}
		// The stopped job's series is read with one range query a bucket apart, ending at the end.
		// The one-minute pass over up reads only the jobs the coarse pass named.
		fine := slices.DeleteFunc(slices.Clone(f.queries), func(q url.Values) bool { return !strings.Contains(q.Get("query"), "(up") || q.Get("step") != "60" })
		if len(fine) != 2 || !strings.HasPrefix(fine[0].Get("query"), `label_replace(count by (job) (up{job=~"api|legacy"} offset 1m)`) ||
			!strings.Contains(fine[1].Get("query"), `(count by (job) (up{job=~"api|legacy"}) == on (job)`) {
			t.Errorf("one-minute up queries %v", fine)
		}
		i := slices.IndexFunc(f.queries, func(q url.Values) bool { return strings.HasPrefix(q.Get("query"), "count by (job) (max_over_time(") })
		if i < 0 {
			t.Fatalf("no query of the stopped jobs' up series among %v", f.queries)
		}
		q := f.queries[i]
		if q.Get("query") != `count by (job) (max_over_time(up{job=~"legacy"}[3h30m]))` || q.Get("step") != "12600" ||
			!unixParam(t, q.Get("end")).Equal(historyEnd) || !unixParam(t, q.Get("start")).Equal(historyEnd.Add(-47*210*time.Minute)) {
			t.Errorf("up series query %v", q)
		}
	})
}

func TestCollectHistoryCounterPasses(t *testing.T) {
	t.Run("A counter that moved in every hour and lately every minute is summed up from the coarse and recent passes; one that paused is read again at one minute, alone.", func(t *testing.T) {
		ts := func(d time.Duration) string { return fmt.Sprint(historyEnd.Add(d).Unix()) }
		// The coarse pass answers sums under the metric name, the others rises under the label
		// metric.
		series := func(name string, points ...string) string {
			return `{"metric":{"__name__":"` + name + `","job":"shop"},"values":[` + strings.Join(points, ",") + `]}`
		}
		rises := func(name string, points ...string) string {
			return `{"metric":{"metric":"` + name + `","job":"shop"},"values":[` + strings.Join(points, ",") + `]}`
		}
		point := func(d time.Duration, v int) string { return fmt.Sprintf(`[%s,"%d"]`, ts(d), v) }
		var fine []string
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, ranged: func(q url.Values) string {
			expr := q.Get("query")
			if !strings.Contains(expr, "_total") {
				return ""
			}
			start := unixParam(t, q.Get("start"))
			switch {
			case strings.Contains(expr, "offset 1h"):
				var busy []string
				for h := 5; h >= 1; h-- {
					busy = append(busy, point(-time.Duration(h)*time.Hour, 100*(6-h)))
				}
				return "[" + series("busy_total", busy...) + "," +
					series("paused_total", point(-6*time.Hour, 10), point(-3*time.Hour, 20), point(-time.Hour, 30)) + "]"
			case start.Equal(historyEnd.Add(-time.Hour)):
				var busy []string
				for m := 60; m >= 0; m-- {
					busy = append(busy, point(-time.Duration(m)*time.Minute, 1))
				}
				return "[" + rises("busy_total", busy...) + "," +
					rises("paused_total", point(-30*time.Minute, 1), point(-20*time.Minute, 1)) + "]"
			default:
				fine = append(fine, expr)
				return "[" + rises("paused_total", point(-6*time.Hour, 10), point(-3*time.Hour, 10), point(-time.Hour, 10),
					point(-30*time.Minute, 1), point(-20*time.Minute, 1)) + "]"
			}
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: []string{"busy_total", "paused_total"}})
		if !res.OK {
			t.Fatalf("result %+v", res)
		}
		if len(fine) != 1 || !strings.Contains(fine[0], `{__name__=~"paused_total"}`) {
			t.Fatalf("one-minute queries over the week %q, want one of paused_total alone", fine)
		}
		// The recent rise at the last coarse step is within the hour that step counts.
		busy := analyze.CounterHistory{Job: "shop", Metric: "busy_total", FirstIncrease: historyEnd.Add(-5 * time.Hour), LastIncrease: historyEnd,
			Increases: 5 + 60, LongestGap: time.Minute, Rise: 400 + 60}
		series47 := make([]float64, 48)
		series47[47] = 10 + 1 + 1 + 10
		paused := analyze.CounterHistory{Job: "shop", Metric: "paused_total", FirstIncrease: historyEnd.Add(-6 * time.Hour), LastIncrease: historyEnd.Add(-20 * time.Minute),
			Increases: 5, LongestGap: 3 * time.Hour, Rise: 22, Series: series47}
		if got := res.History.Counters; len(got) != 2 || !reflect.DeepEqual(got[0], busy) || !reflect.DeepEqual(got[1], paused) {
			t.Errorf("counters %+v, want %+v and %+v", got, busy, paused)
		}
	})

	t.Run("The counters cost at most three range queries per batch of names, however many counters and jobs there are.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, ranged: func(q url.Values) string {
			if !strings.Contains(q.Get("query"), "_total") {
				return ""
			}
			// Every counter of every batch paused an hour ago: none is settled without the fine pass.
			return `[{"metric":{"__name__":"app_0000_total","job":"a"},"values":[[` + fmt.Sprint(historyEnd.Add(-2*time.Hour).Unix()) + `,"1"]]},` +
				`{"metric":{"__name__":"app_2000_total","job":"b"},"values":[[` + fmt.Sprint(historyEnd.Add(-2*time.Hour).Unix()) + `,"1"]]}]`
		}}
		var names []string
		for i := range 2*prometheus.CounterBatchNames + 1 {
			names = append(names, fmt.Sprintf("app_%04d_total", i))
		}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: names})
		if !res.OK {
			t.Fatalf("result %+v", res)
		}
		counters := slices.DeleteFunc(slices.Clone(f.queries), func(q url.Values) bool { return !strings.Contains(q.Get("query"), "_total") })
		// Three batches, each read coarsely and over the last hour; the two counters to read
		// again share one fine query.
		if len(counters) != 3+3+1 || len(counters) > 3*3 {
			t.Errorf("%d counter queries, want 7", len(counters))
		}
	})
}

// history is an OpenMetrics history of a week, one sample a minute, ending at end: a counter
// steady for five days then flat for two, a counter that moves once an hour, and a job whose
// up series stop three days before the end.
func history(end time.Time) (om string, invoices, orders int) {
	var b strings.Builder
	start := end.Add(-7 * 24 * time.Hour)
	minutes := int(end.Sub(start) / time.Minute)
	b.WriteString("# TYPE invoices_generated_total counter\n")
	for i := 0; i <= minutes; i++ {
		invoices = min(i, 5*24*60) * 30
		fmt.Fprintf(&b, "invoices_generated_total{job=\"billing\",instance=\"billing-1\"} %d %d\n", invoices, start.Add(time.Duration(i)*time.Minute).Unix())
	}
	b.WriteString("# TYPE orders_placed_total counter\n")
	for i := 0; i <= minutes; i++ {
		orders = i / 60
		fmt.Fprintf(&b, "orders_placed_total{job=\"orders\",instance=\"orders-1\"} %d %d\n", orders, start.Add(time.Duration(i)*time.Minute).Unix())
	}
	b.WriteString("# TYPE up gauge\n")
	for i := 0; i <= minutes-3*24*60; i++ {
		fmt.Fprintf(&b, "up{job=\"legacy\",instance=\"legacy-1\"} 1 %d\n", start.Add(time.Duration(i)*time.Minute).Unix())
	}
	b.WriteString("# EOF\n")
	return b.String(), invoices, orders
}

func TestHistoryLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name+": a week of history gives a flatlined counter and a vanished job, and not the counter that moves once an hour.", func(t *testing.T) {
			now := time.Now().UTC()
			// The history ends before the head begins; the live targets carry the counters on at
			// their last values, so that they are candidates now.
			end := now.Add(-10 * time.Minute).Truncate(time.Minute)
			om, invoices, orders := history(end)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "# TYPE invoices_generated_total counter\ninvoices_generated_total{job=\"billing\",instance=\"billing-1\"} %d\n", invoices)
				fmt.Fprintf(w, "# TYPE orders_placed_total counter\norders_placed_total{job=\"orders\",instance=\"orders-1\"} %d\n", orders)
			}))
			t.Cleanup(target.Close)
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{
				OpenMetrics: om,
				Jobs:        map[string][]string{"shop": {strings.TrimPrefix(target.URL, "http://")}},
			})
			res, err := collect.Run(t.Context(), collect.Options{
				Prometheus: &httpconfig.Options{URL: prom.URL},
				History:    &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour},
			})
			if err != nil {
				t.Fatal(err)
			}
			inv := res.Inventory
			if !inv.Has(analyze.PartHistory) || len(inv.Sources[0].Errors) != 0 || len(inv.Sources[0].Notes) != 0 {
				t.Fatalf("parts %v, source %+v", inv.Parts, inv.Sources[0])
			}
			// The hourly counter is judged, and passes: it is a candidate, and its history has it
			// rising once an hour.
			i := slices.IndexFunc(inv.History.Counters, func(c analyze.CounterHistory) bool { return c.Metric == "orders_placed_total" })
			if i < 0 || inv.History.Counters[i].Job != "orders" || inv.History.Counters[i].LongestGap != time.Hour || !slices.Contains(inv.JobMetrics["orders"], "orders_placed_total") {
				t.Fatalf("the hourly counter's history %+v (job metrics %v)", inv.History.Counters, inv.JobMetrics)
			}
			all := checks.All(checks.Options{})
			mine := slices.DeleteFunc(all, func(c checks.Check) bool {
				id := c.Meta().ID
				return id != checks.JobsVanishedName && id != checks.BusinessFlatlinedName
			})
			found := checks.Run(inv, checks.Derive(inv, checks.Options{}), mine, checks.Policy{}).Findings
			var got []string
			for _, f := range found {
				got = append(got, f.Check+" "+f.Subject["job"]+" "+f.Subject["metric"])
			}
			want := []string{"business/flatlined billing invoices_generated_total", "jobs/vanished legacy "}
			if !slices.Equal(got, want) {
				t.Fatalf("findings %q, want %q", got, want)
			}
			flat, gone := found[0], found[1]
			if flat.Details["flat_for"] != "2d" || flat.Details["longest_gap"] != "1m" || flat.Details["rate_per_second"] != "0.5" ||
				!strings.Contains(flat.Message, "before, it rose at 30/min and never paused longer than 1m; no alert covers it") {
				t.Errorf("flatlined: %s %v", flat.Message, flat.Details)
			}
			since, _ := time.Parse(time.RFC3339, flat.Details["since"])
			if d := end.Add(-2 * 24 * time.Hour).Sub(since); d < 0 || d > 2*time.Minute {
				t.Errorf("flat since %s, want the last increase two days before %s", since, end)
			}
			lastSeen, _ := time.Parse(time.RFC3339, gone.Details["last_seen"])
			if d := lastSeen.Sub(end.Add(-3 * 24 * time.Hour)); d < 0 || d > 6*time.Minute || !strings.Contains(gone.Message, "(3d ago)") {
				t.Errorf("vanished: %s %v", gone.Message, gone.Details)
			}

			// A snapshot of the server holds its history: audited offline, it gives the same
			// findings as the audit of the server it was taken of.
			rec, err := audit.Record(t.Context(), audit.Request{
				Servers: []collect.FleetSource{{Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: prom.URL}}},
				Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour}},
			})
			if err != nil {
				t.Fatal(err)
			}
			live, back := rec.Collected.Inventory, readBack(t, rec)
			if !back.Has(analyze.PartHistory) || !reflect.DeepEqual(back.History, live.History) || !reflect.DeepEqual(back.Sources[0].Notes, live.Sources[0].Notes) {
				t.Fatalf("history read back %+v, want %+v (notes %q)", back.History, live.History, back.Sources[0].Notes)
			}
			liveFound := checks.Run(live, checks.Derive(live, checks.Options{}), mine, checks.Policy{}).Findings
			backFound := checks.Run(back, checks.Derive(back, checks.Options{}), mine, checks.Policy{}).Findings
			if len(liveFound) != 2 || !reflect.DeepEqual(backFound, liveFound) {
				t.Errorf("findings of the snapshot %+v, want those of the live audit %+v", backFound, liveFound)
			}
		})
	}
	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name+": a Prometheus keeping a day asked for a week says it clipped the lookback.", func(t *testing.T) {
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{Retention: "1d"})
			res := prometheus.CollectHistory(context.Background(), mustClient(t, prom.URL), prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour, End: time.Now()})
			if !res.OK || res.History.Lookback != 24*time.Hour || !slices.Equal(res.Notes, []string{"history: the lookback of 7d is clipped to the server's retention of 1d"}) {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// unixParam reads the start or end of a range query as client_golang sends it.
func unixParam(t *testing.T, s string) time.Time {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return time.Unix(int64(f), 0).UTC()
}

func mustClient(t *testing.T, u string) api.Client {
	t.Helper()
	c, err := prometheus.NewClient(httpconfig.Options{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCollectHistoryProbes(t *testing.T) {
	t.Run("No failing probe costs one instant query and no range query.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		probeQueries := slices.DeleteFunc(slices.Clone(f.queries), func(q url.Values) bool { return !strings.Contains(q.Get("query"), "probe_success") })
		if !res.OK || len(res.History.Probes) != 0 || len(probeQueries) != 0 {
			t.Errorf("probes %+v after %d range queries of probe_success", res.History.Probes, len(probeQueries))
		}
	})

	t.Run("A failing probe starts failing at the last step its range query answers; one failing throughout has no start; a probe without a job is left out.", func(t *testing.T) {
		ts := func(d time.Duration) string { return fmt.Sprint(historyEnd.Add(d).Unix()) }
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`,
			vector: func(q string) string {
				if !strings.Contains(q, "probe_success") {
					return ""
				}
				if q != "probe_success == 0" {
					t.Errorf("instant query %q", q)
				}
				return `[{"metric":{"__name__":"probe_success","job":"blackbox","instance":"https://shop.example"},"value":[` + ts(0) + `,"0"]},
				 {"metric":{"__name__":"probe_success","job":"blackbox","instance":"https://old.example"},"value":[` + ts(0) + `,"0"]},
				 {"metric":{"__name__":"probe_success","instance":"https://nojob.example"},"value":[` + ts(0) + `,"0"]}]`
			},
			matrix: func(q string) string {
				if !strings.Contains(q, "probe_success offset 1m == 1") {
					return ""
				}
				return `[{"metric":{"__name__":"probe_success","job":"blackbox","instance":"https://shop.example"},"values":[[` + ts(-5*time.Hour) + `,"0"],[` + ts(-2*time.Hour) + `,"0"]]}]`
			}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		want := []analyze.ProbeHistory{
			{Job: "blackbox", Instance: "https://shop.example", Since: historyEnd.Add(-2 * time.Hour)},
			{Job: "blackbox", Instance: "https://old.example"},
		}
		if !res.OK || !slices.Equal(res.History.Probes, want) {
			t.Errorf("probes %+v, want %+v (errors %v)", res.History.Probes, want, res.Errors)
		}
		i := slices.IndexFunc(f.queries, func(q url.Values) bool { return strings.Contains(q.Get("query"), "probe_success") })
		if got := f.queries[max(i, 0)].Get("query"); got != "probe_success == 0 and probe_success offset 1m == 1 or probe_success == 0 unless probe_success offset 1m" {
			t.Errorf("range query %s", got)
		}
	})
}

// TestProbesLive has a real Prometheus 3 scrape a real blackbox exporter probing a server that
// answers and an address that refuses connections: the history reads the refused probe as
// failing since Prometheus started, and probes/failing reports it alone, also from a snapshot.
func TestProbesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	blackbox := servers.StartBlackboxExporter(t, servers.FindBlackboxExporter(t))
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(healthy.Close)
	refused := "http://" + servers.FreeAddress(t) + "/"
	started := time.Now().UTC()
	prom := servers.StartPrometheusWithHistory(t, bins.Prometheus3, servers.HistoryPrometheusOptions{
		Probes: map[string][]string{"blackbox": {healthy.URL, refused}}, Blackbox: blackbox,
	})
	// The history ends at the last whole step (a minute): wait for one past the first probes.
	time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + time.Second)))

	rec, err := audit.Record(t.Context(), audit.Request{
		Servers: []collect.FleetSource{{Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: prom.URL}}},
		Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 24 * time.Hour}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inv := rec.Collected.Inventory
	probes := inv.History.Probes
	if !inv.Has(analyze.PartHistory) || len(probes) != 1 || probes[0].Job != "blackbox" || probes[0].Instance != refused {
		t.Fatalf("failing probes %+v, want %s alone (errors %v)", probes, refused, inv.Sources[0].Errors)
	}
	if since := probes[0].Since; since.Before(started.Truncate(time.Minute)) || since.After(inv.History.End) {
		t.Errorf("failing since %s, want a step between %s and %s", since, started, inv.History.End)
	}
	probesFailing := func(inv *analyze.Inventory) []analyze.Finding {
		all := slices.DeleteFunc(checks.All(checks.Options{}), func(c checks.Check) bool { return c.Meta().ID != checks.ProbesFailingName })
		return checks.Run(inv, checks.Derive(inv, checks.Options{}), all, checks.Policy{}).Findings
	}
	// No alert is loaded: the job itself is reported as uncovered beside its failing probe.
	found := probesFailing(inv)
	if len(found) != 2 || found[1].Subject["job"] != "blackbox" || found[1].Details["kind"] != "uncovered" || found[1].Details["probes"] != "2" {
		t.Fatalf("findings %+v, want the failing probe and the uncovered job", found)
	}
	if found[0].Subject["instance"] != refused || found[0].Details["since"] == "" ||
		!strings.Contains(found[0].Message, `probe "`+refused+`" of job "blackbox" fails (probe_success 0) since `) {
		t.Fatalf("findings %+v", found)
	}

	if back := probesFailing(readBack(t, rec)); !reflect.DeepEqual(back, found) {
		t.Errorf("findings of the snapshot %+v, want %+v", back, found)
	}
}

// readBack writes the snapshot rec recorded and reads its inventory back, as audit --from does.
func readBack(t *testing.T, rec audit.Recording) *analyze.Inventory {
	t.Helper()
	dir := t.TempDir()
	if err := snapshot.Write(dir, rec.Manifest); err != nil {
		t.Fatal(err)
	}
	offline, err := collect.Run(t.Context(), collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir})
	if err != nil {
		t.Fatal(err)
	}
	return offline.Inventory
}

package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

func TestCounterBatches(t *testing.T) {
	end := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	week := promv1.Range{Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute} // 10,081 points
	hourly := promv1.Range{Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Hour} // 169 points
	names := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("c%05d_total", i)
		}
		return out
	}
	sizes := func(batches [][]string) []int {
		var out []int
		for _, b := range batches {
			out = append(out, len(b))
		}
		return out
	}
	t.Run("Names each exposed by one job are cut at counterBatchNames, in order.", func(t *testing.T) {
		all := names(2*counterBatchNames + 1)
		got := counterBatches(all, nil, hourly)
		if !slices.Equal(sizes(got), []int{counterBatchNames, counterBatchNames, 1}) || !slices.Equal(slices.Concat(got...), all) {
			t.Errorf("batches of %v names", sizes(got))
		}
	})
	t.Run("At one-minute steps over a week, the jobs exposing the names bound a batch: 1,000,000 / 10,081 points is 99 jobs.", func(t *testing.T) {
		all := names(300)
		jobs := map[string]int{}
		for _, n := range all {
			jobs[n] = 2
		}
		if got := sizes(counterBatches(all, jobs, week)); !slices.Equal(got, []int{49, 49, 49, 49, 49, 49, 6}) {
			t.Errorf("batches of %v names", got)
		}
	})
	t.Run("A name whose jobs alone exceed the bound is a batch of its own.", func(t *testing.T) {
		jobs := map[string]int{"a_total": 1, "b_total": 10_000, "c_total": 1}
		got := counterBatches([]string{"a_total", "b_total", "c_total"}, jobs, hourly)
		if want := [][]string{{"a_total"}, {"b_total"}, {"c_total"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("batches %v, want %v", got, want)
		}
	})
	t.Run("No names, no batch.", func(t *testing.T) {
		if got := counterBatches(nil, nil, week); len(got) != 0 {
			t.Errorf("batches %v", got)
		}
	})
	t.Run("Every batch is one query that parses and names only its own names.", func(t *testing.T) {
		batches := counterBatches([]string{`a_total`, `b.c_total`}, nil, hourly)
		queries, err := counterHistoryQueries(batches, time.Hour)
		if err != nil || len(queries) != 1 {
			t.Fatalf("queries %v, %v", queries, err)
		}
		if _, err := analyze.ParseExpr(queries[0]); err != nil || !strings.Contains(queries[0], `a_total|b\\.c_total`) {
			t.Errorf("query %s: %v", queries[0], err)
		}
	})
}

func TestCounterQueriesLookNamesUpAsSets(t *testing.T) {
	var names []string
	for i := range counterBatchNames {
		names = append(names, fmt.Sprintf("app_%04d_total", i))
	}
	for _, c := range []struct {
		name  string
		build func([][]string, time.Duration) ([]string, error)
		// reads is how many selectors read each name.
		reads int
	}{
		{"coarse: a selector and its offset twin", counterHistoryQueries, 2},
		{"rises: one selector", counterRiseQueries, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			queries, err := c.build([][]string{names}, time.Minute)
			if err != nil || len(queries) != 1 {
				t.Fatalf("queries %d, %v", len(queries), err)
			}
			expr, err := analyze.ParseExpr(queries[0])
			if err != nil {
				t.Fatal(err)
			}
			// Every name is read by as many selectors as the form needs; each selector's
			// matcher is one Prometheus looks up as a set of names.
			seen := map[string]int{}
			selectors := 0
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				vs, ok := node.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				selectors++
				for _, m := range vs.LabelMatchers {
					if m.Name != model.MetricNameLabel {
						continue
					}
					set := m.SetMatches()
					if len(set) == 0 || len(set) > setMatchValues {
						t.Errorf("a selector's matcher holds %d names as a set, want 1 to %d", len(set), setMatchValues)
					}
					for _, name := range set {
						seen[name]++
					}
				}
				return nil
			})
			if want := c.reads * ((counterBatchNames + setMatchValues - 1) / setMatchValues); selectors != want {
				t.Errorf("%d selectors, want %d", selectors, want)
			}
			for _, name := range names {
				if seen[name] != c.reads {
					t.Fatalf("%s is read by %d selectors, want %d", name, seen[name], c.reads)
				}
			}
			if len(seen) != len(names) {
				t.Errorf("%d names read, want %d", len(seen), len(names))
			}
		})
	}
}

func TestRangeQueries(t *testing.T) {
	// A server answering each query after a while, failing the one named "bad" at once.
	var inFlight, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("query") == "bad" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)
			return
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"q":%q},"values":[[1,"1"]]}]}}`, r.FormValue("query"))
	}))
	t.Cleanup(srv.Close)
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := promv1.NewAPI(client)
	r := promv1.Range{Start: time.Unix(0, 0), End: time.Unix(60, 0), Step: time.Minute}

	t.Run("Every answer is handed over once, one at a time, with no more than jobMetricsParallel queries in flight.", func(t *testing.T) {
		queries := []string{"q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"}
		var got []string
		var handing atomic.Int32
		_, err := rangeQueries(context.Background(), a, queries, r, func(m model.Matrix) {
			if handing.Add(1) != 1 {
				t.Error("two answers handed over at once")
			}
			defer handing.Add(-1)
			time.Sleep(time.Millisecond)
			for _, s := range m {
				got = append(got, string(s.Metric["q"]))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Sort(got); !slices.Equal(got, queries) {
			t.Errorf("answers of %v, want %v", got, queries)
		}
		if m := most.Load(); m < 2 || m > jobMetricsParallel {
			t.Errorf("%d queries in flight at most, want 2 to %d", m, jobMetricsParallel)
		}
	})
	t.Run("The first failure is returned with its query's index, not the queries it cancelled.", func(t *testing.T) {
		queries := []string{"q0", "q1", "q2", "q3", "q4", "bad", "q6", "q7", "q8", "q9"}
		i, err := rangeQueries(context.Background(), a, queries, r, func(model.Matrix) {})
		if i != 5 || err == nil || !strings.Contains(err.Error(), "too many samples") {
			t.Errorf("query %d: %v", i, err)
		}
	})
}

package prometheus_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/heapsample"
)

// weekOfCounters serves a week of history in which every counter of the names a counter
// history query asks about rose at every step of the query (one job, "shop"; the coarse pass
// answers sums under the metric name, the others rises of 1 under the label metric), writing its
// answer as it goes so that the server holds none of it; every other range query, and every
// instant one, answers nothing.
func weekOfCounters(tb testing.TB) api.Client {
	names := regexp.MustCompile(`__name__=~"([^"]+)"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/status/flags":
			fmt.Fprint(w, `{"status":"success","data":{"storage.tsdb.retention.time":"15d"}}`)
			return
		case "/api/v1/query":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			return
		case "/api/v1/query_range":
		default:
			http.NotFound(w, r)
			return
		}
		// Every selector of the query: one per setMatchValues names.
		var asked []string
		for _, m := range names.FindAllStringSubmatch(r.FormValue("query"), -1) {
			asked = append(asked, strings.Split(m[1], "|")...)
		}
		// The coarse pass names each twice (a selector and its offset twin).
		asked = slices.Compact(slices.Sorted(slices.Values(asked)))
		if len(asked) == 0 || !strings.Contains(r.FormValue("query"), "sum by (job, __name__)") {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		}
		start, _ := strconv.ParseFloat(r.FormValue("start"), 64)
		end, _ := strconv.ParseFloat(r.FormValue("end"), 64)
		step, _ := strconv.ParseFloat(r.FormValue("step"), 64)
		rises := strings.HasPrefix(r.FormValue("query"), "idelta(")
		bw := bufio.NewWriter(w)
		defer bw.Flush()
		fmt.Fprint(bw, `{"status":"success","data":{"resultType":"matrix","result":[`)
		for i, name := range asked {
			if i > 0 {
				bw.WriteByte(',')
			}
			label := "__name__"
			if rises {
				label = "metric"
			}
			fmt.Fprintf(bw, `{"metric":{%q:%q,"job":"shop"},"values":[`, label, strings.ReplaceAll(name, `\\`, ``))
			for t := start; t <= end; t += step {
				if t > start {
					bw.WriteByte(',')
				}
				if rises {
					fmt.Fprintf(bw, `[%d,"1"]`, int64(t))
				} else {
					fmt.Fprintf(bw, `[%d,"%d"]`, int64(t), int64(t/60))
				}
			}
			bw.WriteString("]}")
		}
		bw.WriteString("]}}")
	}))
	tb.Cleanup(srv.Close)
	c, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkCounterHistoryWeek reads the history of n business counters that rose at every
// minute of a week (each read in the coarse and the recent pass: 169 + 61 points), and
// reports the peak heap of the reading (the test server writes its answers as it goes) and
// what the history holds after it.
func BenchmarkCounterHistoryWeek(b *testing.B) {
	for _, n := range []int{2_000, 20_000, 97_500} {
		b.Run(fmt.Sprintf("counters=%d", n), func(b *testing.B) {
			client := weekOfCounters(b)
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("shop_operation_%05d_total", i)
			}
			end := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
			var peak, held uint64
			for b.Loop() {
				runtime.GC()
				stop := heapsample.Peak()
				res := prometheus.CollectHistory(b.Context(), client, prometheus.HistoryOptions{End: end, Counters: names})
				peak = max(peak, stop())
				if !res.OK || len(res.History.Counters) != n {
					b.Fatalf("%d counters, errors %+v", len(res.History.Counters), res.Errors)
				}
				runtime.GC()
				held = heapsample.Objects()
				runtime.KeepAlive(res)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(held)/(1<<20), "heap-after-MiB")
		})
	}
}

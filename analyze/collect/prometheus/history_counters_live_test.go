package prometheus

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestCounterRiseQueriesLive asks real Prometheus 2 and 3 servers the counter rise query and
// checks its answer against the counters' sums read plainly: a point exactly at each step
// where a job's sum is higher than one step before, valued with the difference, under the
// label metric. The history has two instances of one job (one of them appearing later and
// resetting once), a pause, uneven rises, and a second job whose counter never moves; the
// query's names are split over two selectors.
func TestCounterRiseQueriesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	end := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	start := end.Add(-6 * time.Hour)
	var b strings.Builder
	b.WriteString("# TYPE orders counter\n")
	minutes := int(end.Sub(start) / time.Minute)
	for i := 0; i <= minutes; i++ {
		at := start.Add(time.Duration(i) * time.Minute).Unix()
		// a: rises by i%3 each minute (0 every third), pauses from 2h to 3h.
		a := 0
		for j := 1; j <= i; j++ {
			if j < 120 || j >= 180 {
				a += j % 3
			}
		}
		fmt.Fprintf(&b, "orders_total{job=\"shop\",instance=\"a\"} %d %d\n", a, at)
		// b: appears at 1h, resets to 0 at 4h and rises by 5 a minute.
		if i >= 60 {
			v := 5 * (i - 60)
			if i >= 240 {
				v = 5 * (i - 240)
			}
			fmt.Fprintf(&b, "orders_total{job=\"shop\",instance=\"b\"} %d %d\n", v, at)
		}
		fmt.Fprintf(&b, "orders_total{job=\"idle\",instance=\"c\"} 7 %d\n", at)
	}
	b.WriteString("# TYPE refunds counter\n")
	for i := 0; i <= minutes; i++ {
		fmt.Fprintf(&b, "refunds_total{job=\"shop\",instance=\"a\"} %d %d\n", i/10, start.Add(time.Duration(i)*time.Minute).Unix())
	}
	b.WriteString("# EOF\n")
	defer func(n int) { setMatchValues = n }(setMatchValues)
	setMatchValues = 1

	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name, func(t *testing.T) {
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{OpenMetrics: b.String()})
			client, err := api.NewClient(api.Config{Address: prom.URL})
			if err != nil {
				t.Fatal(err)
			}
			prom3 := promv1.NewAPI(client)
			r := promv1.Range{Start: start, End: end, Step: time.Minute}
			queries, err := counterRiseQueries([][]string{{"orders_total", "refunds_total"}}, r.Step)
			if err != nil || len(queries) != 1 {
				t.Fatalf("queries %q, %v", queries, err)
			}
			rises, err := queryMatrix(t.Context(), prom3, queries[0], r)
			if err != nil {
				t.Fatal(err)
			}
			sums, err := queryMatrix(t.Context(), prom3, `sum by (job, __name__) ({__name__=~"orders_total|refunds_total"})`, r)
			if err != nil {
				t.Fatal(err)
			}
			// What the rises must be, from the sums.
			want := map[counterKey]map[model.Time]model.SampleValue{}
			for _, s := range sums {
				k, _ := keyOf(s)
				want[k] = map[model.Time]model.SampleValue{}
				for i := 1; i < len(s.Values); i++ {
					if prev, cur := s.Values[i-1], s.Values[i]; cur.Timestamp.Sub(prev.Timestamp) == time.Minute && cur.Value > prev.Value {
						want[k][cur.Timestamp] = cur.Value - prev.Value
					}
				}
			}
			got := map[counterKey]map[model.Time]model.SampleValue{}
			for _, s := range rises {
				k, ok := riseKeyOf(s)
				if !ok || len(s.Metric) != 2 {
					t.Errorf("series %v: want the labels job and metric only", s.Metric)
					continue
				}
				got[k] = map[model.Time]model.SampleValue{}
				for _, v := range s.Values {
					got[k][v.Timestamp] = v.Value
				}
			}
			for _, k := range []counterKey{{"shop", "orders_total"}, {"shop", "refunds_total"}} {
				if len(want[k]) < 10 {
					t.Fatalf("%v rose at %d steps by its sums; the history is wrong", k, len(want[k]))
				}
			}
			if len(got) != 2 || len(want[counterKey{"idle", "orders_total"}]) != 0 {
				t.Errorf("the rise query answered %d counters, want the two of shop (idle never rose)", len(got))
			}
			for k, w := range want {
				if len(w) == 0 {
					continue
				}
				for at, v := range w {
					if got[k][at] != v {
						t.Errorf("%v at %s: rose %v by its sums, the rise query says %v", k, at.Time().UTC(), v, got[k][at])
					}
				}
				for at, v := range got[k] {
					if _, ok := w[at]; !ok {
						t.Errorf("%v at %s: the rise query says %v, its sums did not rise", k, at.Time().UTC(), v)
					}
				}
			}
		})
	}
}

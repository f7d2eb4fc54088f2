package prometheus

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// startsClient records the start and step of every range query made through it.
type startsClient struct {
	api.Client
	mu     sync.Mutex
	starts []time.Time
	steps  []time.Duration
}

func (c *startsClient) Do(ctx context.Context, r *http.Request) (*http.Response, []byte, error) {
	if strings.HasSuffix(r.URL.Path, "/query_range") && r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return nil, nil, err
		}
		form, _ := io.ReadAll(body)
		v, err := url.ParseQuery(string(form))
		if err != nil {
			return nil, nil, err
		}
		start, _ := strconv.ParseFloat(v.Get("start"), 64)
		step, _ := strconv.ParseFloat(v.Get("step"), 64)
		c.mu.Lock()
		c.starts = append(c.starts, time.Unix(int64(start), 0).UTC())
		c.steps = append(c.steps, time.Duration(step)*time.Second)
		c.mu.Unlock()
	}
	return c.Client.Do(ctx, r)
}

// TestHistoryFromDataStartLive reads the history of a server holding three days of a
// seven-day lookback, on real Prometheus 2 and 3 servers: Prometheus 3 says where its data
// starts and is not asked about the four days before (no range query starts a step or more
// before its data); Prometheus 2 cannot say and is asked about the week. Either way, the
// history is the one read over the whole lookback: a counter flat for 49 hours, two steady
// ones read by selectors of their own, a job gone 26 hours ago.
func TestHistoryFromDataStartLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	end := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	start := end.Add(-3 * 24 * time.Hour)
	var b strings.Builder
	b.WriteString("# TYPE up gauge\n")
	for i := 0; !start.Add(time.Duration(i) * time.Minute).After(end); i++ {
		at := start.Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&b, "up{job=\"shop\",instance=\"a\"} 1 %d\n", at.Unix())
		if at.Before(end.Add(-26 * time.Hour)) {
			fmt.Fprintf(&b, "up{job=\"gone\",instance=\"g\"} 1 %d\n", at.Unix())
		}
	}
	b.WriteString("# TYPE orders counter\n")
	for i := 0; !start.Add(time.Duration(i) * time.Minute).After(end); i++ {
		at := start.Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&b, "orders_total{job=\"shop\",instance=\"a\"} %d %d\n", min(at.Sub(start), end.Add(-49*time.Hour).Sub(start))/time.Minute, at.Unix())
	}
	// Two more counters of the job, steady: with one name a selector, the counter passes join
	// three selectors' comparisons of one job with or.
	for _, name := range []string{"payments", "refunds"} {
		fmt.Fprintf(&b, "# TYPE %s counter\n", name)
		for i := 0; !start.Add(time.Duration(i) * time.Minute).After(end); i++ {
			fmt.Fprintf(&b, "%s_total{job=\"shop\",instance=\"a\"} %d %d\n", name, i, start.Add(time.Duration(i)*time.Minute).Unix())
		}
	}
	defer func(n int) { setMatchValues = n }(setMatchValues)
	setMatchValues = 1
	b.WriteString("# EOF\n")

	for _, p := range []struct {
		name, binary string
		knows        bool
	}{{"prometheus3", bins.Prometheus3, true}, {"prometheus2", bins.Prometheus2, false}} {
		t.Run(p.name, func(t *testing.T) {
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{OpenMetrics: b.String()})
			client, err := api.NewClient(api.Config{Address: prom.URL})
			if err != nil {
				t.Fatal(err)
			}
			// The server's own start, both ways on Prometheus 3.
			lowest, selfOK := lowestTimestamp(t.Context(), client)
			oldest, blocksOK := oldestBlockOrHead(t.Context(), promv1.NewAPI(client))
			if selfOK != p.knows || blocksOK != p.knows || p.knows && (lowest != start.UnixMilli() || oldest != start.UnixMilli()) {
				t.Errorf("lowest timestamp %d (%v), oldest block or head %d (%v); the data starts at %d", lowest, selfOK, oldest, blocksOK, start.UnixMilli())
			}
			// Read with what the configuration says of the storage, and without it.
			read := func(storage *analyze.Storage) (HistoryResult, *startsClient) {
				c := &startsClient{Client: client}
				o := HistoryOptions{Lookback: 7 * 24 * time.Hour, End: end, Counters: []string{"orders_total", "payments_total", "refunds_total"}, Storage: storage}
				return CollectHistory(t.Context(), c, o), c
			}
			clipped, asked := read(&analyze.Storage{})
			whole, _ := read(nil)
			if !clipped.OK || !reflect.DeepEqual(clipped, whole) {
				t.Fatalf("read from the data's start: %+v\nread over the lookback: %+v", clipped, whole)
			}
			h := clipped.History
			if len(h.Counters) != 3 || h.Counters[0].Metric != "orders_total" || !h.Counters[0].LastIncrease.Equal(end.Add(-49*time.Hour)) ||
				h.Counters[1].Metric != "payments_total" || !h.Counters[1].LastIncrease.Equal(end) ||
				h.Counters[2].Metric != "refunds_total" || !h.Counters[2].LastIncrease.Equal(end) ||
				len(h.Jobs) != 1 || h.Jobs[0].Name != "gone" {
				t.Errorf("counters %+v, jobs %+v: want orders_total flat for 49h, payments_total and refunds_total steady, and the gone job", h.Counters, h.Jobs)
			}
			if len(asked.starts) == 0 {
				t.Fatal("no range query")
			}
			early := 0
			for i, s := range asked.starts {
				if start.Sub(s) >= asked.steps[i] {
					early++
				}
			}
			if (early == 0) != p.knows {
				t.Errorf("%d of %d range queries start a step or more before the data does (%v); starts %v", early, len(asked.starts), start, asked.starts)
			}
		})
	}
}

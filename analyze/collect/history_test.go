package collect_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestHistoryOfAFailingServer(t *testing.T) {
	// fire answers every request with a server error, and counts the history's range queries.
	fire := func(t *testing.T) (string, *atomic.Int32) {
		var ranges atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/query_range") {
				ranges.Add(1)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"status":"error","errorType":"internal","error":"storage is on fire"}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL, &ranges
	}
	noHistory := func(t *testing.T, inv *analyze.Inventory, ranges *atomic.Int32) {
		t.Helper()
		src := inv.Sources[0]
		if inv.Has(analyze.PartHistory) || ranges.Load() != 0 ||
			slices.ContainsFunc(src.Errors, func(e analyze.SourceError) bool { return e.Part == analyze.PartHistory }) || len(src.Notes) != 0 {
			t.Errorf("%d range queries; source %+v", ranges.Load(), src)
		}
	}

	t.Run("A server every part of which failed is not asked its history, whose error would only repeat theirs.", func(t *testing.T) {
		url, ranges := fire(t)
		res, err := collect.Run(t.Context(), collect.Options{Prometheus: &httpconfig.Options{URL: url}, History: &prometheus.HistoryOptions{}})
		if err != nil {
			t.Fatal(err)
		}
		noHistory(t, res.Inventory, ranges)
		if res.History != nil {
			t.Errorf("history recorded for the snapshot: %+v", res.History)
		}
	})

	t.Run("Nor is a failing member of a fleet.", func(t *testing.T) {
		url, ranges := fire(t)
		var members []collect.Member
		err := collect.RunFleet(t.Context(), collect.FleetOptions{
			Sources: []collect.FleetSource{{Name: "eu", Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: url}}},
			History: &prometheus.HistoryOptions{},
		}, func(m collect.Member) { members = append(members, m) })
		if err != nil || len(members) != 1 {
			t.Fatalf("%d members, %v", len(members), err)
		}
		noHistory(t, members[0].Inventory, ranges)
	})

	t.Run("A ruler of a fleet, which scrapes nothing, is not asked its history.", func(t *testing.T) {
		var ranges atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/query_range"):
				ranges.Add(1)
			case r.URL.Path == "/api/v1/rules":
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"status":"success","data":{"groups":[]}}`))
				return
			}
			http.NotFound(w, r)
		}))
		t.Cleanup(srv.Close)
		err := collect.RunFleet(t.Context(), collect.FleetOptions{
			Sources: []collect.FleetSource{{Name: "ruler", Kind: collect.KindPrometheus, Role: collect.RoleRuler, HTTP: httpconfig.Options{URL: srv.URL}}},
			History: &prometheus.HistoryOptions{},
		}, func(collect.Member) {})
		if err != nil || ranges.Load() != 0 {
			t.Errorf("%d range queries of the ruler, %v", ranges.Load(), err)
		}
	})
}

// TestHistoryStartsWhereTheDataDoes reads the history of a server whose data starts half an
// hour ago, through the single-server and the fleet paths: the collection's reading of its
// configuration (no remote_read) reaches the history, which asks no range query about the
// week before its data.
func TestHistoryStartsWhereTheDataDoes(t *testing.T) {
	now := time.Now().UTC()
	dataStart := now.Add(-30 * time.Minute)
	// young answers as a Prometheus whose data starts at dataStart, with nothing in it, and
	// records the start and step of every range query.
	young := func(t *testing.T, yaml string) (string, func() []string) {
		var mu sync.Mutex
		var early []string
		asked := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Path {
			case "/api/v1/status/config":
				body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]string{"yaml": yaml}})
				w.Write(body)
			case "/api/v1/status/self_metrics":
				fmt.Fprintf(w, `{"status":"success","data":[{"name":"prometheus_tsdb_lowest_timestamp","type":"GAUGE","metric":[{"gauge":{"value":%d}}]}]}`, dataStart.UnixMilli())
			case "/api/v1/query_range":
				start, _ := strconv.ParseFloat(r.FormValue("start"), 64)
				step, _ := strconv.ParseFloat(r.FormValue("step"), 64)
				mu.Lock()
				asked++
				if dataStart.Sub(time.Unix(int64(start), 0)) >= time.Duration(step)*time.Second {
					early = append(early, r.FormValue("query"))
				}
				mu.Unlock()
				w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
			case "/api/v1/query":
				w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(srv.Close)
		return srv.URL, func() []string {
			mu.Lock()
			defer mu.Unlock()
			if asked == 0 {
				t.Fatal("no range query")
			}
			return early
		}
	}
	const local = "global:\n  scrape_interval: 1m\nscrape_configs: []\n"
	t.Run("One server.", func(t *testing.T) {
		url, early := young(t, local)
		if _, err := collect.Run(t.Context(), collect.Options{Prometheus: &httpconfig.Options{URL: url}, History: &prometheus.HistoryOptions{}}); err != nil {
			t.Fatal(err)
		}
		if e := early(); len(e) != 0 {
			t.Errorf("range queries starting before the data: %q", e)
		}
	})
	for _, name := range []string{"", "eu"} {
		t.Run(fmt.Sprintf("A fleet member named %q.", name), func(t *testing.T) {
			url, early := young(t, local)
			err := collect.RunFleet(t.Context(), collect.FleetOptions{
				Sources: []collect.FleetSource{{Name: name, Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: url}}},
				History: &prometheus.HistoryOptions{},
			}, func(collect.Member) {})
			if err != nil {
				t.Fatal(err)
			}
			if e := early(); len(e) != 0 {
				t.Errorf("range queries starting before the data: %q", e)
			}
		})
	}
	t.Run("A server that reads remote storage too is asked about the whole lookback.", func(t *testing.T) {
		url, early := young(t, local+"remote_read:\n- url: http://lts:9201/read\n")
		if _, err := collect.Run(t.Context(), collect.Options{Prometheus: &httpconfig.Options{URL: url}, History: &prometheus.HistoryOptions{}}); err != nil {
			t.Fatal(err)
		}
		if e := early(); len(e) == 0 {
			t.Error("no range query reads the week before the data")
		}
	})
}

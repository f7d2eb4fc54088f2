package collect_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

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

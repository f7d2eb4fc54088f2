package collect_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestFleetHistoryOfThanos(t *testing.T) {
	t.Run("A Thanos source's history is not read, its source says why, and the snapshot records the note.", func(t *testing.T) {
		var mu sync.Mutex
		var ranges int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/query_range") {
				mu.Lock()
				ranges++
				mu.Unlock()
			}
			http.NotFound(w, r)
		}))
		t.Cleanup(srv.Close)
		var recorded []*prometheus.HistoryResult
		o := collect.FleetOptions{
			Sources: []collect.FleetSource{{Name: "global", Kind: collect.KindThanos, HTTP: httpconfig.Options{URL: srv.URL, Timeout: 5 * time.Second}}},
			History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour},
			RecordHistory: func(_ collect.FleetSource, h *prometheus.HistoryResult) {
				mu.Lock()
				defer mu.Unlock()
				recorded = append(recorded, h)
			},
		}
		var sources [][]string
		err := collect.RunFleet(context.Background(), o, func(m collect.Member) {
			if m.Inventory.Has(analyze.PartHistory) {
				t.Errorf("member %v holds the history part", m.Scope)
			}
			sources = append(sources, m.Inventory.Sources[0].Notes)
		})
		if err != nil {
			t.Fatal(err)
		}
		note := "history: not read of a Thanos source, whose members it would not tell apart"
		if len(sources) == 0 || !slices.Contains(sources[0], note) || ranges != 0 {
			t.Errorf("notes %q after %d range queries, want %q and none", sources, ranges, note)
		}
		if len(recorded) != 1 || recorded[0].OK || !slices.Equal(recorded[0].Notes, []string{note}) {
			t.Errorf("recorded %+v", recorded)
		}
	})
}

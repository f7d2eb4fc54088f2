package audit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/generate"
)

// flappingServer answers every range query with, for each alert of the batch, a series
// present in twenty stretches of three hours: more episodes than the default allows, whatever
// the `for`. It counts the range queries; failing makes them fail.
type flappingServer struct {
	mu      sync.Mutex
	queries []string
	failing bool
}

func (f *flappingServer) start(t *testing.T, start time.Time) httpconfig.Options {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		switch r.URL.Path {
		case "/api/v1/query":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		case "/api/v1/query_range":
			q := r.Form.Get("query")
			f.mu.Lock()
			f.queries = append(f.queries, q)
			f.mu.Unlock()
			if f.failing {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"query timed out"}`)
				return
			}
			var values []string
			for stretch := range 20 {
				for m := range 180 {
					at := start.Add(time.Duration(stretch*480+m) * time.Minute)
					values = append(values, fmt.Sprintf(`[%d,"1"]`, at.Unix()))
				}
			}
			var series []string
			for i := range strings.Count(q, "label_replace") {
				series = append(series, fmt.Sprintf(`{"metric":{"blindspot_backtest_alert":"%d"},"values":[%s]}`, i, strings.Join(values, ",")))
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, strings.Join(series, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return httpconfig.Options{URL: srv.URL}
}

func TestBacktestBounds(t *testing.T) {
	end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	inv := &analyze.Inventory{Parts: []analyze.Part{analyze.PartHistory}, History: analyze.History{
		Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute,
	}}
	findings := []analyze.Finding{analyze.NewFinding(checks.AlertsMissingUpName, analyze.Critical, map[string]string{"job": "shop"}, "no up alert", nil)}

	t.Run("An alert that fires too often whatever its for is tuned three times, only the tuned alerts evaluated again each time, then left out as too noisy.", func(t *testing.T) {
		f := &flappingServer{}
		o, tested, notes, err := backtest(t.Context(), f.start(t, inv.History.Start), inv, findings, nil, generate.Options{})
		if err != nil || len(notes) != 0 {
			t.Fatalf("notes %q, error %v", notes, err)
		}
		if len(f.queries) != 4 || strings.Count(f.queries[0], "label_replace") != 1 {
			t.Errorf("%d range queries, want 4 (the plan, then three tunings): %q", len(f.queries), f.queries)
		}
		for i, want := range []string{`up{job="shop"} == 0`} {
			if !strings.Contains(f.queries[i], want) {
				t.Errorf("query %d: %s", i, f.queries[i])
			}
		}
		want := []Backtested{{Alert: "ShopTargetDown", Noisy: true, Result: generate.BacktestResult{Episodes: 20, Firing: 20 * (180 - 40) * time.Minute}}}
		if len(tested) != 1 || tested[0] != want[0] {
			t.Errorf("backtested %+v, want %+v", tested, want)
		}
		if _, tuned := o.Backtest.Tuning["ShopTargetDown"]; tuned || o.Backtest.Noisy["ShopTargetDown"].Episodes != 20 {
			t.Errorf("options %+v", o.Backtest)
		}
	})
	t.Run("A server that cannot answer leaves the alerts untested, with a note, and generation goes on.", func(t *testing.T) {
		f := &flappingServer{failing: true}
		o, tested, notes, err := backtest(t.Context(), f.start(t, inv.History.Start), inv, findings, nil, generate.Options{})
		if err != nil || tested != nil || len(notes) != 1 || !strings.HasPrefix(notes[0], "the generated alerts were not backtested: backtesting ShopTargetDown: ") {
			t.Errorf("tested %+v, notes %q, error %v", tested, notes, err)
		}
		if o.Backtest == nil || o.Backtest.Lookback != 0 || len(o.Backtest.Noisy) != 0 {
			t.Errorf("options %+v", o.Backtest)
		}
	})
}

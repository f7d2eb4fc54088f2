package prometheus_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// joinRules are rules as /api/v1/rules documents them: joins on instance with node_uname_info
// and app_build_info, an or (which needs no match) with node_load1, and a join with a name
// the server does not have.
func joinRules(t *testing.T) http.HandlerFunc {
	type rule struct {
		Name   string `json:"name"`
		Query  string `json:"query"`
		Health string `json:"health"`
		Type   string `json:"type"`
	}
	return success(t, map[string]any{"groups": []map[string]any{{
		"name": "joins", "file": "/etc/prometheus/joins.yml", "interval": 30,
		"rules": []rule{
			{Name: "InstanceDown", Query: `(up == 0) * on(instance) group_left(nodename) node_uname_info`, Health: "ok", Type: "alerting"},
			{Name: "OrdersStopped", Query: `rate(orders_total[10m]) == 0 and on(instance) app_build_info`, Health: "ok", Type: "alerting"},
			{Name: "Loaded", Query: `up == 0 or node_load1 > 10`, Health: "ok", Type: "alerting"},
			{Name: "instance:boot:up", Query: `up * on(instance) node_boot_time_seconds`, Health: "ok", Type: "recording"},
		},
	}}})
}

func TestJoinedMetrics(t *testing.T) {
	t.Parallel()

	t.Run("Metrics the rules join with are asked about in a query of their own, recorded in a snapshot and replayed, and a snapshot without it still replays.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{
			"node_uname_info": {"node"}, "node_load1": {"node"}, "app_build_info": {"shop"}, "orders_total": {"shop"},
		}}
		s.serve(fake, nil)
		fake.set(apiPath[analyze.PartRules], joinRules(t))
		o := options(fake.start(t))
		live, rec := collectLive(t, o)

		want := map[string][]string{"node": {"node_uname_info"}, "shop": {"app_build_info", "orders_total"}}
		if !maps.EqualFunc(live.JobMetrics, want, slices.Equal) || !inv0OK(live) {
			t.Errorf("job metrics %v, want %v; errors %+v", live.JobMetrics, want, live.Sources[0].Errors)
		}
		var joinQuery string
		for _, q := range s.queries {
			m, err := batchMatcher(q)
			if err != nil {
				t.Fatal(err)
			}
			if m.Matches("node_uname_info") {
				joinQuery = q
				if !m.Matches("app_build_info") || m.Matches("node_load1") || m.Matches("orders_total") || m.Matches("up") || m.Matches("node_boot_time_seconds") {
					t.Errorf("the join query asks about other names: %s", q)
				}
			}
		}
		if len(s.queries) != 2 || joinQuery == "" {
			t.Fatalf("queries %q, want the candidates' and the joins'", s.queries)
		}

		// A name asked about for a join is no business metric, and shop's counter is
		// covered by the alert joined with a metric shop exposes.
		var business []string
		for _, bm := range coverage.Analyze(live, coverage.Options{}).Business("shop") {
			business = append(business, bm.Metric)
			for _, r := range bm.CoveredBy {
				business = append(business, r.Name)
			}
		}
		if !slices.Equal(business, []string{"orders_total", "OrdersStopped"}) {
			t.Errorf("shop's business metrics and alerts %q", business)
		}

		// A snapshot holds the join query and replays it.
		m := manifestOf(o, rec)
		recorded := 0
		for _, r := range rec.Responses() {
			if r.Query == joinQuery {
				recorded++
			}
		}
		if recorded != 1 {
			t.Errorf("the join query is recorded %d times, want once", recorded)
		}
		if offline := replay(t, writeRead(t, m)); !maps.EqualFunc(offline.JobMetrics, want, slices.Equal) || !inv0OK(offline) {
			t.Errorf("replayed job metrics %v, errors %+v", offline.JobMetrics, offline.Sources[0].Errors)
		}

		// A snapshot recorded before the join query existed replays the rest.
		offline := replayWithout(t, rec, func(r prometheus.Response) bool { return r.Query == joinQuery })
		if !inv0OK(offline) || !maps.EqualFunc(offline.JobMetrics, map[string][]string{"shop": {"orders_total"}}, slices.Equal) {
			t.Errorf("replayed without the join query: job metrics %v, errors %+v", offline.JobMetrics, offline.Sources[0].Errors)
		}
	})

	t.Run("A failed join query is an error for job_metrics, with the server's message.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"node_uname_info": {"node"}, "orders_total": {"shop"}}}
		s.serve(fake, nil)
		fake.set(apiPath[analyze.PartRules], joinRules(t))
		fake.set(queryPath, func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err == nil && strings.Contains(r.Form.Get("query"), "node_uname_info") {
				apiError(t, http.StatusServiceUnavailable, "unavailable", "too many queries")(w, r)
				return
			}
			s.ServeHTTP(w, r)
		})
		inv, _ := collectLive(t, options(fake.start(t)))
		wantOnlyPartError(t, inv, analyze.PartJobMetrics, "too many queries")
	})

	t.Run("Without readable rules, job_metrics asks about no join and is still read.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"node_uname_info": {"node"}, "orders_total": {"shop"}}}
		s.serve(fake, nil)
		fake.set(apiPath[analyze.PartRules], apiError(t, http.StatusInternalServerError, "internal", "rules failed"))
		inv, _ := collectLive(t, options(fake.start(t)))
		errs := partErrors(inv.Sources[0])
		if len(errs) != 1 || errs[analyze.PartRules] == "" || s.count() != 1 {
			t.Errorf("errors %+v after %d queries, want only the rules' and one query", inv.Sources[0].Errors, s.count())
		}
	})
}

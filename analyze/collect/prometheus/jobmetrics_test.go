package prometheus_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/rulesets"
)

const queryPath = "/api/v1/query"

// metadataEntry is one element of /api/v1/metadata's lists, as documented.
type metadataEntry struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// seriesServer is a fake server's TSDB reduced to what job_metrics asks: which job carries
// which metric name. It answers /api/v1/query the way Prometheus does, after checking that
// the query is the batched group by blindspot promises.
type seriesServer struct {
	t      *testing.T
	series map[string][]string // metric name → jobs

	mu      sync.Mutex
	queries []string
	methods []string
}

func (s *seriesServer) names() []string { return slices.Sorted(maps.Keys(s.series)) }

func (s *seriesServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.t.Errorf("query form: %v", err)
	}
	q := r.Form.Get("query")
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.methods = append(s.methods, r.Method)
	s.mu.Unlock()
	m, err := batchMatcher(q)
	if err != nil {
		s.t.Error(err)
		apiError(s.t, http.StatusBadRequest, "bad_data", err.Error())(w, r)
		return
	}
	// The documented vector result: one sample per group.
	type sample struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	result := []sample{}
	for _, name := range s.names() {
		if !m.Matches(name) {
			continue
		}
		for _, job := range s.series[name] {
			result = append(result, sample{Metric: map[string]string{"__name__": name, "job": job}, Value: [2]any{1764127693.123, "1"}})
		}
	}
	success(s.t, map[string]any{"resultType": "vector", "result": result})(w, r)
}

// batchMatcher checks that q is `group by (job, __name__) ({__name__=~"…"})` and returns its
// name matcher.
func batchMatcher(q string) (*labels.Matcher, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return nil, fmt.Errorf("query %q does not parse: %w", q, err)
	}
	agg, ok := expr.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.GROUP || agg.Without || !slices.Equal(agg.Grouping, []string{"job", "__name__"}) {
		return nil, fmt.Errorf("query %q is not group by (job, __name__)", q)
	}
	vs, ok := agg.Expr.(*parser.VectorSelector)
	if !ok || vs.Name != "" || len(vs.LabelMatchers) != 1 || vs.LabelMatchers[0].Name != "__name__" || vs.LabelMatchers[0].Type != labels.MatchRegexp {
		return nil, fmt.Errorf("query %q does not select by one __name__ regexp", q)
	}
	return vs.LabelMatchers[0], nil
}

func (s *seriesServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queries)
}

// serve puts the series' names, the given metadata and the query endpoint on a fake server.
func (s *seriesServer) serve(fake *fakePrometheus, metadata map[string][]metadataEntry) {
	fake.set(apiPath[analyze.PartMetricNames], success(s.t, s.names()))
	fake.set(apiPath[analyze.PartMetadata], success(s.t, metadata))
	fake.set(queryPath, s.ServeHTTP)
}

// largeServer has 1,000 candidate business metrics, some recognised by metadata and some by
// their names, next to names that must not be queried; several names hold regexp
// metacharacters that would match other names if they were not quoted.
func largeServer(t *testing.T) (*seriesServer, map[string][]metadataEntry, map[string][]string) {
	s := &seriesServer{t: t, series: map[string][]string{}}
	metadata := map[string][]metadataEntry{}
	want := map[string][]string{}
	add := func(name string, candidate bool, jobs ...string) {
		s.series[name] = jobs
		if candidate {
			for _, j := range jobs {
				want[j] = append(want[j], name)
			}
		}
	}
	typed := func(name, typ string) { metadata[name] = []metadataEntry{{Type: typ}} }

	// Candidates: 991 _total names without metadata, spread over 7 jobs …
	for i := range 991 {
		add(fmt.Sprintf("service_events_%04d_total", i), true, fmt.Sprintf("job-%d", i%7))
	}
	// … a counter without the suffix, an OpenMetrics counter family, a pushed untyped
	// counter, a last-success gauge, and UTF-8 names with regexp metacharacters.
	add("orders_processed", true, "shop")
	typed("orders_processed", "counter")
	add("payments_total", true, "shop", "shop-canary")
	typed("payments", "counter")
	add("refunds_total", true, "shop")
	typed("refunds_total", "unknown")
	add("billing_last_success_timestamp_seconds", true, "billing")
	typed("billing_last_success_timestamp_seconds", "gauge")
	add("orders.v2_total", true, "shop")
	add("a|b_total", true, "shop")
	add("price(eur)_total", true, "shop")
	add("x.*_total", true, "shop")

	// Not candidates: what the quoted names above would match unquoted, gauges, runtime
	// and exporter internals, and a series without a job label.
	add("ordersXv2_total", false, "shop")
	typed("ordersXv2_total", "gauge")
	add("a", false, "shop")
	add("b_total", false, "shop")
	typed("b_total", "gauge")
	add("x.y_total", false, "shop")
	typed("x.y_total", "gauge")
	add("queue_length", false, "shop")
	typed("queue_length", "gauge")
	add("go_gc_cycles_total_gc_cycles_total", false, "shop")
	add("process_cpu_seconds_total", false, "shop")
	typed("process_cpu_seconds_total", "counter")
	add("node_network_receive_bytes_total", false, "node")
	add("federated_orders_total", true) // the 1,000th candidate, which no series with a job carries

	for job := range want {
		slices.Sort(want[job])
	}
	return s, metadata, want
}

func TestJobMetrics(t *testing.T) {
	t.Parallel()

	t.Run(fmt.Sprintf("A thousand candidate names are asked about in ceil(1000/%d) batched queries, metacharacters quoted.", prometheus.JobMetricsBatch), func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s, metadata, want := largeServer(t)
		s.serve(fake, metadata)

		inv, _ := collectLive(t, options(fake.start(t)))
		if errs := inv.Sources[0].Errors; len(errs) != 0 {
			t.Fatalf("errors %+v", errs)
		}
		wantQueries := (1000 + prometheus.JobMetricsBatch - 1) / prometheus.JobMetricsBatch
		if n := s.count(); n != wantQueries {
			t.Errorf("%d queries, want %d", n, wantQueries)
		}
		if !inv.Has(analyze.PartJobMetrics) {
			t.Errorf("parts %v lack job_metrics", inv.Parts)
		}
		for _, job := range slices.Sorted(maps.Keys(want)) {
			got := inv.JobMetrics[job]
			extra := slices.DeleteFunc(slices.Clone(got), func(m string) bool { return slices.Contains(want[job], m) })
			missing := slices.DeleteFunc(slices.Clone(want[job]), func(m string) bool { return slices.Contains(got, m) })
			if len(extra) > 0 || len(missing) > 0 {
				t.Errorf("%s: %d metrics, want %d; unexpected %q, missing %q", job, len(got), len(want[job]), extra, missing)
			}
		}
		for job, got := range inv.JobMetrics {
			if _, ok := want[job]; !ok {
				t.Errorf("unexpected job %s: %q", job, got)
			}
		}
		for _, q := range s.queries {
			if strings.Contains(q, "go_") || strings.Contains(q, "node_") || strings.Contains(q, "queue_length") {
				t.Errorf("query names an excluded metric or a gauge: %.200s…", q)
			}
		}
	})

	t.Run("Without candidate names no query is made and job_metrics is read, empty.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"up": {"node"}, "go_goroutines": {"node"}, "node_load1": {"node"}}}
		s.serve(fake, map[string][]metadataEntry{"go_goroutines": {{Type: "gauge"}}})

		inv, _ := collectLive(t, options(fake.start(t)))
		if n := fake.count(queryPath); n != 0 {
			t.Errorf("%d queries", n)
		}
		if !inv.Has(analyze.PartJobMetrics) || len(inv.JobMetrics) != 0 || len(inv.Sources[0].Errors) != 0 {
			t.Errorf("parts %v, job metrics %v, errors %+v", inv.Parts, inv.JobMetrics, inv.Sources[0].Errors)
		}
	})

	t.Run("Without metadata, _total names are taken for counters and job_metrics is still read.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"orders_total": {"shop"}, "queue_length": {"shop"}, "orders_processed": {"shop"}}}
		s.serve(fake, nil)
		fake.set(apiPath[analyze.PartMetadata], apiError(t, http.StatusServiceUnavailable, "unavailable", "metadata is warming up"))

		inv, _ := collectLive(t, options(fake.start(t)))
		if !inv.Has(analyze.PartJobMetrics) || !slices.Equal(inv.JobMetrics["shop"], []string{"orders_total"}) {
			t.Errorf("parts %v, job metrics %v", inv.Parts, inv.JobMetrics)
		}
		if errs := partErrors(inv.Sources[0]); len(errs) != 1 || errs[analyze.PartMetadata] == "" {
			t.Errorf("errors %+v, want one for metadata", inv.Sources[0].Errors)
		}
	})

	t.Run("A failed query is an error for job_metrics only, with the server's message.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s, metadata, _ := largeServer(t)
		s.serve(fake, metadata)
		fake.set(queryPath, apiError(t, http.StatusUnprocessableEntity, "execution", "query processing would load too many samples into memory"))

		inv, _ := collectLive(t, options(fake.start(t)))
		wantOnlyPartError(t, inv, analyze.PartJobMetrics, "too many samples")
		if inv.Has(analyze.PartJobMetrics) || len(inv.JobMetrics) != 0 || !inv.Has(analyze.PartMetricNames) {
			t.Errorf("parts %v, job metrics %d", inv.Parts, len(inv.JobMetrics))
		}
	})

	t.Run("Names that recognise a ruleset are asked about in a query of their own and land in job_metrics without becoming business metrics.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{
			"node_exporter_build_info": {"node"}, "node_load1": {"node"}, "probe_success": {"blackbox"},
			"push_time_seconds": {"billing"}, "orders_total": {"shop"},
		}}
		s.serve(fake, nil)

		inv, rec := collectLive(t, options(fake.start(t)))
		if n := s.count(); n != 2 {
			t.Errorf("%d queries, want 2", n)
		}
		want := map[string][]string{
			"billing": {"push_time_seconds"}, "blackbox": {"probe_success"}, "node": {"node_exporter_build_info"}, "shop": {"orders_total"},
		}
		if !maps.EqualFunc(inv.JobMetrics, want, slices.Equal) || !inv0OK(inv) {
			t.Errorf("job metrics %v, want %v; errors %+v", inv.JobMetrics, want, inv.Sources[0].Errors)
		}
		var signatureQuery string
		for _, q := range s.queries {
			m, err := batchMatcher(q)
			if err != nil {
				t.Fatal(err)
			}
			if m.Matches("node_exporter_build_info") {
				signatureQuery = q
				if !m.Matches("probe_success") || !m.Matches("push_time_seconds") || m.Matches("node_load1") || m.Matches("orders_total") {
					t.Errorf("the ruleset query asks about other names: %s", q)
				}
			}
		}
		if signatureQuery == "" {
			t.Fatalf("no query asks about node_exporter_build_info: %q", s.queries)
		}

		res := checks.Run(inv, nil, []checks.Check{checks.NewAlertsMissingBusiness(checks.Options{})}, checks.Policy{})
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.Subject["job"]+" "+f.Subject["metric"])
		}
		if !slices.Equal(got, []string{"shop orders_total"}) {
			t.Errorf("business findings %q, want only shop's counter", got)
		}

		// A snapshot recorded before the packs existed lacks the ruleset query: its
		// business metrics still replay, and no pack is recognised.
		offline := replayWithout(t, rec, func(r prometheus.Response) bool { return r.Query == signatureQuery })
		if !inv0OK(offline) || !maps.EqualFunc(offline.JobMetrics, map[string][]string{"shop": {"orders_total"}}, slices.Equal) {
			t.Errorf("replayed without the ruleset query: job metrics %v, errors %+v", offline.JobMetrics, offline.Sources[0].Errors)
		}
	})

	t.Run("A failed ruleset query is an error for job_metrics, with the server's message.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"probe_success": {"blackbox"}}}
		s.serve(fake, nil)
		fake.set(queryPath, apiError(t, http.StatusServiceUnavailable, "unavailable", "too many queries"))

		inv, _ := collectLive(t, options(fake.start(t)))
		wantOnlyPartError(t, inv, analyze.PartJobMetrics, "too many queries")
	})

	t.Run("Without metric names there is nothing to query, and job_metrics fails the same way.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s, metadata, _ := largeServer(t)
		s.serve(fake, metadata)
		fake.set(apiPath[analyze.PartMetricNames], apiError(t, http.StatusInternalServerError, "internal", "label values failed"))

		inv, _ := collectLive(t, options(fake.start(t)))
		errs := partErrors(inv.Sources[0])
		if len(errs) != 2 || errs[analyze.PartJobMetrics] != errs[analyze.PartMetricNames] || s.count() != 0 {
			t.Errorf("errors %+v after %d queries, want the same one for metric_names and job_metrics", inv.Sources[0].Errors, s.count())
		}
	})
}

func TestJobMetricsSnapshot(t *testing.T) {
	t.Parallel()

	// roundTrip collects from fake, writes a snapshot, reads it back and replays it.
	roundTrip := func(t *testing.T, fake *fakePrometheus) (live, offline *analyze.Inventory, m snapshot.Manifest) {
		t.Helper()
		o := options(fake.start(t))
		live, rec := collectLive(t, o)
		snap := writeRead(t, manifestOf(o, rec))
		return live, replay(t, snap), snap.Manifest
	}

	t.Run("Several queries are recorded, stored as numbered files with their expressions, and replayed to the same job metrics.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s, metadata, want := largeServer(t)
		s.serve(fake, metadata)
		live, offline, m := roundTrip(t, fake)

		var files []string
		for _, r := range m.Sources[0].Responses {
			if r.Part != analyze.PartJobMetrics {
				if r.Query != "" || r.File != path.Join("prometheus", string(r.Part)+".json") {
					t.Errorf("%s: query %q, file %q", r.Part, r.Query, r.File)
				}
				continue
			}
			if _, err := batchMatcher(r.Query); err != nil || r.Path != queryPath || r.Status != 200 {
				t.Errorf("job_metrics response %s %d: %v", r.Path, r.Status, err)
			}
			files = append(files, r.File)
		}
		if want := []string{"prometheus/job_metrics-1.json", "prometheus/job_metrics-2.json", "prometheus/job_metrics-3.json"}; !slices.Equal(files, want) {
			t.Errorf("files %q, want %q", files, want)
		}
		if !maps.EqualFunc(offline.JobMetrics, live.JobMetrics, slices.Equal) || !maps.EqualFunc(live.JobMetrics, want, slices.Equal) {
			t.Errorf("job metrics: live %d jobs, offline %d jobs, want %d", len(live.JobMetrics), len(offline.JobMetrics), len(want))
		}
		if !slices.Equal(offline.Parts, live.Parts) || !inv0OK(offline) {
			t.Errorf("parts %v / %v, offline errors %+v", live.Parts, offline.Parts, offline.Sources[0].Errors)
		}
	})

	t.Run("A server refusing POST is asked again with GET, and the snapshot keeps the answer.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"orders_total": {"shop"}}}
		s.serve(fake, nil)
		fake.set(queryPath, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			s.ServeHTTP(w, r)
		})
		live, offline, m := roundTrip(t, fake)

		if !slices.Equal(live.JobMetrics["shop"], []string{"orders_total"}) || !slices.Equal(offline.JobMetrics["shop"], []string{"orders_total"}) {
			t.Errorf("job metrics: live %v, offline %v", live.JobMetrics, offline.JobMetrics)
		}
		var n int
		for _, r := range m.Sources[0].Responses {
			if r.Part == analyze.PartJobMetrics {
				n++
				if r.Status != 200 {
					t.Errorf("recorded status %d, want the GET's 200", r.Status)
				}
			}
		}
		if n != 1 || !inv0OK(offline) {
			t.Errorf("%d job_metrics responses, offline errors %+v", n, offline.Sources[0].Errors)
		}
	})

	t.Run("A snapshot queried for other names answers not recorded for job_metrics only.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		s := &seriesServer{t: t, series: map[string][]string{"orders_total": {"shop"}}}
		s.serve(fake, nil)
		_, rec := collectLive(t, options(fake.start(t)))
		var responses []prometheus.Response
		for _, r := range rec.Responses() {
			if r.Part == analyze.PartJobMetrics {
				r.Query = `group by (job, __name__) ({__name__=~"other_total"})`
			}
			responses = append(responses, r)
		}
		inv := collectWith(t, prometheus.NewRecorder(prometheus.NewReplay(responses)), analyze.Source{Name: "prometheus", Kind: "snapshot"})
		wantOnlyPartError(t, inv, analyze.PartJobMetrics, "not recorded in the snapshot")
	})
}

func inv0OK(inv *analyze.Inventory) bool { return len(inv.Sources[0].Errors) == 0 }

// TestJobMetricsLive reads the integration scenario from real Prometheus 2 and 3: the
// Pushgateway carries the business metrics of the batch jobs billing and checkout.
func TestJobMetricsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	for name, binary := range map[string]string{"Prometheus 2": bins.Prometheus2, "Prometheus 3": bins.Prometheus3} {
		t.Run(name+" tells which job exposes which business metric and which ruleset signature, in two queries.", func(t *testing.T) {
			t.Parallel()
			s := servers.StartScenario(t, binary)
			start := time.Now()
			inv, rec := collectLive(t, options(s.PrometheusURL))
			t.Logf("%s: collected in %s", name, time.Since(start).Round(time.Millisecond))
			t.Logf("job metrics: %v", inv.JobMetrics)

			if errs := inv.Sources[0].Errors; len(errs) != 0 {
				t.Fatalf("errors %+v", errs)
			}
			want := map[string][]string{}
			for _, g := range s.Pushed {
				want[g.Job] = g.Metrics
			}
			// The names that recognise a ruleset (push_time_seconds of the pushed jobs,
			// node_exporter_build_info, prometheus_build_info) are queried on purpose.
			detect, err := rulesets.DetectNames()
			if err != nil {
				t.Fatal(err)
			}
			candidates := func(ms []string) []string {
				return slices.DeleteFunc(slices.Clone(ms), func(m string) bool { return slices.Contains(detect, m) })
			}
			for job, metrics := range want {
				if got := candidates(inv.JobMetrics[job]); !slices.Equal(got, metrics) {
					t.Errorf("%s: %q, want %q", job, got, metrics)
				}
			}
			for job, metrics := range inv.JobMetrics {
				if _, ok := want[job]; !ok && slices.ContainsFunc(candidates(metrics), isInternal) {
					t.Errorf("%s: an excluded internal is a candidate: %q", job, metrics)
				}
			}
			for job, name := range map[string]string{servers.JobNode: "node_exporter_build_info", servers.JobPrometheus: "prometheus_build_info"} {
				if !slices.Contains(inv.JobMetrics[job], name) {
					t.Errorf("%s: %q lacks %s, which recognises its ruleset", job, inv.JobMetrics[job], name)
				}
			}
			var queries int
			for _, r := range rec.Responses() {
				if r.Part == analyze.PartJobMetrics {
					queries++
				}
			}
			if queries != 2 {
				t.Errorf("%d job_metrics queries, want 2 (business candidates, ruleset signatures)", queries)
			}

			// What the checks make of it: billing's metrics are watched by no alert,
			// checkout's counter by OrdersStopped, and InvoicesStalled reads a misspelt name.
			res := checks.Run(inv, nil, []checks.Check{checks.NewAlertsMissingBusiness(checks.Options{}), checks.RulesUnknownMetric{}}, checks.Policy{})
			var got []string
			for _, f := range res.Findings {
				got = append(got, fmt.Sprintf("%s %s %s %s", f.Check, f.Subject["job"], f.Subject["rule"], f.Subject["metric"]))
			}
			slices.Sort(got)
			if want := []string{
				"alerts/missing-business billing  billing_last_success_timestamp_seconds",
				"alerts/missing-business billing  invoices_created_total",
				"rules/unknown-metric  " + servers.AlertInvoicesStalled + " " + servers.MisspeltMetric,
			}; !slices.Equal(got, want) || len(res.Skipped) != 0 {
				t.Errorf("findings\n%s\nwant\n%s\nskipped %+v", strings.Join(got, "\n"), strings.Join(want, "\n"), res.Skipped)
			}
		})
	}
}

func isInternal(metric string) bool {
	for _, p := range []string{"go_", "process_", "prometheus_", "node_", "pushgateway_", "promhttp_", "net_conntrack_"} {
		if strings.HasPrefix(metric, p) {
			return true
		}
	}
	return false
}

// BenchmarkLiveAudit measures a live audit (collection and every check) of a Prometheus 3
// scraping a thousand jobs, each exposing ten counters of its own, ten shared ones and thirty
// runtime internals, with two thousand rules loaded, against the time it takes merely to
// download the responses the collection reads, one after the other. It reports
// download-ms/op and the ratio audit/download (the goal is at most about 2):
//
//	go test -run XXX -bench LiveAudit ./analyze/collect/prometheus/
func BenchmarkLiveAudit(b *testing.B) {
	t := b
	const jobs, own, shared, internal, rules = 1000, 10, 10, 30, 2000
	bins := servers.Find(t)

	// One exporter serves every job, on a path of its own.
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		job := path.Base(r.URL.Path)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		for i := range shared {
			fmt.Fprintf(w, "# TYPE shared_operations_%02d_total counter\nshared_operations_%02d_total 42\n", i, i)
		}
		for i := range own {
			name := fmt.Sprintf("%s_events_%02d_total", strings.ReplaceAll(job, "-", "_"), i)
			fmt.Fprintf(w, "# TYPE %s counter\n%s 7\n", name, name)
		}
		for i := range internal {
			fmt.Fprintf(w, "# TYPE go_internal_%02d_total counter\ngo_internal_%02d_total 1\n", i, i)
		}
	}))
	t.Cleanup(exporter.Close)

	type staticConfig struct {
		Targets []string `yaml:"targets"`
	}
	type scrapeConfig struct {
		JobName       string         `yaml:"job_name"`
		MetricsPath   string         `yaml:"metrics_path"`
		StaticConfigs []staticConfig `yaml:"static_configs"`
	}
	dir := t.TempDir()
	cfg := struct {
		Global        map[string]string `yaml:"global"`
		RuleFiles     []string          `yaml:"rule_files"`
		ScrapeConfigs []scrapeConfig    `yaml:"scrape_configs"`
	}{
		Global:    map[string]string{"scrape_interval": "5s", "scrape_timeout": "5s", "evaluation_interval": "1m"},
		RuleFiles: []string{filepath.Join(dir, "rules.yml")},
	}
	// Rules as a large setup has them: per job an alert on one of its counters and a recording
	// rule of another, the alerts reading half of the recordings.
	type rule struct {
		Alert  string `yaml:"alert,omitempty"`
		Record string `yaml:"record,omitempty"`
		Expr   string `yaml:"expr"`
	}
	var ruleList []rule
	for i := range rules / 2 {
		job := strings.ReplaceAll(fmt.Sprintf("job-%04d", i%jobs), "-", "_")
		ruleList = append(ruleList,
			rule{Record: fmt.Sprintf("%s:events_01:rate5m", job), Expr: fmt.Sprintf("sum(rate(%s_events_01_total[5m]))", job)},
			rule{Alert: fmt.Sprintf("Stopped%d", i), Expr: fmt.Sprintf("rate(%s_events_00_total[10m]) == 0", job)})
	}
	ruleData, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "load", "rules": ruleList}}})
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(exporter.URL, "http://")
	for i := range jobs {
		job := fmt.Sprintf("job-%04d", i)
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, scrapeConfig{JobName: job, MetricsPath: "/metrics/" + job, StaticConfigs: []staticConfig{{Targets: []string{target}}}})
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startLoaded(t, bins.Prometheus3, dir, ruleData, data, "--scrape.discovery-reload-interval=100ms")

	// Wait until every job has been scraped once.
	client := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for queryOne(client, base, "count(group by (job) (shared_operations_00_total))") != float64(jobs) {
		if time.Now().After(deadline) {
			t.Fatalf("the %d jobs were not all scraped within two minutes", jobs)
		}
		time.Sleep(500 * time.Millisecond)
	}

	o := options(base)
	o.Timeout = 60 * time.Second
	var audit, collection time.Duration
	var rec *prometheus.Recorder
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		inv, r := collectLive(t, o)
		collection += time.Since(start)
		all := checks.All(checks.Options{})
		res := checks.Run(inv, checks.Derive(inv, checks.Options{}), all, checks.Policy{})
		audit += time.Since(start)
		rec = r
		if errs := inv.Sources[0].Errors; len(errs) != 0 {
			b.Fatalf("errors %+v", errs)
		}
		if len(inv.JobMetrics) != jobs || len(inv.JobMetrics["job-0042"]) != own+shared || len(inv.Rules()) != rules || len(res.Findings) == 0 {
			b.Fatalf("%d jobs with business metrics, job-0042 has %d, %d rules, %d findings", len(inv.JobMetrics), len(inv.JobMetrics["job-0042"]), len(inv.Rules()), len(res.Findings))
		}
	}
	b.StopTimer()

	// The same requests, one after the other, reading the bodies and nothing else.
	var download time.Duration
	var queries, bytes int
	for range b.N {
		start := time.Now()
		_, queries, bytes = downloadAll(b, client, base, rec)
		download += time.Since(start)
	}
	b.Logf("%d jobs, %d rules, %d job_metrics queries, %d KiB read", jobs, rules, queries, bytes>>10)
	b.ReportMetric(float64(download.Milliseconds())/float64(b.N), "download-ms/op")
	b.ReportMetric(float64(collection.Milliseconds())/float64(b.N), "collect-ms/op")
	b.ReportMetric(audit.Seconds()/download.Seconds(), "audit/download")
}

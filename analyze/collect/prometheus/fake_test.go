package prometheus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// demoDir is the snapshot recorded from a real Prometheus 3; its bodies are what the fake
// server answers unless a test says otherwise.
const demoDir = "../../../testdata/demo"

// apiPath is the documented path of each part; the demo snapshot stores its body as
// prometheus/<part>.json, and the one job_metrics query of the demo as job_metrics-1.json.
var apiPath = map[analyze.Part]string{
	analyze.PartTargets:     "/api/v1/targets",
	analyze.PartRules:       "/api/v1/rules",
	analyze.PartConfig:      "/api/v1/status/config",
	analyze.PartMetricNames: "/api/v1/label/__name__/values",
	analyze.PartMetadata:    "/api/v1/metadata",
	analyze.PartBuildInfo:   "/api/v1/status/buildinfo",
	analyze.PartJobMetrics:  "/api/v1/query",
	// Not in the demo, which was recorded before blindspot read it.
	analyze.PartAlertmanagers: "/api/v1/alertmanagers",
}

// fakePrometheus answers the API paths blindspot reads with recorded bodies, or with what a
// test put in place of one, and counts the requests per path.
type fakePrometheus struct {
	mu       sync.Mutex
	answers  map[string]http.HandlerFunc
	requests map[string]int
}

func newFakePrometheus(t *testing.T) *fakePrometheus {
	t.Helper()
	f := &fakePrometheus{answers: map[string]http.HandlerFunc{}, requests: map[string]int{}}
	for part, p := range apiPath {
		if part == analyze.PartAlertmanagers {
			continue
		}
		file := string(part) + ".json"
		if part == analyze.PartJobMetrics {
			file = string(part) + "-1.json"
		}
		body, err := os.ReadFile(filepath.Join(demoDir, "prometheus", file))
		if err != nil {
			t.Fatal(err)
		}
		f.answers[p] = jsonBody(200, body)
	}
	// The demo was recorded before blindspot read the Alertmanagers; this is the documented
	// answer of a Prometheus sending to one Alertmanager.
	f.answers["/api/v1/alertmanagers"] = jsonBody(200, []byte(`{"status":"success","data":{"activeAlertmanagers":[{"url":"http://127.0.0.1:9093/api/v2/alerts"}],"droppedAlertmanagers":[]}}`))
	return f
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	answer, ok := f.answers[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	answer(w, r)
}

// set replaces the answer for an API path.
func (f *fakePrometheus) set(p string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[p] = h
}

func (f *fakePrometheus) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.requests {
		n += c
	}
	return n
}

func (f *fakePrometheus) count(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[p]
}

func (f *fakePrometheus) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func jsonBody(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}
}

// success answers with the documented success envelope around data.
func success(t *testing.T, data any) http.HandlerFunc {
	t.Helper()
	body, err := json.Marshal(struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{"success", data})
	if err != nil {
		t.Fatal(err)
	}
	return jsonBody(200, body)
}

// apiError answers with the documented error envelope.
func apiError(t *testing.T, status int, errorType, msg string) http.HandlerFunc {
	t.Helper()
	body, err := json.Marshal(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", errorType, msg})
	if err != nil {
		t.Fatal(err)
	}
	return jsonBody(status, body)
}

// notFound answers like a server without the endpoint (Thanos Query has no targets or config).
func notFound(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// The shapes of /api/v1/targets, as documented.
type (
	activeTarget struct {
		DiscoveredLabels   map[string]string `json:"discoveredLabels"`
		Labels             map[string]string `json:"labels"`
		ScrapePool         string            `json:"scrapePool"`
		ScrapeURL          string            `json:"scrapeUrl"`
		GlobalURL          string            `json:"globalUrl"`
		LastError          string            `json:"lastError"`
		LastScrape         time.Time         `json:"lastScrape"`
		LastScrapeDuration float64           `json:"lastScrapeDuration"`
		Health             string            `json:"health"`
		ScrapeInterval     string            `json:"scrapeInterval"`
		ScrapeTimeout      string            `json:"scrapeTimeout"`
	}
	droppedTarget struct {
		DiscoveredLabels map[string]string `json:"discoveredLabels"`
		ScrapePool       string            `json:"scrapePool,omitempty"` // Prometheus 3 only
	}
	targetsData struct {
		ActiveTargets       []activeTarget  `json:"activeTargets"`
		DroppedTargets      []droppedTarget `json:"droppedTargets"`
		DroppedTargetCounts map[string]int  `json:"droppedTargetCounts,omitempty"` // Prometheus 3 only
	}
)

func upTarget(job string, i int) activeTarget {
	addr := fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250)
	return activeTarget{
		DiscoveredLabels:   map[string]string{"__address__": addr, "__metrics_path__": "/metrics", "__scheme__": "http", "job": job},
		Labels:             map[string]string{"instance": addr, "job": job},
		ScrapePool:         job,
		ScrapeURL:          "http://" + addr + "/metrics",
		GlobalURL:          "http://" + addr + "/metrics",
		LastScrape:         time.Date(2026, 11, 26, 3, 28, 13, 0, time.UTC),
		LastScrapeDuration: 0.004,
		Health:             "up",
		ScrapeInterval:     "15s",
		ScrapeTimeout:      "10s",
	}
}

func discovered(job string, i int) map[string]string {
	return map[string]string{"__address__": fmt.Sprintf("10.1.0.%d:8080", i), "__metrics_path__": "/metrics", "__scheme__": "http", "job": job}
}

// options connect to a test server with waits short enough for tests.
func options(url string) httpconfig.Options {
	return httpconfig.Options{URL: url, Attempts: 2, Backoff: time.Millisecond, Timeout: 5 * time.Second}
}

var collectedAt = time.Date(2026, 11, 26, 3, 28, 13, 0, time.UTC)

// collectLive reads a live server the way `blindspot audit` does.
func collectLive(t testing.TB, o httpconfig.Options) (*analyze.Inventory, *prometheus.Recorder) {
	t.Helper()
	client, err := prometheus.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	rec := prometheus.NewRecorder(client)
	return collectWith(t, rec, analyze.Source{Name: "prometheus", Kind: "live", URL: o.BaseURL()}), rec
}

func collectWith(t testing.TB, rec *prometheus.Recorder, src analyze.Source) *analyze.Inventory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := analyze.NewBuilder(collectedAt)
	got := prometheus.Collect(ctx, rec, src, b, slog.New(slog.DiscardHandler))
	inv := b.Build()
	if len(inv.Sources) != 1 {
		t.Fatalf("%d sources, want 1", len(inv.Sources))
	}
	if !sameSourceProblems(got, inv.Sources[0]) {
		t.Fatalf("Collect returned %+v but the inventory holds %+v", got, inv.Sources[0])
	}
	return inv
}

func sameSourceProblems(a, b analyze.Source) bool {
	return fmt.Sprint(a.Errors, a.Missing) == fmt.Sprint(b.Errors, b.Missing)
}

func partErrors(src analyze.Source) map[analyze.Part]string {
	out := map[analyze.Part]string{}
	for _, e := range src.Errors {
		out[e.Part] = e.Err
	}
	return out
}

func missingParts(src analyze.Source) map[analyze.Part]string {
	out := map[analyze.Part]string{}
	for _, m := range src.Missing {
		out[m.Part] = m.Reason
	}
	return out
}

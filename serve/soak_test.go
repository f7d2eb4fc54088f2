package serve_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/config"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/serve"
)

// soakCycles is how many audits the soak test runs.
const soakCycles = 300

// auditOf returns the audit blindspot serve runs for a configuration naming one Prometheus,
// built from the configuration as the command builds it.
func auditOf(t testing.TB, url string) func(context.Context, time.Time) (report.Report, error) {
	t.Helper()
	cfg := config.Config{Prometheus: config.Connection{URL: url}}
	cfg.FoldSingleServer()
	servers, err := cfg.Servers()
	if err != nil {
		t.Fatal(err)
	}
	copts, policy, err := cfg.CheckSuite()
	if err != nil {
		t.Fatal(err)
	}
	sources, err := cfg.Sources(false)
	if err != nil {
		t.Fatal(err)
	}
	req := audit.Request{Servers: servers, Sources: sources, Checks: copts, Policy: policy}
	return func(ctx context.Context, now time.Time) (report.Report, error) {
		r := req
		r.Now = func() time.Time { return now }
		return audit.Report(ctx, r)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSoak runs soakCycles audits of a real Prometheus back to back, each served (metrics
// scraped, HTML and JSON rendered) as a user would, and asserts that the live heap over the
// last ten audits is within 10 % of the heap over audits 2 to 11 (serve holds the two audits
// it keeps from the second on): what serve keeps does not grow with the number of audits.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("300 audits of a real Prometheus; skipped with -short")
	}
	bins := servers.Find(t)
	sc := servers.StartScenario(t, bins.Prometheus3, servers.WithHostileJob())
	sc.WaitForFirstScrapes(t)
	s, err := serve.New(serve.Options{Audit: auditOf(t, sc.PrometheusURL)})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	client := h.Client()
	cycle := func() {
		t.Helper()
		if err := s.Audit(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/metrics", "/", "/api/v1/report"} {
			resp, err := client.Get(h.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s", path, resp.Status)
			}
		}
	}

	// serve keeps the last two audits (the last is compared with the one before), and what an
	// audit holds varies from one audit to the next with the server's answers (a minute of
	// history more or less): the heap is the largest of ten audits, measured from the second
	// audit on, once serve holds both, and over the last ten.
	const window = 10
	started := time.Now()
	cycle()
	firstGoroutines := 0
	var first, last uint64
	for i := range soakCycles - 1 {
		cycle()
		switch {
		case i < window:
			first = max(first, liveHeap())
			firstGoroutines = runtime.NumGoroutine()
		case i >= soakCycles-1-window:
			last = max(last, liveHeap())
		}
	}
	lastGoroutines := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d audits in %s: %d goroutines after the eleventh, %d after the last; live heap at most %.1f MiB over audits 2 to 11, %.1f MiB over the last ten; heap in use from the OS %.1f MiB, total from the OS %.1f MiB",
		soakCycles, time.Since(started).Round(time.Millisecond), firstGoroutines, lastGoroutines, mib(first), mib(last), mib(ms.HeapSys-ms.HeapReleased), mib(ms.Sys))
	// An audit that left its connections open would leave two goroutines per connection.
	if lastGoroutines > firstGoroutines+10 {
		t.Errorf("%d goroutines after the eleventh audit, %d after the last", firstGoroutines, lastGoroutines)
	}
	if float64(last) > 1.10*float64(first) {
		t.Errorf("live heap grew from at most %.2f MiB over audits 2 to 11 to %.2f MiB over the last ten (over 10 %%)", mib(first), mib(last))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

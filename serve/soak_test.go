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
// scraped, HTML and JSON rendered) as a user would, and asserts that the live heap after the
// last is within 10 % of the heap after the first: what serve keeps does not grow with the
// number of audits.
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

	started := time.Now()
	cycle()
	first, firstGoroutines := liveHeap(), runtime.NumGoroutine()
	for range soakCycles - 1 {
		cycle()
	}
	last, lastGoroutines := liveHeap(), runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d audits in %s: %d goroutines after the first, %d after the last; live heap %.1f MiB after the first, %.1f MiB after the last; heap in use from the OS %.1f MiB, total from the OS %.1f MiB",
		soakCycles, time.Since(started).Round(time.Millisecond), firstGoroutines, lastGoroutines, mib(first), mib(last), mib(ms.HeapSys-ms.HeapReleased), mib(ms.Sys))
	// An audit that left its connections open would leave two goroutines per connection.
	if lastGoroutines > firstGoroutines+10 {
		t.Errorf("%d goroutines after the first audit, %d after the last", firstGoroutines, lastGoroutines)
	}
	if float64(last) > 1.10*float64(first) {
		t.Errorf("live heap grew from %.2f MiB after the first audit to %.2f MiB after the last (over 10 %%)", mib(first), mib(last))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

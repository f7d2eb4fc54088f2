package collect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/fakeprom"
)

// bigPrometheus answers /api/v1/targets with n active targets in n/50 jobs, as Prometheus
// shapes them, and 404 for the other endpoints (recorded as missing parts).
func bigPrometheus(t testing.TB, n int) string {
	t.Helper()
	active := make([]map[string]any, n)
	for i := range active {
		job := fmt.Sprintf("job-%d", i/50)
		inst := fmt.Sprintf("10.%d.%d.%d:9100", i>>16&255, i>>8&255, i&255)
		active[i] = map[string]any{
			"discoveredLabels": map[string]string{"__address__": inst, "job": job},
			"labels":           map[string]string{"instance": inst, "job": job, "team": "t", "env": "prod"},
			"scrapePool":       job, "scrapeUrl": "http://" + inst + "/metrics", "globalUrl": "http://" + inst + "/metrics",
			"lastError": "", "lastScrape": "2026-11-26T06:00:00Z", "lastScrapeDuration": 0.01, "health": "up",
			"scrapeInterval": "15s", "scrapeTimeout": "10s",
		}
	}
	body, err := json.Marshal(map[string]any{"status": "success", "data": map[string]any{
		"activeTargets": active, "droppedTargets": []any{}, "droppedTargetCounts": map[string]int{},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fakeprom.Recorded(map[string][]byte{"/api/v1/targets": body}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fleetMemory audits a fleet of the given sources and returns the largest live heap (after
// a GC) seen while a member was being judged, in bytes.
func fleetMemory(t testing.TB, urls []string, concurrency int) uint64 {
	t.Helper()
	var sources []collect.FleetSource
	for i, u := range urls {
		sources = append(sources, collect.FleetSource{Name: fmt.Sprintf("p%d", i), HTTP: httpconfig.Options{URL: u}})
	}
	all := checks.All(checks.Options{})
	var peak uint64
	err := collect.RunFleet(context.Background(), collect.FleetOptions{Sources: sources, Concurrency: concurrency}, func(m collect.Member) {
		res := checks.Run(m.Inventory, checks.Derive(m.Inventory, checks.Options{}), all, checks.Policy{Scope: m.Scope})
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		runtime.KeepAlive(res)
	})
	if err != nil {
		t.Fatal(err)
	}
	return peak
}

// bigFleet starts n big fake servers of targets targets each and returns their URLs and the
// live heap with them up, after a GC.
func bigFleet(tb testing.TB, n, targets int) (urls []string, heap uint64) {
	for range n {
		urls = append(urls, bigPrometheus(tb, targets))
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return urls, m.HeapAlloc
}

func TestFleetMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory over a fleet of large fake servers")
	}
	urls, heap := bigFleet(t, 9, 10000)
	one, eight := urls[:1], urls[1:]

	t.Run("The live heap while judging a fleet of eight servers stays near that of one: members are released once judged.", func(t *testing.T) {
		above := func(b uint64) uint64 { return b - min(b, heap) }
		single, fleet := above(fleetMemory(t, one, 1)), above(fleetMemory(t, eight, 1))
		t.Logf("live heap above baseline: one server %.1f MiB, eight servers read one at a time %.1f MiB", mib(single), mib(fleet))
		if fleet > 2*single {
			t.Errorf("eight servers hold %.1f MiB, one holds %.1f MiB: members are kept after they were judged", mib(fleet), mib(single))
		}
	})
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// BenchmarkFleetMemory reports the largest live heap seen while judging members (after a
// GC, so garbage is not counted), above the heap of the fake servers themselves, for one
// server and for eight read 1 and 4 at a time.
func BenchmarkFleetMemory(b *testing.B) {
	urls, heap := bigFleet(b, 8, 20000)
	for _, tc := range []struct {
		name        string
		urls        []string
		concurrency int
	}{
		{"1-server", urls[:1], 1},
		{"8-servers-1-at-a-time", urls, 1},
		{"8-servers-4-at-a-time", urls, 4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				peak = max(peak, fleetMemory(b, tc.urls, tc.concurrency))
			}
			b.ReportMetric(mib(peak-min(peak, heap)), "peak-live-MiB")
		})
	}
}

package collect_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

// busyServers counts how many of its servers have a request in flight at once.
type busyServers struct {
	mu       sync.Mutex
	inFlight map[int]int
	peak     int
}

func (b *busyServers) start(t *testing.T, n int) []collect.FleetSource {
	var out []collect.FleetSource
	for i := range n {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b.mu.Lock()
			b.inFlight[i]++
			busy := 0
			for _, c := range b.inFlight {
				if c > 0 {
					busy++
				}
			}
			b.peak = max(b.peak, busy)
			b.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			b.mu.Lock()
			b.inFlight[i]--
			b.mu.Unlock()
			http.NotFound(w, r)
		}))
		t.Cleanup(srv.Close)
		out = append(out, collect.FleetSource{Name: fmt.Sprintf("p%d", i), HTTP: httpconfig.Options{URL: srv.URL}})
	}
	return out
}

func TestFleetConcurrency(t *testing.T) {
	for _, concurrency := range []int{1, 2} {
		t.Run(fmt.Sprintf("With concurrency %d, at most %d servers are read at once, and that many are.", concurrency, concurrency), func(t *testing.T) {
			b := &busyServers{inFlight: map[int]int{}}
			sources := b.start(t, 5)
			members := 0
			err := collect.RunFleet(context.Background(), collect.FleetOptions{Sources: sources, Concurrency: concurrency}, func(collect.Member) { members++ })
			if err != nil {
				t.Fatal(err)
			}
			if members != 5 || b.peak != concurrency {
				t.Errorf("%d members judged, at most %d servers read at once; want 5 and %d", members, b.peak, concurrency)
			}
		})
	}
}

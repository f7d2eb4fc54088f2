package httpconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// fast are options for tests: short waits so that retries cost milliseconds.
func fast(url string) Options {
	return Options{URL: url, Attempts: 3, Backoff: time.Millisecond, Timeout: 5 * time.Second}
}

// client builds an http.Client over the transport of o.
func client(t *testing.T, o Options) *http.Client {
	t.Helper()
	rt, err := o.RoundTripper()
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: rt}
}

// get requests path from the source of o and returns the status and body.
func get(t *testing.T, o Options, path string) (int, string) {
	t.Helper()
	status, body := servers.GetWith(t, client(t, o), o.BaseURL()+path)
	return status, string(body)
}

// apiError writes a Prometheus API error envelope, as the server does for failed requests.
func apiError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":"error","errorType":%q,"error":%q}`, errorType, msg)
}

const buildinfoBody = `{"status":"success","data":{"version":"3.5.0","revision":"","branch":"","buildUser":"","buildDate":"","goVersion":"go1.26.8"}}`

func apiSuccess(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, buildinfoBody)
}

// sequence answers the n-th request (1-based) with answers[n-1], and the last answer after that.
// It counts the requests it saw.
type sequence struct {
	answers []func(w http.ResponseWriter)
	seen    atomic.Int32
}

func (s *sequence) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	n := int(s.seen.Add(1))
	s.answers[min(n, len(s.answers))-1](w)
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestRetries(t *testing.T) {
	t.Parallel()

	t.Run("A 503 is retried and the third attempt's answer is used.", func(t *testing.T) {
		t.Parallel()
		unavailable := func(w http.ResponseWriter) { apiError(w, 503, "unavailable", "not ready") }
		seq := &sequence{answers: []func(http.ResponseWriter){unavailable, unavailable, apiSuccess}}
		srv := serve(t, seq)

		status, body := get(t, fast(srv.URL), "/api/v1/status/buildinfo")
		if status != 200 || body != buildinfoBody {
			t.Errorf("got %d %q, want 200 with the buildinfo", status, body)
		}
		if n := seq.seen.Load(); n != 3 {
			t.Errorf("server saw %d requests, want 3", n)
		}
	})

	t.Run("A 429 with Retry-After: 0 is retried.", func(t *testing.T) {
		t.Parallel()
		tooMany := func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			apiError(w, 429, "too_many_requests", "slow down")
		}
		seq := &sequence{answers: []func(http.ResponseWriter){tooMany, apiSuccess}}
		srv := serve(t, seq)

		if status, _ := get(t, fast(srv.URL), "/"); status != 200 {
			t.Errorf("status %d, want 200", status)
		}
		if n := seq.seen.Load(); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
	})

	t.Run("A persistent 502 is tried Attempts times and the last answer is returned.", func(t *testing.T) {
		t.Parallel()
		var seq *sequence
		failing := func(w http.ResponseWriter) {
			apiError(w, 502, "internal", fmt.Sprintf("failure %d", seq.seen.Load()))
		}
		seq = &sequence{answers: []func(http.ResponseWriter){failing}}
		srv := serve(t, seq)
		o := fast(srv.URL)
		o.Attempts = 4

		status, body := get(t, o, "/")
		if status != 502 {
			t.Errorf("status %d, want 502", status)
		}
		if !strings.Contains(body, "failure 4") {
			t.Errorf("body %q is not the fourth answer", body)
		}
		if n := seq.seen.Load(); n != 4 {
			t.Errorf("server saw %d requests, want Attempts = 4", n)
		}
	})

	// A 500 says the server failed on this request: asking again asks it to fail again.
	for _, status := range []int{400, 404, 500, 501} {
		t.Run(fmt.Sprintf("A %d is not retried.", status), func(t *testing.T) {
			t.Parallel()
			seq := &sequence{answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { apiError(w, status, "bad_data", "no") },
				apiSuccess,
			}}
			srv := serve(t, seq)

			if got, _ := get(t, fast(srv.URL), "/"); got != status {
				t.Errorf("status %d, want %d", got, status)
			}
			if n := seq.seen.Load(); n != 1 {
				t.Errorf("server saw %d requests, want 1", n)
			}
		})
	}

	t.Run("A refused connection is retried, then its error is returned.", func(t *testing.T) {
		t.Parallel()
		// Nothing listens there: the connection is refused.
		addr := servers.FreeAddress(t)

		o := fast("http://" + addr).WithDefaults()
		tries := &countingTransport{next: http.DefaultTransport}
		rt := newResilient(tries, o)
		req, _ := http.NewRequest(http.MethodGet, o.URL+"/api/v1/targets", nil)

		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			t.Fatal("no error from a closed port")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("error %v is not connection refused", err)
		}
		if n := tries.n.Load(); n != int32(o.Attempts) {
			t.Errorf("%d attempts, want %d", n, o.Attempts)
		}
	})

	t.Run("A Retry-After beyond the cap makes the client wait the cap, not the server's hour.", func(t *testing.T) {
		t.Parallel()
		arrivals := make(chan time.Time, 2)
		seq := &sequence{answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) {
				arrivals <- time.Now()
				w.Header().Set("Retry-After", "3600")
				apiError(w, 429, "too_many_requests", "come back in an hour")
			},
			func(w http.ResponseWriter) {
				arrivals <- time.Now()
				apiSuccess(w)
			},
		}}
		srv := serve(t, seq)
		o := fast(srv.URL)
		o.Attempts = 2

		ctx, cancel := context.WithTimeout(context.Background(), maxBackoff+5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := client(t, o).Do(req)
		if err != nil {
			t.Fatalf("the capped wait did not end before the deadline: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("status %d, want 200", resp.StatusCode)
		}
		first, second := <-arrivals, <-arrivals
		if wait := second.Sub(first); wait > maxBackoff+2*time.Second {
			t.Errorf("waited %v between attempts, cap is %v", wait, maxBackoff)
		}
	})
}

type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

func TestTimeout(t *testing.T) {
	t.Parallel()

	t.Run("A server that never answers fails at the timeout, and the timed-out attempt is not retried.", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		var seen atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		t.Cleanup(func() { close(stop) }) // runs before srv.Close, which waits for handlers

		o := fast(srv.URL)
		o.Timeout = 100 * time.Millisecond
		o.Attempts = 3
		resp, err := client(t, o).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
			t.Fatal("no error from a server that never answers")
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within the source's timeout of 100ms") {
			t.Errorf("error %q does not say the source's timeout ran out", err)
		}
		if n := seen.Load(); n != 1 {
			t.Errorf("server saw %d requests, want 1: a timed-out attempt is not retried", n)
		}
	})

	t.Run("The timeout covers reading the body, and ends when the body is closed.", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { apiSuccess(w) }))
		o := fast(srv.URL)
		o.Timeout = 2 * time.Second
		status, body := get(t, o, "/")
		if status != 200 || body != buildinfoBody {
			t.Errorf("got %d %q", status, body)
		}
	})
}

// inflight is a handler that holds every request until released and records how many it held
// at once.
type inflight struct {
	mu       sync.Mutex
	now, max int
	total    int
	arrived  chan struct{}
	release  chan struct{}
}

func newInflight() *inflight {
	return &inflight{arrived: make(chan struct{}, 100), release: make(chan struct{})}
}

func (h *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.now++
	h.total++
	h.max = max(h.max, h.now)
	h.mu.Unlock()
	h.arrived <- struct{}{}
	select {
	case <-h.release:
	case <-r.Context().Done():
	}
	h.mu.Lock()
	h.now--
	h.mu.Unlock()
	apiSuccess(w)
}

func (h *inflight) waitArrivals(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-h.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("fewer than %d requests arrived", n)
		}
	}
}

func TestConcurrency(t *testing.T) {
	t.Parallel()

	t.Run("Twelve concurrent requests through one transport with MaxInFlight 4 reach the server four at a time.", func(t *testing.T) {
		t.Parallel()
		h := newInflight()
		srv := serve(t, h)
		o := fast(srv.URL)
		o.MaxInFlight = 4
		c := client(t, o)

		var wg sync.WaitGroup
		statuses := make([]int, 12)
		for i := range statuses {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		h.waitArrivals(t, 4)
		// The slots are full: a fifth request must wait for one to be freed.
		select {
		case <-h.arrived:
			t.Error("a fifth request reached the server while four were in flight")
		case <-time.After(50 * time.Millisecond):
		}
		close(h.release)
		wg.Wait()

		for i, s := range statuses {
			if s != 200 {
				t.Errorf("request %d: status %d", i, s)
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.max != 4 {
			t.Errorf("at most %d requests in flight, want 4", h.max)
		}
		if h.total != 12 {
			t.Errorf("server saw %d requests, want 12", h.total)
		}
	})

	t.Run("A caller waiting for a slot returns promptly with its context's error when cancelled.", func(t *testing.T) {
		t.Parallel()
		h := newInflight()
		srv := serve(t, h)
		o := fast(srv.URL)
		o.MaxInFlight = 2
		rt, err := o.RoundTripper()
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: rt}

		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			})
		}
		h.waitArrivals(t, 2)

		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		done := make(chan error, 1)
		go func() {
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		time.Sleep(20 * time.Millisecond) // let it queue for a slot
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("the cancelled caller is still waiting for a slot")
		}
		close(h.release)
		wg.Wait()

		h.mu.Lock()
		defer h.mu.Unlock()
		if h.total != 2 {
			t.Errorf("server saw %d requests, want the 2 that held the slots", h.total)
		}
	})

	t.Run("Closing a response body frees its slot for the next request.", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { apiSuccess(w) }))
		o := fast(srv.URL)
		o.MaxInFlight = 1
		c := client(t, o)
		for i := range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			resp, err := c.Do(req)
			if err != nil {
				cancel()
				t.Fatalf("request %d: %v", i+1, err)
			}
			resp.Body.Close()
			cancel()
		}
	})
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()

	t.Run("A 503 is retried after a jittered wait between half and all of the backoff.", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			apiError(w, 503, "unavailable", "later")
		}))
		o := fast(srv.URL)
		o.Attempts = 2
		o.Backoff = 100 * time.Millisecond
		rt, err := o.RoundTripper()
		if err != nil {
			t.Fatal(err)
		}
		r := rt.(*resilient)
		var (
			mu    sync.Mutex
			waits []time.Duration
		)
		r.jitter = func(d time.Duration) time.Duration {
			w := equalJitter(d)
			mu.Lock()
			waits = append(waits, w)
			mu.Unlock()
			return time.Millisecond // the test checks the waits, it does not wait them
		}
		c := &http.Client{Transport: r}
		for range 20 {
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if len(waits) != 20 {
			t.Fatalf("%d retries for 20 requests of 2 attempts, want 20", len(waits))
		}
		distinct := map[time.Duration]bool{}
		for _, w := range waits {
			distinct[w] = true
			if w < o.Backoff/2 || w > o.Backoff {
				t.Errorf("waited %v, want between %v and %v", w, o.Backoff/2, o.Backoff)
			}
		}
		if len(distinct) < 2 {
			t.Errorf("every retry waited %v: no jitter", waits[0])
		}
	})

	t.Run("A retry wait the source's timeout cannot afford is not waited: the last answer is returned.", func(t *testing.T) {
		t.Parallel()
		var seen atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			seen.Add(1)
			w.Header().Set("Retry-After", "3")
			apiError(w, 503, "unavailable", "later")
		}))
		o := fast(srv.URL)
		o.Attempts = 5
		o.Timeout = 500 * time.Millisecond
		start := time.Now()
		if status, _ := get(t, o, "/"); status != 503 {
			t.Errorf("status %d, want the 503 answer", status)
		}
		if n := seen.Load(); n != 1 {
			t.Errorf("server saw %d requests: the 3s wait does not fit in a 500ms budget", n)
		}
		if took := time.Since(start); took >= o.Timeout {
			t.Errorf("took %v: the wait was started though it could not end in the budget", took)
		}
	})

	t.Run("After a part's first timeout its further requests are not sent; other parts still are.", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		var queries, other atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/query" {
				queries.Add(1)
				select {
				case <-r.Context().Done():
				case <-stop:
				}
				return
			}
			other.Add(1)
			apiSuccess(w)
		}))
		t.Cleanup(func() { close(stop) })
		o := fast(srv.URL)
		o.Timeout = 100 * time.Millisecond
		c := client(t, o)
		if _, err := c.Get(srv.URL + "/api/v1/query?query=up"); err == nil {
			t.Fatal("no error from a query that never answers")
		}
		_, err := c.Get(srv.URL + "/api/v1/query?query=other")
		var stopped *StoppedError
		if !errors.As(err, &stopped) || !strings.Contains(err.Error(), "not asked after /api/v1/query failed") {
			t.Errorf("second query: %v, want a StoppedError", err)
		}
		if n := queries.Load(); n != 1 {
			t.Errorf("server saw %d queries, want 1", n)
		}
		if status, _ := get(t, o, "/api/v1/status/buildinfo"); status != 200 {
			t.Errorf("another part: status %d, want 200", status)
		}
	})

	t.Run("After a connection is refused on every attempt, the part's further requests are not sent.", func(t *testing.T) {
		t.Parallel()
		// Nothing listens there: the connection is refused.
		addr := servers.FreeAddress(t)
		o := fast("http://" + addr)
		rt, err := o.RoundTripper()
		if err != nil {
			t.Fatal(err)
		}
		r := rt.(*resilient)
		r.next = &countingTransport{next: r.next}
		c := &http.Client{Transport: r}
		for range 3 {
			if _, err := c.Get(o.URL + "/api/v1/rules"); err == nil {
				t.Fatal("no error from a refused connection")
			}
		}
		if n := r.next.(*countingTransport).n.Load(); n != int32(o.Attempts) {
			t.Errorf("%d connections tried for 3 requests, want the first request's %d attempts only", n, o.Attempts)
		}
	})

	t.Run("A request cancelled by its caller is not a hard failure: the next one is sent.", func(t *testing.T) {
		t.Parallel()
		var seen atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { seen.Add(1); apiSuccess(w) }))
		o := fast(srv.URL)
		c := client(t, o)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/rules", nil)
		if _, err := c.Do(req); err == nil {
			t.Fatal("no error from a cancelled request")
		}
		if status, _ := get(t, o, "/api/v1/rules"); status != 200 {
			t.Errorf("status %d after a cancelled request, want 200", status)
		}
	})
}

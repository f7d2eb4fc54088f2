package httpconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
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
	resp, err := client(t, o).Get(o.BaseURL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
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

	t.Run("A persistent 500 is tried Attempts times and the last answer is returned.", func(t *testing.T) {
		t.Parallel()
		var seq *sequence
		failing := func(w http.ResponseWriter) {
			apiError(w, 500, "internal", fmt.Sprintf("failure %d", seq.seen.Load()))
		}
		seq = &sequence{answers: []func(http.ResponseWriter){failing}}
		srv := serve(t, seq)
		o := fast(srv.URL)
		o.Attempts = 4

		status, body := get(t, o, "/")
		if status != 500 {
			t.Errorf("status %d, want 500", status)
		}
		if !strings.Contains(body, "failure 4") {
			t.Errorf("body %q is not the fourth answer", body)
		}
		if n := seq.seen.Load(); n != 4 {
			t.Errorf("server saw %d requests, want Attempts = 4", n)
		}
	})

	for _, status := range []int{400, 404} {
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
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()

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

	t.Run("A server that never answers fails each attempt at the timeout, and the attempts are bounded.", func(t *testing.T) {
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
		o.Attempts = 2
		start := time.Now()
		resp, err := client(t, o).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
			t.Fatal("no error from a server that never answers")
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("error %q does not say the deadline was exceeded", err)
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("took %v for 2 attempts of 100ms", elapsed)
		}
		if n := seen.Load(); n < 1 || n > 2 {
			t.Errorf("server saw %d requests, want at most Attempts = 2", n)
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

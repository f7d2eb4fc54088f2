package httpconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// resilient limits the requests in flight, gives each request one deadline for all its
// attempts, retries what another attempt can cure (a refused connection, 429, 502, 503, 504)
// with jittered exponential backoff, bounds every answer's body, and stops asking a part of
// the source after its first hard failure.
type resilient struct {
	next     http.RoundTripper
	sem      chan struct{}
	timeout  time.Duration
	attempts int
	backoff  time.Duration
	maxBody  int64 // 0: the per-endpoint defaults (DefaultLimit)

	// jitter turns the nominal wait before a retry into the actual one.
	jitter func(time.Duration) time.Duration

	mu sync.Mutex
	// failed holds the first hard failure of each part of the source (partKey), after which
	// the part's remaining requests fail at once instead of each waiting its own timeout.
	failed map[string]error
}

func newResilient(next http.RoundTripper, o Options) *resilient {
	return &resilient{
		next:     next,
		sem:      make(chan struct{}, o.MaxInFlight),
		timeout:  o.Timeout,
		attempts: o.Attempts,
		backoff:  o.Backoff,
		maxBody:  o.MaxResponseBytes,
		jitter:   equalJitter,
		failed:   map[string]error{},
	}
}

// equalJitter waits between half and all of d, so that clients that failed together do not
// retry together.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retryable reports the answers that say "try again shortly": a 500 or 501 will not change.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// TimeoutError is a request that got no complete answer within the source's timeout.
type TimeoutError struct {
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no answer within the source's timeout of %s (its timeout setting raises it)", e.Timeout)
}

func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// StoppedError is a request that was not sent because an earlier request for the same part of
// the source failed hard.
type StoppedError struct {
	Path  string
	Cause error
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("not asked after %s failed: %v", e.Path, e.Cause)
}

func (e *StoppedError) Unwrap() error { return e.Cause }

// hardFailure records a failure that every further request of the part would repeat.
type hardFailure struct{ err error }

func (h *hardFailure) Error() string { return h.err.Error() }

func (r *resilient) RoundTrip(req *http.Request) (*http.Response, error) {
	key := partKey(req.URL.Path)
	if err := r.stopped(key); err != nil {
		return nil, err
	}
	// One deadline for the request, all attempts and the reading of the body included.
	ctx, cancel := context.WithTimeoutCause(req.Context(), r.timeout, &TimeoutError{Timeout: r.timeout})
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		cancel()
		return nil, context.Cause(ctx)
	}
	release := func() { <-r.sem; cancel() }
	fail := func(err error) (*http.Response, error) {
		release()
		return nil, r.hard(req, key, err)
	}

	wait := r.backoff
	for attempt := 1; ; attempt++ {
		resp, err := r.try(ctx, req)
		if err != nil && ctx.Err() != nil {
			return fail(context.Cause(ctx))
		}
		last := attempt >= r.attempts || (req.Body != nil && req.GetBody == nil) ||
			(err == nil && !retryable(resp.StatusCode)) || (err != nil && !refused(err))
		var d time.Duration
		if !last {
			d = wait
			if err == nil {
				d = max(d, retryAfter(resp.Header.Get("Retry-After")))
			}
			d = r.jitter(min(d, maxBackoff))
			// A wait the budget cannot afford ends the attempts: the last answer says more
			// than the timeout would.
			deadline, _ := ctx.Deadline()
			last = time.Until(deadline) <= d
		}
		switch {
		case err == nil && last:
			limit := r.limit(req.URL.Path)
			resp.Body = &limitedBody{
				ReadCloser: &releaseOnClose{ReadCloser: resp.Body, release: release},
				left:       limit, limit: limit, configured: r.maxBody > 0, path: req.URL.Path,
				failed: func(err error) error {
					if ctx.Err() != nil {
						return r.hard(req, key, context.Cause(ctx))
					}
					return err
				},
			}
			return resp, nil
		case err != nil && last:
			if refused(err) {
				return fail(&hardFailure{err: err})
			}
			release()
			return nil, err
		}
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return fail(context.Cause(ctx))
		}
		wait *= 2
	}
}

// hard records err as the part's hard failure when it is one: the source's timeout ran out,
// or the connection was refused on every attempt. The run's own deadline or a cancelled
// caller is not the source's failure, but it is returned as the cause.
func (r *resilient) hard(req *http.Request, key string, err error) error {
	var hf *hardFailure
	var te *TimeoutError
	switch {
	case errors.As(err, &hf):
		err = hf.err
	case errors.As(err, &te):
	default:
		return err
	}
	r.mu.Lock()
	if _, ok := r.failed[key]; !ok {
		r.failed[key] = &StoppedError{Path: req.URL.Path, Cause: err}
	}
	r.mu.Unlock()
	return err
}

func (r *resilient) stopped(key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed[key]
}

// partKey groups the paths that read one part of a source: the values of every label
// (/api/v1/label/<name>/values) or every dashboard (/api/dashboards/uid/<uid>) are one part.
func partKey(path string) string {
	for _, cut := range []string{"/api/v1/label/", "/api/dashboards/uid/"} {
		if i := strings.Index(path, cut); i >= 0 {
			return path[:i+len(cut)]
		}
	}
	return path
}

// try runs one attempt under the request's deadline.
func (r *resilient) try(ctx context.Context, req *http.Request) (*http.Response, error) {
	attempt := req.Clone(ctx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		attempt.Body = body
	}
	return r.next.RoundTrip(attempt)
}

// refused reports a connection the server refused: nothing was sent, so another attempt is
// safe, and a server that is restarting may accept it. Nothing else is retried: a
// certificate that does not verify, say, stays unverifiable.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

type releaseOnClose struct {
	io.ReadCloser
	release func()
	done    bool
}

func (b *releaseOnClose) Close() error {
	err := b.ReadCloser.Close()
	if !b.done {
		b.done = true
		b.release()
	}
	return err
}

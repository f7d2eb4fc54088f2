package httpconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// resilient limits the requests in flight, gives each attempt its own deadline and retries
// connection errors, 429 and 5xx answers with exponential backoff.
type resilient struct {
	next     http.RoundTripper
	sem      chan struct{}
	timeout  time.Duration
	attempts int
	backoff  time.Duration
}

func newResilient(next http.RoundTripper, o Options) *resilient {
	return &resilient{
		next:     next,
		sem:      make(chan struct{}, o.MaxInFlight),
		timeout:  o.Timeout,
		attempts: o.Attempts,
		backoff:  o.Backoff,
	}
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

func (r *resilient) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-r.sem }

	wait := r.backoff
	for attempt := 1; ; attempt++ {
		resp, err := r.try(req)
		last := attempt >= r.attempts || ctx.Err() != nil || (req.Body != nil && req.GetBody == nil) || permanent(err)
		if err == nil && !retryable(resp.StatusCode) || last {
			if err != nil {
				release()
				return nil, err
			}
			resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: release}
			return resp, nil
		}
		d := wait
		if err == nil {
			d = max(d, retryAfter(resp.Header.Get("Retry-After")))
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		d = min(d, maxBackoff)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
		wait *= 2
	}
}

// try runs one attempt under its own deadline; the deadline ends when the body is closed.
func (r *resilient) try(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	attempt := req.Clone(ctx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			cancel()
			return nil, err
		}
		attempt.Body = body
	}
	resp, err := r.next.RoundTrip(attempt)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: cancel}
	return resp, nil
}

// permanent reports transport errors that another attempt cannot cure: a certificate that does
// not verify stays unverifiable.
func permanent(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	return errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr)
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

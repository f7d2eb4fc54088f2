package httpconfig

// A transport keeps the connections it opened alive after its last request, for the next
// one; an audit's transports are not used again once it is done, and a long-running process
// (blindspot serve) that left their connections open would hold them, with their goroutines
// and buffers, for every audit it ran. The wrappers pass the closing down.

type idleCloser interface{ CloseIdleConnections() }

// CloseIdleConnections closes the idle connections of the transport it wraps.
func (r *resilient) CloseIdleConnections() { CloseIdle(r.next) }

// CloseIdleConnections closes the idle connections of the transport it wraps.
func (s *scrubber) CloseIdleConnections() { CloseIdle(s.next) }

// CloseIdle closes the idle connections of a transport or client built on RoundTripper (a
// no-op for one that keeps none): call it when done with it.
func CloseIdle(v any) {
	if c, ok := v.(idleCloser); ok {
		c.CloseIdleConnections()
	}
}

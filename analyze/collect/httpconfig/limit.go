package httpconfig

import (
	"fmt"
	"io"
	"strings"
)

// The answers blindspot reads are bounded, so that a server (or whatever answers at its
// address) that sends an endless body costs an error, not the machine's memory. The defaults
// are sized from the largest estate blindspot is measured on (10,000 targets in 1,000 jobs,
// 100,000 metric names, 5,000 rules), where the largest answers are a few tens of MiB, with
// room to spare. A source's max_response_bytes replaces them all.
const (
	// MiB is a mebibyte, the unit the limits are stated in.
	MiB = 1 << 20
	// DefaultMaxResponseBytes bounds the answers of endpoints not listed in endpointLimits.
	DefaultMaxResponseBytes = 64 * MiB
)

// endpointLimits are the default limits of the endpoints whose answers grow with the estate,
// by path suffix. The target list carries every target's discovered labels, active and
// dropped (2-3 KiB each with Kubernetes discovery: 20-30 MiB for 10,000 targets, ten times
// that where relabeling drops most of what service discovery finds); series, metadata, label
// values and the batched job queries name every metric (40-300 bytes per name: 4-30 MiB for
// 100,000 names); 5,000 rules with their states and active alerts take 10-20 MiB.
var endpointLimits = []struct {
	suffix string
	limit  int64
}{
	{"/api/v1/targets", 512 * MiB},
	{"/api/v1/series", 256 * MiB},
	{"/api/v1/metadata", 256 * MiB},
	{"/api/v1/targets/metadata", 256 * MiB},
	{"/api/v1/query", 256 * MiB},
	{"/api/v1/query_range", 256 * MiB},
	{"/values", 256 * MiB}, // /api/v1/label/<name>/values
	{"/api/v1/rules", 128 * MiB},
}

// limit is the most that is read of an answer from path.
func (r *resilient) limit(path string) int64 {
	if r.maxBody > 0 {
		return r.maxBody
	}
	return DefaultLimit(path)
}

// DefaultLimit is the default bound of an answer from path.
func DefaultLimit(path string) int64 {
	for _, e := range endpointLimits {
		if strings.HasSuffix(path, e.suffix) {
			return e.limit
		}
	}
	return DefaultMaxResponseBytes
}

// BodyLimitError is an answer larger than its limit. Nothing past the limit was read.
type BodyLimitError struct {
	Path  string
	Limit int64
	// Configured tells a limit set by max_response_bytes from a default one.
	Configured bool
}

func (e *BodyLimitError) Error() string {
	which := "the default limit"
	if e.Configured {
		which = "the limit set by max_response_bytes"
	}
	return fmt.Sprintf("the answer of %s is larger than %s of %s (raise the source's max_response_bytes to read it)",
		e.Path, which, formatBytes(e.Limit))
}

func formatBytes(n int64) string {
	if n >= MiB && n%MiB == 0 {
		return fmt.Sprintf("%d MiB", n/MiB)
	}
	return fmt.Sprintf("%d bytes", n)
}

// limitedBody fails a read past its limit with a BodyLimitError rather than ending early: a
// truncated answer must not pass for a whole one.
type limitedBody struct {
	io.ReadCloser
	left, limit int64
	configured  bool
	path        string
	// failed turns a read error into the error the caller sees (the source's timeout).
	failed func(error) error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells an answer of exactly the limit from a larger one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, &BodyLimitError{Path: b.path, Limit: b.limit, Configured: b.configured}
		}
		return 0, b.readErr(err)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, b.readErr(err)
}

func (b *limitedBody) readErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return b.failed(err)
}

package httpconfig

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// endless writes an answer that never ends, until the client goes away.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"success","data":{"activeTargets":[`)
	chunk := []byte(strings.Repeat(`{"labels":{"job":"x"}},`, 1000))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()

	t.Run("An endless answer fails at the configured limit with an error naming the path, the limit and the setting.", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, http.HandlerFunc(endless))
		o := fast(srv.URL)
		o.MaxResponseBytes = 1 * MiB
		resp, err := client(t, o).Get(srv.URL + "/api/v1/targets")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		var le *BodyLimitError
		if !errors.As(err, &le) {
			t.Fatalf("reading an endless answer ended with %v after %d bytes, want a BodyLimitError", err, n)
		}
		if n != MiB {
			t.Errorf("read %d bytes, want exactly the limit %d", n, MiB)
		}
		for _, want := range []string{"/api/v1/targets", "1 MiB", "max_response_bytes"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
	})

	t.Run("An answer of exactly the limit is read whole.", func(t *testing.T) {
		t.Parallel()
		body := strings.Repeat("x", 1000)
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
		o := fast(srv.URL)
		o.MaxResponseBytes = 1000
		if status, got := get(t, o, "/"); status != 200 || got != body {
			t.Errorf("got %d and %d bytes, want 200 and the whole %d", status, len(got), len(body))
		}
	})

	t.Run("Without a configured limit each endpoint has its default, the target list the largest.", func(t *testing.T) {
		t.Parallel()
		if got := DefaultLimit("/prom/api/v1/targets"); got != 512*MiB {
			t.Errorf("targets limit %d, want 512 MiB", got)
		}
		if got := DefaultLimit("/api/v1/label/__name__/values"); got != 256*MiB {
			t.Errorf("label values limit %d, want 256 MiB", got)
		}
		if got := DefaultLimit("/api/v1/status/buildinfo"); got != DefaultMaxResponseBytes {
			t.Errorf("buildinfo limit %d, want the default %d", got, DefaultMaxResponseBytes)
		}
	})
}

package prometheus_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/fakeprom"
)

// thanosStores serves a recorded /api/v1/stores body of a real Thanos Query, and 404 for
// every other path.
func thanosStores(t *testing.T, file string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fakeprom.Recorded(map[string][]byte{"/api/v1/stores": body}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestStores(t *testing.T) {
	read := func(t *testing.T, url string) (unhealthy, notes []string, err error) {
		client, err := prometheus.NewClient(httpconfig.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		unhealthy, notes, _, err = prometheus.Stores(context.Background(), client)
		return unhealthy, notes, err
	}

	t.Run("Healthy stores are listed in a note, with their external labels.", func(t *testing.T) {
		unhealthy, notes, err := read(t, thanosStores(t, "thanos-v0.42.4-stores-healthy.json"))
		if err != nil || len(unhealthy) != 0 {
			t.Fatalf("unhealthy %q, err %v", unhealthy, err)
		}
		want := `healthy stores: sidecar store 127.0.0.1:40817 {cluster="b", replica="0"}, sidecar store 127.0.0.1:41085 {cluster="a", replica="0"}`
		if len(notes) != 1 || notes[0] != want {
			t.Errorf("notes = %q, want %q", notes, want)
		}
	})

	t.Run("A store whose last check failed is named with its labels and error.", func(t *testing.T) {
		unhealthy, _, err := read(t, thanosStores(t, "thanos-v0.42.4-stores-one-unhealthy.json"))
		if err != nil || len(unhealthy) != 1 {
			t.Fatalf("unhealthy %q, err %v", unhealthy, err)
		}
		if !strings.HasPrefix(unhealthy[0], `sidecar store 127.0.0.1:40817 {cluster="b", replica="0"} is unhealthy: rpc error: code = DeadlineExceeded`) {
			t.Errorf("unhealthy = %q", unhealthy)
		}
	})

	t.Run("A server without the stores endpoint is an error saying so.", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		_, _, err := read(t, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "/api/v1/stores answered HTTP 404") {
			t.Errorf("err = %v", err)
		}
	})
}

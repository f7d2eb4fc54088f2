package prometheus_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/fakeprom"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// answering serves recorded bodies by path (a 404 for any other path) and counts the
// requests it received.
type answering struct {
	bodies map[string]string
	mu     sync.Mutex
	asked  []string
}

func (a *answering) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.asked = append(a.asked, r.URL.Path)
	a.mu.Unlock()
	body, ok := a.bodies[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

func recorded(t *testing.T, path ...string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func identify(t *testing.T, h http.Handler) prometheus.Identity {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	id, err := prometheus.Identify(context.Background(), httpconfig.Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestIdentify(t *testing.T) {
	const buildinfo, stores = "/api/v1/status/buildinfo", "/api/v1/stores"

	t.Run("A Prometheus that reports its version is recognised from its build information alone, with one request.", func(t *testing.T) {
		srv := &answering{bodies: map[string]string{buildinfo: recorded(t, "testdata", "prometheus-2.45.0-buildinfo.json")}}
		id := identify(t, srv)
		if id.Server != prometheus.ServerPrometheus || id.Product != "Prometheus 2.45.0" {
			t.Errorf("identity = %+v, want Prometheus 2.45.0", id)
		}
		if len(srv.asked) != 1 {
			t.Errorf("asked %v, want the build information only", srv.asked)
		}
	})

	t.Run("A Prometheus 3 built without a version is asked for its stores, and without any is a Prometheus.", func(t *testing.T) {
		// The demo's Prometheus 3 was built from the Go module: its version is empty.
		srv := &answering{bodies: map[string]string{buildinfo: recorded(t, "..", "..", "..", "testdata", "demo", "prometheus", "buildinfo.json")}}
		id := identify(t, srv)
		if id.Server != prometheus.ServerPrometheus || len(id.Stores) != 0 {
			t.Errorf("identity = %+v, want a Prometheus", id)
		}
		if strings.Join(srv.asked, " ") != buildinfo+" "+stores {
			t.Errorf("asked %v, want the build information, then the stores", srv.asked)
		}
	})

	t.Run("A Thanos Query, whose build information says no more than a Prometheus 3's, is recognised by its store listing.", func(t *testing.T) {
		// Built from the Go module, Thanos v0.42.4 reports no version, as Prometheus 3 does.
		srv := &answering{bodies: map[string]string{
			buildinfo: recorded(t, "testdata", "thanos-v0.42.4-buildinfo.json"),
			stores:    recorded(t, "testdata", "thanos-v0.42.4-stores-healthy.json"),
		}}
		id := identify(t, srv)
		if id.Server != prometheus.ServerThanosQuery || id.Product != "" || len(id.Stores) != 2 {
			t.Errorf("identity = %+v, want a Thanos Query with 2 stores", id)
		}
		if strings.Join(srv.asked, " ") != buildinfo+" "+stores {
			t.Errorf("asked %v, want the build information, then the stores", srv.asked)
		}
	})

	t.Run("A Mimir names itself in its build information, which it serves without a tenant.", func(t *testing.T) {
		srv := &answering{bodies: map[string]string{buildinfo: recorded(t, "testdata", "mimir-buildinfo.json")}}
		id := identify(t, srv)
		if id.Server != prometheus.ServerMimir || id.Product != "Grafana Mimir r249-5bedc7a1-WIP" || id.NeedsTenant {
			t.Errorf("identity = %+v, want Grafana Mimir", id)
		}
		if len(srv.asked) != 1 {
			t.Errorf("asked %v, want the build information only", srv.asked)
		}
	})

	t.Run(`A server that answers 401 "no org id" is a Mimir or Cortex that needs a tenant.`, func(t *testing.T) {
		id := identify(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no org id", http.StatusUnauthorized)
		}))
		if id.Server != prometheus.ServerMimir || !id.NeedsTenant {
			t.Errorf("identity = %+v, want a Mimir that needs a tenant", id)
		}
	})

	t.Run("Another 401 says nothing of what the server is.", func(t *testing.T) {
		id := identify(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		}))
		if id.Server != prometheus.ServerPrometheus || id.NeedsTenant {
			t.Errorf("identity = %+v, want a Prometheus", id)
		}
	})

	t.Run("A store listing is read within a bound: an endless answer is not one.", func(t *testing.T) {
		id := identify(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != stores {
				http.NotFound(w, r)
				return
			}
			w.Write([]byte(`{"status":"success","data":{"sidecar":[`))
			chunk := []byte(strings.Repeat(`{"name":"x","labelSets":[]},`, 1000))
			for range 1000 { // ~28 MB, far over the bound
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}))
		if id.Server != prometheus.ServerPrometheus {
			t.Errorf("identity = %+v, want a Prometheus", id)
		}
	})

	t.Run("A server that cannot be reached is an error, and is taken for a Prometheus.", func(t *testing.T) {
		id, err := prometheus.Identify(context.Background(), httpconfig.Options{URL: "http://127.0.0.1:1"})
		if err == nil || id.Server != prometheus.ServerPrometheus {
			t.Errorf("identity %+v, err %v; want a Prometheus and an error", id, err)
		}
	})
}

// TestIdentifyLive asks real servers what they are: Prometheus 2 and 3 are Prometheus, a
// Thanos Query in front of a sidecar is a Thanos Query whose build information is the
// recorded one.
func TestIdentifyLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	for name, binary := range map[string]string{"Prometheus 2": bins.Prometheus2, "Prometheus 3": bins.Prometheus3} {
		t.Run(name+" is not taken for anything but a Prometheus.", func(t *testing.T) {
			p := servers.StartPrometheus(t, binary, servers.PrometheusOptions{Jobs: map[string][]string{"api": {servers.FreeAddress(t)}}})
			id, err := prometheus.Identify(context.Background(), httpconfig.Options{URL: p.URL})
			if err != nil || id.Server != prometheus.ServerPrometheus {
				t.Errorf("identity %+v, err %v; want a Prometheus", id, err)
			}
		})
	}

	t.Run("A Thanos Query is recognised by its store listing, with the recorded build information.", func(t *testing.T) {
		thanos := servers.FindThanos(t)
		p := servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{
			ExternalLabels: map[string]string{"cluster": "a", "replica": "0"},
			Jobs:           map[string][]string{"api": {servers.FreeAddress(t)}},
			ForThanos:      true,
		})
		q := servers.StartQuery(t, thanos, servers.StartSidecar(t, thanos, p).GRPCAddress)
		id, err := prometheus.Identify(context.Background(), httpconfig.Options{URL: q.URL})
		if err != nil || id.Server != prometheus.ServerThanosQuery || len(id.Stores) != 1 {
			t.Fatalf("identity %+v, err %v; want a Thanos Query with one store", id, err)
		}
		_, live := servers.Get(t, q.URL+"/api/v1/status/buildinfo")
		if want := recorded(t, "testdata", "thanos-v0.42.4-buildinfo.json"); strings.TrimSpace(string(live)) != strings.TrimSpace(want) {
			t.Errorf("Thanos answers its build information as\n%s\nthe recorded one is\n%s", live, want)
		}
	})
}

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

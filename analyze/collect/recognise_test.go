package collect_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// documentedMimir is fakeMimir with the build information Mimir serves without a tenant,
// at the root and under /prometheus, as its HTTP API documentation says (the recorded body).
func documentedMimir(t *testing.T, tenants map[string]tenant) (*fakeMimir, string) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("prometheus", "testdata", "mimir-buildinfo.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMimir{tenants: tenants, seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/api/v1/status/buildinfo") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func recognise(url string, headers map[string]string) collect.FleetSource {
	return collect.Recognise(context.Background(), collect.FleetSource{HTTP: httpconfig.Options{URL: url, Headers: headers}}, nil)
}

func TestRecognise(t *testing.T) {
	t.Run("A Thanos Query named by URL alone is audited as kind: thanos is: the same members and findings, and a note says it was recognised.", func(t *testing.T) {
		url := fakeThanos(t)
		s := recognise(url, nil)
		if s.Kind != collect.KindThanos || s.Refused != "" {
			t.Fatalf("recognised as %+v, want kind thanos", s)
		}
		found, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{s}})
		wantFound, wantMembers := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{{Kind: collect.KindThanos, HTTP: httpconfig.Options{URL: url}}}})
		if !slices.Equal(found, wantFound) {
			t.Errorf("findings = %q\nwant (kind: thanos) %q", found, wantFound)
		}
		scopes := func(ms []collect.Member) []string {
			var out []string
			for _, m := range ms {
				out = append(out, m.Scope["cluster"])
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(scopes(members), scopes(wantMembers)) || len(members) != 3 {
			t.Errorf("members = %q, want %q", scopes(members), scopes(wantMembers))
		}
		var notes []string
		for _, m := range members {
			for _, src := range m.Inventory.Sources {
				notes = append(notes, src.Notes...)
			}
		}
		want := "recognised as a Thanos Query, which merges 2 stores (/api/v1/stores): audited as kind: thanos, one member per cluster"
		if !slices.Contains(notes, want) {
			t.Errorf("notes = %q, want %q", notes, want)
		}
	})

	t.Run("Stores with no member label are judged together, and the source says so instead of passing for one server.", func(t *testing.T) {
		// The same two clusters, told apart by region instead of cluster.
		url := fakeThanosWith(t, func(_ string, body []byte) []byte {
			return bytes.ReplaceAll(body, []byte(`"cluster"`), []byte(`"region"`))
		})
		s := recognise(url, nil)
		var notes []string
		_, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{s}})
		for _, m := range members {
			for _, src := range m.Inventory.Sources {
				notes = append(notes, src.Notes...)
			}
		}
		want := `2 stores have no cluster external label ({region="a", replica="0"} {region="b", replica="0"}): their targets and rules are judged together, ` +
			`as one server's, a rule of one covering the jobs of all; if they are separate Prometheus servers, name the external labels that tell them apart in member_labels (region differ)`
		if !slices.Contains(notes, want) {
			t.Errorf("notes = %q\nwant %q", notes, want)
		}
	})

	t.Run("A Mimir without a tenant is refused with one line naming kind: mimir, tenant: and its URL without /prometheus; nothing else is asked.", func(t *testing.T) {
		f, url := documentedMimir(t, map[string]tenant{"team-a": {up: [][3]string{{"api", "10.0.0.1:80", "1"}}}})
		s := recognise(url+"/prometheus", nil)
		if s.Kind != collect.KindMimir || s.Refused == "" {
			t.Fatalf("recognised as %+v, want kind mimir, refused", s)
		}
		want := "this is Grafana Mimir r249-5bedc7a1-WIP, which keeps every tenant apart, not a Prometheus: configure it in the prometheus list with kind: mimir, url: " +
			url + " and tenant: <the X-Scope-OrgID; anonymous when multi-tenancy is off>"
		if s.Refused != want {
			t.Errorf("refused %q\nwant    %q", s.Refused, want)
		}
		_, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{s}})
		src := members[0].Inventory.Sources[0]
		if src.OK() || len(src.Errors) != len(prometheus.Parts()) || src.Errors[0].Err != want {
			t.Errorf("source = %+v, want every part failed with the refusal", src)
		}
		if len(f.seen) != 0 {
			t.Errorf("the Mimir was asked more than its build information: %v", f.seen)
		}
	})

	t.Run(`A Cortex that answers 401 "no org id" even for its build information is refused alike.`, func(t *testing.T) {
		_, url := startMimir(t, nil)
		s := recognise(url, nil)
		if s.Kind != collect.KindMimir || !strings.Contains(s.Refused, `this is a Mimir or Cortex, which asks for a tenant (HTTP 401 "no org id"), not a Prometheus: configure it in the prometheus list with kind: mimir, url: `+url+" and tenant: ") {
			t.Errorf("recognised as %+v", s)
		}
	})

	t.Run("A Mimir given a tenant is audited as kind: mimir is, the /prometheus prefix taken off its URL.", func(t *testing.T) {
		tenants := map[string]tenant{"team-a": {up: [][3]string{{"api", "10.0.0.1:80", "0"}}}}
		_, url := documentedMimir(t, tenants)
		s := recognise(url+"/prometheus/", map[string]string{"X-Scope-OrgID": "team-a"})
		if s.Kind != collect.KindMimir || s.Refused != "" || s.HTTP.URL != url {
			t.Fatalf("recognised as %+v, want kind mimir at %s", s, url)
		}
		found, _ := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{s}})
		want, _ := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{mimirSource("", url, "team-a", "")}})
		if len(found) == 0 || !slices.Equal(found, want) {
			t.Errorf("findings = %q, want (kind: mimir) %q", found, want)
		}
	})

	t.Run("A Prometheus is left as it was named: kind prometheus, no note.", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join("prometheus", "testdata", "prometheus-2.45.0-buildinfo.json"))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body) }))
		t.Cleanup(srv.Close)
		if s := recognise(srv.URL, nil); s.Kind != collect.KindPrometheus || s.Notes != nil || s.Refused != "" {
			t.Errorf("recognised as %+v, want a plain Prometheus", s)
		}
	})
}

func TestMergedView(t *testing.T) {
	t.Run("A server with targets of several clusters, no scrape configuration and no store listing says it merges servers it cannot split.", func(t *testing.T) {
		url := fakeThanosWith(t, func(path string, body []byte) []byte {
			if path == "/api/v1/stores" {
				return nil
			}
			return body
		})
		res, err := collect.Run(context.Background(), collect.Options{Prometheus: &httpconfig.Options{URL: url}})
		if err != nil {
			t.Fatal(err)
		}
		src := res.Inventory.Sources[0]
		want := "targets carry 2 values of cluster (a, b) and no scrape configuration is served: this looks like several Prometheus servers merged into one view, " +
			"which blindspot cannot split here (no /api/v1/stores), so a rule of one seems to cover the jobs of all; audit each server, or the Thanos Query with kind: thanos"
		if !slices.Contains(src.Notes, want) {
			t.Errorf("notes = %q\nwant %q", src.Notes, want)
		}
		if !res.Inventory.Has(analyze.PartTargets) {
			t.Error("the targets were not read")
		}
	})
}

// TestRecogniseLive runs a real Thanos Query whose two Prometheus servers carry no cluster
// external label: it is recognised, and the report says it cannot be split.
func TestRecogniseLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	thanos := servers.FindThanos(t)
	var sidecars []string
	for _, region := range []string{"eu", "us"} {
		p := servers.StartPrometheus(t, bins.Prometheus3, servers.PrometheusOptions{
			ExternalLabels: map[string]string{"region": region, "replica": "0"},
			Jobs:           map[string][]string{"api": {servers.FreeAddress(t)}},
			ForThanos:      true,
		})
		sidecars = append(sidecars, servers.StartSidecar(t, thanos, p).GRPCAddress)
	}
	q := servers.StartQuery(t, thanos, sidecars...)

	t.Run("A Thanos Query whose stores have no cluster label is recognised, judged as one member, and says it cannot be split.", func(t *testing.T) {
		s := recognise(q.URL, nil)
		if s.Kind != collect.KindThanos {
			t.Fatalf("recognised as %+v, want kind thanos", s)
		}
		_, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{s}})
		if len(members) != 1 {
			t.Fatalf("%d members, want 1", len(members))
		}
		want := `2 stores have no cluster external label ({region="eu", replica="0"} {region="us", replica="0"}): their targets and rules are judged together`
		notes := members[0].Inventory.Sources[0].Notes
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, want) && strings.HasSuffix(n, "(region differ)") }) {
			t.Errorf("notes = %q, want one starting %q", notes, want)
		}
	})
}

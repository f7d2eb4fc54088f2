package collect_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/fakeprom"
)

// fakeThanos answers the targets, rules and stores endpoints with what a real Thanos Query
// v0.42.4 answered (testdata/thanos-v0.42.4), 404 for the configuration as Thanos does, and
// the up query with the recorded clusters' targets plus those of a cluster c whose store has
// no targets API (a receiver): its series are known only from up.
func fakeThanos(t *testing.T) string {
	t.Helper()
	return fakeThanosWith(t, func(_ string, body []byte) []byte { return body })
}

// fakeThanosWith is fakeThanos with the recorded bodies passed through edit first (nil drops
// the path, which then answers 404).
func fakeThanosWith(t *testing.T, edit func(path string, body []byte) []byte) string {
	t.Helper()
	recorded := map[string][]byte{}
	for path, file := range map[string]string{"/api/v1/targets": "targets.json", "/api/v1/rules": "rules.json", "/api/v1/stores": "stores.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", "thanos-v0.42.4", file))
		if err != nil {
			t.Fatal(err)
		}
		if body = edit(path, body); body != nil {
			recorded[path] = body
		}
	}
	up := func(job, instance, cluster, value string) fakeprom.Sample {
		return fakeprom.Sample{Labels: map[string]string{"job": job, "instance": instance, "cluster": cluster}, Value: value}
	}
	srv := httptest.NewServer(fakeprom.Handler(recorded, []fakeprom.Sample{
		up("api", "127.0.0.1:38869", "a", "0"), up("api", "127.0.0.1:46759", "b", "0"),
		up("ingest", "10.2.0.1:8080", "c", "1"),
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestThanosSource(t *testing.T) {
	url := fakeThanos(t)
	found, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{
		{Name: "global", Kind: collect.KindThanos, HTTP: httpconfig.Options{URL: url}},
	}})

	t.Run("A Thanos source is split into one member per cluster, each with its own targets and rules.", func(t *testing.T) {
		var clusters []string
		for _, m := range members {
			clusters = append(clusters, m.Scope["cluster"])
			if _, ok := m.Scope["source"]; ok {
				t.Errorf("a fleet of one source has no source key: %v", m.Scope)
			}
			for _, tg := range m.Inventory.Targets {
				if tg.Labels["cluster"] != m.Scope["cluster"] {
					t.Errorf("member %v holds a target of cluster %q", m.Scope, tg.Labels["cluster"])
				}
			}
		}
		if !slices.Equal(clusters, []string{"a", "b", "c"}) {
			t.Errorf("members = %q, want a, b, c", clusters)
		}
	})

	t.Run("Each cluster's ApiDown covers its own api job; a job known only from up is judged too.", func(t *testing.T) {
		for _, k := range []string{"alerts/missing-up cluster=a job=api", "alerts/missing-up cluster=b job=api"} {
			if slices.Contains(found, k) {
				t.Errorf("%s reported, but the cluster's own ApiDown covers it", k)
			}
		}
		for _, k := range []string{"targets/down cluster=a instance=127.0.0.1:38869 job=api", "alerts/missing-up cluster=c job=ingest"} {
			if !slices.Contains(found, k) {
				t.Errorf("missing %s in %q", k, found)
			}
		}
		src := members[0].Inventory.Sources[0]
		if !src.OK() || !slices.Contains(src.Notes, "targets: 1 known only from the up series (stores without a targets API)") {
			t.Errorf("source = %+v", src)
		}
	})
}

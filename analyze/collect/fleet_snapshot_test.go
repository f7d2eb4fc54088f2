package collect_test

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

func TestFleetSnapshot(t *testing.T) {
	f, url := startMimir(t, map[string]tenant{
		"team-b": {up: [][3]string{{"api", "10.0.1.1:8080", "0"}, {"db", "10.0.1.2:9187", "1"}}},
		"global": {rules: [][2]string{{"DbDown", `up{job="db"} == 0`}}},
	})
	sources := []collect.FleetSource{mimirSource("team-b", url, "team-b", ""), mimirSource("global", url, "global", collect.RoleRuler)}
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

	t.Run("Mimir tenants and a ruler replayed from a snapshot are the same fleet, without asking Mimir again.", func(t *testing.T) {
		var mu sync.Mutex
		recorded := map[string][]prometheus.Response{}
		live, _ := audit(t, collect.FleetOptions{Sources: sources, Now: func() time.Time { return now },
			Record: func(s collect.FleetSource, r []prometheus.Response) {
				mu.Lock()
				defer mu.Unlock()
				recorded[s.Name] = r
			}})
		m := snapshot.Manifest{CreatedAt: now}
		for _, s := range sources {
			m.Sources = append(m.Sources, collect.SnapshotSource(s, recorded[s.Name]))
		}
		dir := filepath.Join(t.TempDir(), "snap")
		if err := snapshot.Write(dir, m); err != nil {
			t.Fatal(err)
		}
		snap, err := snapshot.Read(os.DirFS(dir), dir)
		if err != nil {
			t.Fatal(err)
		}
		replayed := collect.SnapshotFleet(snap.Manifest)
		if len(replayed) != 2 || replayed[0].Kind != collect.KindMimir || replayed[1].Role != collect.RoleRuler {
			t.Fatalf("fleet from the snapshot = %+v, want the two Mimir sources, the second a ruler", replayed)
		}
		f.mu.Lock()
		before := f.seen["team-b"] + f.seen["global"]
		f.mu.Unlock()
		offline, members := audit(t, collect.FleetOptions{Sources: replayed, Now: func() time.Time { return snap.Manifest.CreatedAt }})
		if len(live) == 0 || !slices.Equal(live, offline) {
			t.Errorf("offline findings %q differ from live ones %q", offline, live)
		}
		for _, mem := range members {
			if src := mem.Inventory.Sources[0]; src.Kind != "snapshot" || !src.OK() {
				t.Errorf("replayed source %+v, want kind snapshot and ok", src)
			}
		}
		f.mu.Lock()
		after := f.seen["team-b"] + f.seen["global"]
		f.mu.Unlock()
		if after != before {
			t.Errorf("the offline audit sent %d requests to Mimir", after-before)
		}
	})

	t.Run("A snapshot whose source names would leave its directory or share one is refused.", func(t *testing.T) {
		for _, name := range []string{"../eu", "a/b", ".."} {
			m := snapshot.Manifest{Sources: []snapshot.Source{collect.SnapshotSource(collect.FleetSource{Name: name, HTTP: sources[0].HTTP}, nil)}}
			if err := snapshot.Write(filepath.Join(t.TempDir(), "snap"), m); err == nil {
				t.Errorf("a source named %q was written", name)
			}
		}
		dup := collect.SnapshotSource(sources[0], nil)
		if err := snapshot.Write(filepath.Join(t.TempDir(), "snap"), snapshot.Manifest{Sources: []snapshot.Source{dup, dup}}); err == nil {
			t.Error("two sources of one name were written")
		}
	})
}

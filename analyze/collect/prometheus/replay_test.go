package prometheus_test

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

// replay audits the first source of a snapshot the way `blindspot audit --from` does.
func replay(t *testing.T, snap *snapshot.Snapshot) *analyze.Inventory {
	t.Helper()
	src := snap.Manifest.Sources[0]
	rec := prometheus.NewRecorder(prometheus.NewReplay(snapshot.Responses(src)))
	return collectWith(t, rec, analyze.Source{Name: src.Name, Kind: "snapshot", URL: src.URL})
}

// manifestOf is a snapshot manifest of one Prometheus at o holding every response rec recorded.
func manifestOf(o httpconfig.Options, rec *prometheus.Recorder) snapshot.Manifest {
	m := snapshot.Manifest{
		ToolVersion: "test",
		CreatedAt:   collectedAt,
		Sources:     []snapshot.Source{{Name: "prometheus", Kind: "prometheus", URL: o.BaseURL()}},
	}
	for _, r := range rec.Responses() {
		m.Sources[0].Responses = append(m.Sources[0].Responses, snapshot.Response{Response: r})
	}
	return m
}

// writeRead writes m as a snapshot and reads it back.
func writeRead(t *testing.T, m snapshot.Manifest) *snapshot.Snapshot {
	t.Helper()
	dir := t.TempDir()
	if err := snapshot.Write(dir, m); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Read(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// replayWithout replays the responses rec recorded but those drop matches, as a snapshot
// recorded before they existed would.
func replayWithout(t testing.TB, rec *prometheus.Recorder, drop func(prometheus.Response) bool) *analyze.Inventory {
	t.Helper()
	var older []prometheus.Response
	for _, r := range rec.Responses() {
		if !drop(r) {
			older = append(older, r)
		}
	}
	return collectWith(t, prometheus.NewRecorder(prometheus.NewReplay(older)), analyze.Source{Name: "prometheus", Kind: "snapshot"})
}

// withoutASTs returns the rule groups with the parsed expressions left out, which are compared
// through the expressions they came from.
func withoutASTs(groups []analyze.RuleGroup) []analyze.RuleGroup {
	out := make([]analyze.RuleGroup, len(groups))
	for i, g := range groups {
		g.Rules = append([]analyze.Rule(nil), g.Rules...)
		for j := range g.Rules {
			g.Rules[j].Parsed = nil
		}
		out[i] = g
	}
	return out
}

func TestReplay(t *testing.T) {
	t.Parallel()

	t.Run("The demo snapshot replays to the inventory of the scenario it was recorded from.", func(t *testing.T) {
		t.Parallel()
		snap, err := snapshot.Read(os.DirFS(demoDir), "demo")
		if err != nil {
			t.Fatal(err)
		}
		inv := replay(t, snap)

		if src := inv.Sources[0]; len(src.Errors) != 0 || len(src.Missing) != 0 {
			t.Errorf("errors %+v, missing %+v, want every part read", src.Errors, src.Missing)
		}
		if got := inv.Alerting.Alertmanagers; len(got) != 1 || !got[0].Active {
			t.Errorf("Alertmanagers %+v, want the one active the demo's Prometheus sends to", got)
		}
		for _, name := range []string{"payments-api", "node", "legacy-app", "pushgateway", "prometheus"} {
			j := inv.Job(name)
			if j == nil {
				t.Errorf("no job %s", name)
				continue
			}
			if !j.Configured {
				t.Errorf("job %s is not marked configured", name)
			}
		}
		if j := inv.Job("payments-api"); j == nil || j.Down != 1 {
			t.Errorf("payments-api: %+v, want a down target", j)
		}
		if j := inv.Job("node"); j == nil || j.Up != 1 || j.Down != 0 {
			t.Errorf("node: %+v, want one target up", j)
		}
		if j := inv.Job("legacy-app"); j == nil || j.Dropped == 0 || j.Active() != 0 {
			t.Errorf("legacy-app: %+v, want its targets dropped", j)
		}
		// file_sd targets may carry a job label of their own: the empty pool is no job.
		if p := inv.Pool("batch-jobs"); p == nil || !p.Configured || p.Active != 0 || p.Dropped != 0 || p.JobLabel != "" || inv.Job("batch-jobs") != nil {
			t.Errorf("batch-jobs: pool %+v, job %+v, want a configured pool with nothing discovered and no job", p, inv.Job("batch-jobs"))
		}
		byName := map[string]analyze.Rule{}
		for _, r := range inv.Rules() {
			byName[r.Name] = r
		}
		for _, name := range []string{"InstanceDown", "PrometheusSelfDown"} {
			r, ok := byName[name]
			if !ok || r.Kind != analyze.RuleAlerting || r.Parsed == nil || r.ParseError != "" {
				t.Errorf("%s: %+v, want a parsed alerting rule", name, r)
			}
		}
		if r := byName["PrometheusSelfDown"]; r.Annotations["runbook_url"] == "" {
			t.Errorf("PrometheusSelfDown has no runbook_url: %v", r.Annotations)
		}
		if r := byName["job:up:avg"]; r.Kind != analyze.RuleRecording {
			t.Errorf("job:up:avg: %+v, want a recording rule", r)
		}
		if !inv.Has(analyze.PartMetricNames) || len(inv.MetricNames) == 0 || len(inv.Metadata) == 0 {
			t.Errorf("%d metric names, %d metadata entries", len(inv.MetricNames), len(inv.Metadata))
		}
		if inv.Build.GoVersion == "" {
			t.Errorf("build info %+v", inv.Build)
		}
	})

	t.Run("A snapshot recorded before /api/v1/alertmanagers was read replays with that part missing, not failed.", func(t *testing.T) {
		t.Parallel()
		snap, err := snapshot.Read(os.DirFS(demoDir), "demo")
		if err != nil {
			t.Fatal(err)
		}
		src := &snap.Manifest.Sources[0]
		src.Responses = slices.DeleteFunc(src.Responses, func(r snapshot.Response) bool { return r.Part == analyze.PartAlertmanagers })
		inv := replay(t, snap)
		if src := inv.Sources[0]; len(src.Errors) != 0 || len(src.Missing) != 1 || src.Missing[0].Part != analyze.PartAlertmanagers {
			t.Errorf("errors %+v, missing %+v, want alertmanagers missing only", src.Errors, src.Missing)
		}
	})

	t.Run("A live collection written as a snapshot and read back replays to the same inventory.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		// A snapshot keeps what went wrong as well as what was read.
		fake.set(apiPath[analyze.PartConfig], notFound)
		fake.set(apiPath[analyze.PartMetadata], apiError(t, 503, "unavailable", "metadata is warming up"))
		o := options(fake.start(t))
		live, rec := collectLive(t, o)
		if len(live.Sources[0].Errors) != 1 || len(live.Sources[0].Missing) != 1 {
			t.Fatalf("live errors %+v, missing %+v; want one of each", live.Sources[0].Errors, live.Sources[0].Missing)
		}

		offline := replay(t, writeRead(t, manifestOf(o, rec)))

		if !reflect.DeepEqual(offline.Jobs, live.Jobs) {
			t.Errorf("jobs differ:\nlive    %+v\noffline %+v", live.Jobs, offline.Jobs)
		}
		if !reflect.DeepEqual(offline.Targets, live.Targets) {
			t.Errorf("targets differ:\nlive    %+v\noffline %+v", live.Targets, offline.Targets)
		}
		if !reflect.DeepEqual(withoutASTs(offline.RuleGroups), withoutASTs(live.RuleGroups)) {
			t.Errorf("rules differ:\nlive    %+v\noffline %+v", live.RuleGroups, offline.RuleGroups)
		}
		if !reflect.DeepEqual(offline.MetricNames, live.MetricNames) {
			t.Errorf("metric names differ: %d live, %d offline", len(live.MetricNames), len(offline.MetricNames))
		}
		if !reflect.DeepEqual(offline.Parts, live.Parts) || offline.Build != live.Build {
			t.Errorf("parts %v / %v, build %+v / %+v", live.Parts, offline.Parts, live.Build, offline.Build)
		}
		if !sameSourceProblems(offline.Sources[0], live.Sources[0]) {
			t.Errorf("source problems differ:\nlive    %+v %+v\noffline %+v %+v",
				live.Sources[0].Errors, live.Sources[0].Missing, offline.Sources[0].Errors, offline.Sources[0].Missing)
		}
		if len(live.Targets) == 0 || len(live.Rules()) == 0 || len(live.MetricNames) == 0 {
			t.Errorf("the live collection read little: %d targets, %d rules, %d metric names", len(live.Targets), len(live.Rules()), len(live.MetricNames))
		}
	})
}

package prometheus_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// wantOnlyPartError checks that the first source of inv has one error, for part, saying msg.
func wantOnlyPartError(t *testing.T, inv *analyze.Inventory, part analyze.Part, msg string) {
	t.Helper()
	if errs := partErrors(inv.Sources[0]); len(errs) != 1 || !strings.Contains(errs[part], msg) {
		t.Errorf("errors %+v, want only one, for %s, saying %q", inv.Sources[0].Errors, part, msg)
	}
}

func TestCollect(t *testing.T) {
	t.Parallel()

	for jobs, name := range map[int]string{1: "one job", 200: "200 jobs"} {
		t.Run("Reading a server with "+name+" takes nine requests: one per endpoint, and two queries, one for the demo's three business metrics and one for the names that recognise a ruleset.", func(t *testing.T) {
			t.Parallel()
			fake := newFakePrometheus(t)
			var data targetsData
			data.DroppedTargets = []droppedTarget{}
			data.DroppedTargetCounts = map[string]int{}
			for i := range jobs {
				job := fmt.Sprintf("job-%03d", i)
				data.ActiveTargets = append(data.ActiveTargets, upTarget(job, i))
				data.DroppedTargetCounts[job] = 0
			}
			fake.set(apiPath[analyze.PartTargets], success(t, data))

			inv, _ := collectLive(t, options(fake.start(t)))
			if n := fake.total(); n != 9 {
				t.Errorf("%d requests, want 9", n)
			}
			for part, p := range apiPath {
				want := 1
				if part == analyze.PartJobMetrics {
					want = 2
				}
				if n := fake.count(p); n != want {
					t.Errorf("%s (%s) requested %d times, want %d", p, part, n, want)
				}
			}
			if len(inv.Targets) != jobs {
				t.Errorf("%d targets, want %d", len(inv.Targets), jobs)
			}
			for i := range jobs {
				j := inv.Job(fmt.Sprintf("job-%03d", i))
				if j == nil || j.Up != 1 {
					t.Fatalf("job-%03d: %+v, want one target up", i, j)
				}
			}
			if !slices.Equal(inv.Parts, analyze.AllPrometheusParts) {
				t.Errorf("parts %v, want all", inv.Parts)
			}
		})
	}

	t.Run("A server without targets and config endpoints, like Thanos Query, has them missing and the rest read.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartTargets], notFound)
		fake.set(apiPath[analyze.PartConfig], notFound)

		inv, _ := collectLive(t, options(fake.start(t)))
		src := inv.Sources[0]
		if len(src.Errors) != 0 {
			t.Errorf("errors %+v, want none", src.Errors)
		}
		missing := missingParts(src)
		if len(missing) != 2 {
			t.Errorf("missing %+v, want targets and config", src.Missing)
		}
		for part, p := range map[analyze.Part]string{analyze.PartTargets: "/api/v1/targets", analyze.PartConfig: "/api/v1/status/config"} {
			if want := p + " is not served (HTTP 404)"; missing[part] != want {
				t.Errorf("missing %s: %q, want %q", part, missing[part], want)
			}
			if inv.Has(part) {
				t.Errorf("inventory claims to have %s", part)
			}
		}
		for _, part := range []analyze.Part{analyze.PartRules, analyze.PartMetricNames, analyze.PartMetadata, analyze.PartBuildInfo} {
			if !inv.Has(part) {
				t.Errorf("inventory lacks %s", part)
			}
		}
		if len(inv.Rules()) != 9 || len(inv.MetricNames) == 0 || len(inv.Targets) != 0 {
			t.Errorf("%d rules, %d metric names, %d targets; want the demo's 9, some, 0", len(inv.Rules()), len(inv.MetricNames), len(inv.Targets))
		}
	})

	t.Run("A server with rules but no metric names, like Thanos Ruler, has the business queries missing too, not failed.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		for _, part := range []analyze.Part{analyze.PartTargets, analyze.PartConfig, analyze.PartMetricNames, analyze.PartMetadata, analyze.PartJobMetrics} {
			fake.set(apiPath[part], notFound)
		}
		inv, _ := collectLive(t, options(fake.start(t)))
		src := inv.Sources[0]
		if len(src.Errors) != 0 {
			t.Errorf("errors %+v, want none", src.Errors)
		}
		if got := missingParts(src)[analyze.PartJobMetrics]; got != "needs the metric names, which are not served" {
			t.Errorf("job_metrics missing: %q", got)
		}
		if !inv.Has(analyze.PartRules) || inv.Has(analyze.PartJobMetrics) {
			t.Errorf("parts %v, want rules and no job_metrics", inv.Parts)
		}
	})

	t.Run("A 503 on rules is an error for rules only, with the server's message, after the retries.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartRules], apiError(t, http.StatusServiceUnavailable, "unavailable", "rule manager is not ready"))
		o := options(fake.start(t))

		inv, _ := collectLive(t, o)
		src := inv.Sources[0]
		errs := partErrors(src)
		if len(errs) != 1 || len(src.Missing) != 0 {
			t.Fatalf("errors %+v, missing %+v; want one error for rules", src.Errors, src.Missing)
		}
		if e := errs[analyze.PartRules]; !strings.Contains(e, "503") || !strings.Contains(e, "rule manager is not ready") {
			t.Errorf("rules error %q does not give the status and the server's message", e)
		}
		if n := fake.count(apiPath[analyze.PartRules]); n != o.Attempts {
			t.Errorf("rules requested %d times, want %d attempts", n, o.Attempts)
		}
		if inv.Has(analyze.PartRules) || len(inv.RuleGroups) != 0 {
			t.Errorf("inventory has rules: %v, %d groups", inv.Parts, len(inv.RuleGroups))
		}
		for _, part := range []analyze.Part{analyze.PartTargets, analyze.PartConfig, analyze.PartMetricNames, analyze.PartMetadata, analyze.PartBuildInfo} {
			if !inv.Has(part) {
				t.Errorf("inventory lacks %s", part)
			}
		}
	})

	for _, part := range analyze.AllPrometheusParts {
		t.Run(fmt.Sprintf("A truncated JSON answer on %s is an error for that part only, and for job_metrics, which queries the metric names.", part), func(t *testing.T) {
			t.Parallel()
			fake := newFakePrometheus(t)
			fake.set(apiPath[part], jsonBody(200, []byte(`{"status":"success","data":{"`)))
			failed := []analyze.Part{part}
			if part == analyze.PartMetricNames {
				failed = append(failed, analyze.PartJobMetrics)
			}

			inv, _ := collectLive(t, options(fake.start(t)))
			src := inv.Sources[0]
			errs := partErrors(src)
			if len(errs) != len(failed) {
				t.Fatalf("errors %+v, want one for each of %v", src.Errors, failed)
			}
			for _, p := range failed {
				if errs[p] == "" || inv.Has(p) {
					t.Errorf("%s: error %q, parts %v", p, errs[p], inv.Parts)
				}
			}
			if len(src.Missing) != 0 {
				t.Errorf("missing %+v", src.Missing)
			}
			if len(inv.Parts) != len(analyze.AllPrometheusParts)-len(failed) {
				t.Errorf("parts %v, want all but %v", inv.Parts, failed)
			}
		})
	}

	t.Run("A configuration that does not parse is an error for config.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartConfig], success(t, map[string]string{"yaml": "scrape_configs:\n- job_name: a\n  static_configs: [\n"}))

		inv, _ := collectLive(t, options(fake.start(t)))
		wantOnlyPartError(t, inv, analyze.PartConfig, "parsing the loaded configuration")
	})

	t.Run("An unreachable server is an error for every part, each saying the same thing without the URL.", func(t *testing.T) {
		t.Parallel()
		// Nothing listens there: the connection is refused.
		addr := servers.FreeAddress(t)

		inv, _ := collectLive(t, options("http://"+addr))
		src := inv.Sources[0]
		if len(src.Errors) != len(analyze.AllPrometheusParts) || len(inv.Parts) != 0 {
			t.Fatalf("errors %+v, parts %v; want an error for each part", src.Errors, inv.Parts)
		}
		for _, e := range src.Errors {
			if e.Err != src.Errors[0].Err || !strings.Contains(e.Err, "connection refused") || strings.Contains(e.Err, "/api/v1") {
				t.Errorf("%s: %q", e.Part, e.Err)
			}
		}
	})
}

func TestDroppedTargets(t *testing.T) {
	t.Parallel()

	t.Run("Without droppedTargetCounts (Prometheus 2), dropped targets are counted per pool, named by the job of their discovered labels.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartTargets], success(t, targetsData{
			ActiveTargets: []activeTarget{upTarget("node", 1)},
			DroppedTargets: []droppedTarget{
				{DiscoveredLabels: discovered("legacy-app", 1)},
				{DiscoveredLabels: discovered("legacy-app", 2)},
				{DiscoveredLabels: discovered("legacy-app", 3)},
				{DiscoveredLabels: discovered("kubernetes-pods", 4)},
				{DiscoveredLabels: map[string]string{"__address__": "10.0.0.9:80"}}, // no job label: no pool
			},
		}))
		// Without the configuration every name counts; with it, names it lacks would not.
		fake.set(apiPath[analyze.PartConfig], notFound)

		inv, _ := collectLive(t, options(fake.start(t)))
		for pool, want := range map[string]int{"legacy-app": 3, "kubernetes-pods": 1, "node": 0} {
			p := inv.Pool(pool)
			if p == nil || p.Dropped != want {
				t.Errorf("%s: %+v, want Dropped %d", pool, p, want)
			}
		}
		if inv.Pool("") != nil || inv.Job("") != nil {
			t.Errorf("pools %+v, jobs %+v: a dropped target without a job label made one named \"\"", inv.Pools, inv.Jobs)
		}
	})

	t.Run("A dropped target listed with its scrape pool is counted in that pool, whatever its discovered job label.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartTargets], success(t, targetsData{
			ActiveTargets:  []activeTarget{upTarget("node", 1)},
			DroppedTargets: []droppedTarget{{DiscoveredLabels: discovered("from-file-sd", 1), ScrapePool: "legacy-app"}},
		}))
		inv, _ := collectLive(t, options(fake.start(t)))
		if p := inv.Pool("legacy-app"); p == nil || p.Dropped != 1 || inv.Pool("from-file-sd") != nil {
			t.Errorf("pools %+v, want legacy-app with one dropped target", inv.Pools)
		}
	})

	t.Run("With droppedTargetCounts (Prometheus 3), the counts are used, not the possibly truncated list.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartTargets], success(t, targetsData{
			ActiveTargets: []activeTarget{upTarget("node", 1)},
			// keep_dropped_targets: 1 keeps one of the five in the list.
			DroppedTargets:      []droppedTarget{{DiscoveredLabels: discovered("legacy-app", 1), ScrapePool: "legacy-app"}},
			DroppedTargetCounts: map[string]int{"legacy-app": 5, "node": 0},
		}))

		inv, _ := collectLive(t, options(fake.start(t)))
		if p := inv.Pool("legacy-app"); p == nil || p.Dropped != 5 {
			t.Errorf("legacy-app: %+v, want Dropped 5", p)
		}
		if j := inv.Job("node"); j == nil || j.Dropped != 0 || j.Up != 1 {
			t.Errorf("node: %+v, want one target up and none dropped", j)
		}
	})
}

func TestRules(t *testing.T) {
	t.Parallel()

	t.Run("An alerting rule whose query does not parse is kept with its parse error.", func(t *testing.T) {
		t.Parallel()
		type rule struct {
			Name   string            `json:"name"`
			Query  string            `json:"query"`
			Labels map[string]string `json:"labels,omitempty"`
			Health string            `json:"health"`
			Type   string            `json:"type"`
		}
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartRules], success(t, map[string]any{"groups": []map[string]any{{
			"name":     "example",
			"file":     "/rules.yaml",
			"interval": 60,
			"rules": []rule{
				{Name: "Broken", Query: `up{job="node" == 0`, Health: "ok", Type: "alerting"},
				{Name: "HighRequestLatency", Query: `job:request_latency_seconds:mean5m{job="myjob"} > 0.5`, Labels: map[string]string{"severity": "page"}, Health: "ok", Type: "alerting"},
				{Name: "job:http_inprogress_requests:sum", Query: "sum by (job) (http_inprogress_requests)", Health: "ok", Type: "recording"},
			},
		}}}))

		inv, _ := collectLive(t, options(fake.start(t)))
		rules := inv.Rules()
		if len(rules) != 3 {
			t.Fatalf("%d rules, want 3", len(rules))
		}
		broken := rules[0]
		if broken.Name != "Broken" || broken.Kind != analyze.RuleAlerting || broken.ParseError == "" || broken.Parsed != nil {
			t.Errorf("broken rule: %+v, want kept with a parse error", broken)
		}
		for _, r := range rules[1:] {
			if r.ParseError != "" || r.Parsed == nil {
				t.Errorf("%s: parse error %q", r.Name, r.ParseError)
			}
		}
		if g := inv.RuleGroups[0]; g.Name != "example" || g.File != "/rules.yaml" || g.Interval.Seconds() != 60 {
			t.Errorf("group %+v", g)
		}
		if rules[1].Labels["severity"] != "page" || rules[2].Kind != analyze.RuleRecording {
			t.Errorf("rules %+v", rules[1:])
		}
		if len(inv.Sources[0].Errors) != 0 {
			t.Errorf("errors %+v", inv.Sources[0].Errors)
		}
	})
}

func TestRecorder(t *testing.T) {
	t.Parallel()

	t.Run("The recorder keeps one response per endpoint and query, in endpoint order, with status and content type.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		fake.set(apiPath[analyze.PartConfig], notFound)

		_, rec := collectLive(t, options(fake.start(t)))
		got := rec.Responses()
		// job_metrics is queried twice: business candidates and ruleset signatures.
		parts := slices.Clone(analyze.AllPrometheusParts)
		i := slices.Index(parts, analyze.PartJobMetrics)
		parts = slices.Insert(parts, i, analyze.PartJobMetrics)
		if len(got) != len(parts) {
			t.Fatalf("%d responses, want %d", len(got), len(parts))
		}
		for i, r := range got {
			part := parts[i]
			if r.Part != part || r.Path != apiPath[part] || r.Error != "" || len(r.Body) == 0 {
				t.Errorf("response %d: %s %s error %q, %d bytes", i, r.Part, r.Path, r.Error, len(r.Body))
			}
			want := 200
			if part == analyze.PartConfig {
				want = 404
			}
			if r.Status != want {
				t.Errorf("%s: status %d, want %d", part, r.Status, want)
			}
		}
		if ct := got[0].ContentType; ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
	})

	t.Run("A replay without an endpoint's answer reports it as not recorded.", func(t *testing.T) {
		t.Parallel()
		fake := newFakePrometheus(t)
		_, live := collectLive(t, options(fake.start(t)))
		inv := replayWithout(t, live, func(r prometheus.Response) bool { return r.Part == analyze.PartMetadata })
		wantOnlyPartError(t, inv, analyze.PartMetadata, "not recorded in the snapshot")
	})
}

func TestCollectRecordsStorage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answer  func(t *testing.T) http.HandlerFunc
		want    analyze.Storage
		wantSet bool
	}{
		{"The configuration's remote_read and out-of-order window are recorded for the history.", func(t *testing.T) http.HandlerFunc {
			return success(t, map[string]string{"yaml": "remote_read:\n- url: http://lts:9201/read\nstorage:\n  tsdb:\n    out_of_order_time_window: 10m\n"})
		}, analyze.Storage{RemoteRead: true, OutOfOrderWindow: 10 * time.Minute}, true},
		{"A configuration that could not be read records nothing.", func(*testing.T) http.HandlerFunc { return notFound }, analyze.Storage{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakePrometheus(t)
			fake.set(apiPath[analyze.PartConfig], tc.answer(t))
			client, err := prometheus.NewClient(options(fake.start(t)))
			if err != nil {
				t.Fatal(err)
			}
			b := analyze.NewBuilder(collectedAt)
			prometheus.Collect(t.Context(), prometheus.NewRecorder(client), analyze.Source{Name: "main", Kind: "live"}, b, slog.New(slog.DiscardHandler))
			if got, ok := b.StorageOf("main"); ok != tc.wantSet || got != tc.want {
				t.Errorf("storage %+v (%v), want %+v (%v)", got, ok, tc.want, tc.wantSet)
			}
		})
	}
}

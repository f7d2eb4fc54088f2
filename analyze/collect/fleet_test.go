package collect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// tenant is what the fake Mimir holds for one tenant: up series (job, instance, value) and
// alerting rules (name, expression).
type tenant struct {
	up    [][3]string
	rules [][2]string
}

// fakeMimir answers the Prometheus-compatible paths Mimir documents under its
// <prometheus-http-prefix> (/prometheus): query, label values, metadata and rules. Every
// other path is a 404, as Mimir has no targets or scrape configuration API. A request
// without X-Scope-OrgID is refused with 401 "no org id", as Mimir does; the tenants seen are
// recorded so a test can assert every request carried one.
type fakeMimir struct {
	tenants map[string]tenant
	mu      sync.Mutex
	seen    map[string]int // tenant (or "" for none) → requests
}

func (f *fakeMimir) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	org := r.Header.Get("X-Scope-OrgID")
	f.mu.Lock()
	f.seen[org]++
	f.mu.Unlock()
	data, ok := f.tenants[org]
	if !ok {
		http.Error(w, "no org id", http.StatusUnauthorized)
		return
	}
	var body any
	switch r.URL.Path {
	case "/prometheus/api/v1/query":
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		result := []any{}
		if r.Form.Get("query") == "up" {
			for _, s := range data.up {
				result = append(result, map[string]any{
					"metric": map[string]string{"__name__": "up", "job": s[0], "instance": s[1]},
					"value":  []any{1795673162.0, s[2]},
				})
			}
		}
		body = map[string]any{"resultType": "vector", "result": result}
	case "/prometheus/api/v1/label/__name__/values":
		body = []string{"up"}
	case "/prometheus/api/v1/metadata":
		body = map[string]any{"up": []map[string]string{{"type": "gauge", "help": "1 if the target was scraped.", "unit": ""}}}
	case "/prometheus/api/v1/rules":
		rules := []any{}
		for _, a := range data.rules {
			rules = append(rules, map[string]any{
				"state": "inactive", "name": a[0], "query": a[1], "duration": 0, "labels": map[string]string{},
				"annotations": map[string]string{}, "alerts": []any{}, "health": "ok",
				"lastError": "", "type": "alerting", "lastEvaluation": "2026-11-26T06:00:00Z", "evaluationTime": 0.001,
			})
		}
		groups := []any{}
		if len(rules) > 0 {
			groups = append(groups, map[string]any{
				"name": "fleet", "file": "tenant-rules", "rules": rules, "interval": 60,
				"lastEvaluation": "2026-11-26T06:00:00Z", "evaluationTime": 0.001,
			})
		}
		body = map[string]any{"groups": groups}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": body})
}

func startMimir(t *testing.T, tenants map[string]tenant) (*fakeMimir, string) {
	t.Helper()
	f := &fakeMimir{tenants: tenants, seen: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func mimirSource(name, url, org, role string) collect.FleetSource {
	return collect.FleetSource{
		Name: name, Kind: collect.KindMimir, Role: role,
		HTTP: httpconfig.Options{URL: url, Headers: map[string]string{"X-Scope-OrgID": org}},
	}
}

// audit runs the fleet and returns the findings of every member, as "check key=value …".
func audit(t *testing.T, o collect.FleetOptions) ([]string, []collect.Member) {
	t.Helper()
	all := checks.All(checks.Options{})
	var found []string
	var members []collect.Member
	err := collect.RunFleet(context.Background(), o, func(m collect.Member) {
		members = append(members, m)
		for _, f := range checks.Run(m.Inventory, nil, all, checks.Policy{Scope: m.Scope}).Findings {
			if m.Owns(f) {
				found = append(found, findingKey(f))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(found)
	return found, members
}

func findingKey(f analyze.Finding) string {
	var parts []string
	for k, v := range f.Subject {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return f.Check + " " + strings.Join(parts, " ")
}

func TestFleetOfMimirTenants(t *testing.T) {
	f, url := startMimir(t, map[string]tenant{
		"team-a": {up: [][3]string{{"api", "10.0.0.1:8080", "1"}}, rules: [][2]string{{"ApiDown", `up{job="api"} == 0`}}},
		"team-b": {up: [][3]string{{"api", "10.0.1.1:8080", "0"}, {"db", "10.0.1.2:9187", "1"}}},
		"global": {rules: [][2]string{{"DbDown", `up{job="db"} == 0`}}},
	})

	t.Run("Each tenant is a source: jobs and target health come from up, and a rule covers only its tenant's jobs.", func(t *testing.T) {
		found, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{
			mimirSource("team-a", url, "team-a", ""), mimirSource("team-b", url, "team-b", ""),
		}})
		for _, want := range []string{
			"alerts/missing-up job=api source=team-b",
			"alerts/missing-up job=db source=team-b",
			"targets/down instance=10.0.1.1:8080 job=api source=team-b",
		} {
			if !slices.Contains(found, want) {
				t.Errorf("missing %q in %q", want, found)
			}
		}
		if slices.Contains(found, "alerts/missing-up job=api source=team-a") {
			t.Error("team-a's ApiDown does not count for team-a's api job")
		}
		if len(members) != 2 {
			t.Fatalf("%d members, want 2", len(members))
		}
		for _, m := range members {
			src := m.Inventory.Sources[0]
			if !src.OK() || src.Kind != "mimir" || !m.Inventory.Has(analyze.PartTargets) {
				t.Errorf("%s: source %+v, parts %v", m.Scope["source"], src, m.Inventory.Parts)
			}
			var missing []analyze.Part
			for _, p := range src.Missing {
				missing = append(missing, p.Part)
			}
			// No targets API (derived from up: a note), no scrape configuration, no buildinfo
			// and no Alertmanager discovery under the Prometheus prefix: the checks needing
			// them say they did not run.
			if !slices.Equal(missing, []analyze.Part{analyze.PartConfig, analyze.PartBuildInfo, analyze.PartAlertmanagers}) {
				t.Errorf("%s: missing %v, want config, buildinfo and alertmanagers", m.Scope["source"], missing)
			}
			if !slices.ContainsFunc(src.Notes, func(n string) bool { return strings.Contains(n, "derived from the up series") }) {
				t.Errorf("%s: notes %q do not say the targets come from up", m.Scope["source"], src.Notes)
			}
		}
	})

	t.Run("The rules of a ruler source cover the jobs of every other source.", func(t *testing.T) {
		found, _ := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{
			mimirSource("team-b", url, "team-b", ""), mimirSource("global", url, "global", collect.RoleRuler),
		}})
		if slices.Contains(found, "alerts/missing-up job=db source=team-b") {
			t.Errorf("the global ruler's DbDown does not cover team-b's db job: %q", found)
		}
		if !slices.Contains(found, "alerts/missing-up job=api source=team-b") {
			t.Errorf("team-b's api job is not reported: %q", found)
		}
		// The ruler's alert lacks a runbook: reported once, for the ruler, not per member.
		if !slices.Contains(found, "alerts/no-runbook rule=DbDown source=global") || slices.Contains(found, "alerts/no-runbook rule=DbDown source=team-b") {
			t.Errorf("the ruler's rule findings are not reported once, for the ruler: %q", found)
		}
	})

	t.Run("Every request carried the tenant header.", func(t *testing.T) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.seen[""] != 0 || f.seen["team-a"] == 0 || f.seen["team-b"] == 0 || f.seen["global"] == 0 {
			t.Errorf("requests per tenant: %v", f.seen)
		}
	})

	t.Run("A tenant Mimir refuses makes its source fail, not the fleet.", func(t *testing.T) {
		_, members := audit(t, collect.FleetOptions{Sources: []collect.FleetSource{
			mimirSource("team-a", url, "team-a", ""), mimirSource("nobody", url, "nobody", ""),
		}})
		for _, m := range members {
			ok := m.Inventory.Sources[0].OK()
			if want := m.Scope["source"] == "team-a"; ok != want {
				t.Errorf("%s: ok = %v, errors %v", m.Scope["source"], ok, m.Inventory.Sources[0].Errors)
			}
		}
	})
}

func TestFleetOptions(t *testing.T) {
	t.Run("A fleet with unnamed, duplicate or unknown sources is refused with the entry named.", func(t *testing.T) {
		src := func(name string, kind collect.SourceKind, role string) collect.FleetSource {
			return collect.FleetSource{Name: name, Kind: kind, Role: role, HTTP: httpconfig.Options{URL: "http://localhost:9090"}}
		}
		for want, sources := range map[string][]collect.FleetSource{
			"prometheus[1]: a source of a fleet needs a name":        {src("a", "", ""), src("", "", "")},
			`prometheus[1]: the name "a" is used twice`:              {src("a", "", ""), src("a", "", "")},
			`prometheus[0] (a): unknown kind "victoria"`:             {src("a", "victoria", "")},
			`prometheus[0] (a): unknown role "querier" (want ruler)`: {src("a", "", "querier")},
			`prometheus[0] (a): member label "source"`:               {{Name: "a", Kind: collect.KindThanos, MemberLabels: []string{"source"}, HTTP: httpconfig.Options{URL: "http://q:10902"}}},
		} {
			err := collect.FleetOptions{Sources: sources}.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want %s…", err, want)
			}
		}
	})
}

func TestFleetHistoryOfThanos(t *testing.T) {
	t.Run("A Thanos source's history is not read, its source says why, and the snapshot records the note.", func(t *testing.T) {
		var mu sync.Mutex
		var ranges int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/query_range") {
				mu.Lock()
				ranges++
				mu.Unlock()
			}
			http.NotFound(w, r)
		}))
		t.Cleanup(srv.Close)
		var recorded []*prometheus.HistoryResult
		o := collect.FleetOptions{
			Sources: []collect.FleetSource{{Name: "global", Kind: collect.KindThanos, HTTP: httpconfig.Options{URL: srv.URL, Timeout: 5 * time.Second}}},
			History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour},
			RecordHistory: func(_ collect.FleetSource, h *prometheus.HistoryResult) {
				mu.Lock()
				defer mu.Unlock()
				recorded = append(recorded, h)
			},
		}
		var sources [][]string
		err := collect.RunFleet(context.Background(), o, func(m collect.Member) {
			if m.Inventory.Has(analyze.PartHistory) {
				t.Errorf("member %v holds the history part", m.Scope)
			}
			sources = append(sources, m.Inventory.Sources[0].Notes)
		})
		if err != nil {
			t.Fatal(err)
		}
		note := "history: not read of a Thanos source, whose members it would not tell apart"
		if len(sources) == 0 || !slices.Contains(sources[0], note) || ranges != 0 {
			t.Errorf("notes %q after %d range queries, want %q and none", sources, ranges, note)
		}
		if len(recorded) != 1 || recorded[0].OK || !slices.Equal(recorded[0].Notes, []string{note}) {
			t.Errorf("recorded %+v", recorded)
		}
	})
}

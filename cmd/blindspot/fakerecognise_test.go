package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/blindspot-dev/blindspot/internal/fakeprom"
)

// thanosQueryHandler answers as a Thanos Query v0.42.4 in front of two clusters, a and b,
// each scraping a job api whose target is down: the recorded targets, stores and build
// information (analyze/collect/testdata/thanos-v0.42.4), the recorded rules without cluster
// b's group (so only cluster a has an alert on api), the up series of both targets, and 404
// for the configuration, as Thanos answers.
func thanosQueryHandler(repo string) (http.Handler, error) {
	dir := filepath.Join(repo, "analyze", "collect", "testdata", "thanos-v0.42.4")
	bodies := map[string][]byte{}
	for path, file := range map[string]string{
		"/api/v1/targets":          filepath.Join(dir, "targets.json"),
		"/api/v1/rules":            filepath.Join(dir, "rules.json"),
		"/api/v1/stores":           filepath.Join(dir, "stores.json"),
		"/api/v1/status/buildinfo": filepath.Join(repo, "analyze", "collect", "prometheus", "testdata", "thanos-v0.42.4-buildinfo.json"),
	} {
		body, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		bodies[path] = body
	}
	var err error
	var rules struct {
		Status string `json:"status"`
		Data   struct {
			Groups []map[string]any `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(bodies["/api/v1/rules"], &rules); err != nil {
		return nil, err
	}
	var onlyA []map[string]any
	for _, g := range rules.Data.Groups {
		rs, err := json.Marshal(g["rules"])
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(rs), `"cluster":"a"`) {
			onlyA = append(onlyA, g)
		}
	}
	rules.Data.Groups = onlyA
	if bodies["/api/v1/rules"], err = json.Marshal(rules); err != nil {
		return nil, err
	}
	up := func(instance, cluster string) fakeprom.Sample {
		return fakeprom.Sample{Labels: map[string]string{"job": "api", "instance": instance, "cluster": cluster}, Value: "0"}
	}
	h := fakeprom.Handler(bodies, []fakeprom.Sample{up("127.0.0.1:38869", "a"), up("127.0.0.1:46759", "b")})
	// Audited as one Prometheus (kind: prometheus), it is asked the history: it has none.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !emptyHistory(w, r) {
			h.ServeHTTP(w, r)
		}
	}), nil
}

// mimirHandler answers as a Mimir with multi-tenancy on, as its HTTP API documentation
// says: the build information (recorded) at the root and under /prometheus without a
// tenant, and 401 "no org id" for every other request without X-Scope-OrgID. With one, the
// /prometheus API holds no series and no rules.
func mimirHandler(repo string) (http.Handler, error) {
	buildinfo, err := os.ReadFile(filepath.Join(repo, "analyze", "collect", "prometheus", "testdata", "mimir-buildinfo.json"))
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/api/v1/status/buildinfo") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(buildinfo)
			return
		}
		if r.Header.Get("X-Scope-OrgID") == "" {
			http.Error(w, "no org id", http.StatusUnauthorized)
			return
		}
		var data any
		switch r.URL.Path {
		case "/prometheus/api/v1/query":
			data = map[string]any{"resultType": "vector", "result": []any{}}
		case "/prometheus/api/v1/label/__name__/values":
			data = []string{}
		case "/prometheus/api/v1/metadata":
			data = map[string]any{}
		case "/prometheus/api/v1/rules":
			data = map[string]any{"groups": []any{}}
		case "/prometheus/api/v1/query_range":
			data = map[string]any{"resultType": "matrix", "result": []any{}}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
	}), nil
}

package servers

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// AddRuleFiles adds rule files to the scenario's Prometheus, reloads it and waits until every
// group of those files has been evaluated once.
func (s *Scenario) AddRuleFiles(t testing.TB, files ...string) {
	t.Helper()
	data, err := os.ReadFile(s.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	ruleFiles, _ := cfg["rule_files"].([]any)
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		ruleFiles = append(ruleFiles, abs)
	}
	cfg["rule_files"] = ruleFiles
	writeYAML(t, s.ConfigFile, cfg)

	client := &http.Client{Timeout: 10 * time.Second}
	postReload(t, client, s.PrometheusURL, "Prometheus")

	deadline := time.Now().Add(ReadyTimeout)
	for {
		pending, err := s.pendingFiles(client, files)
		if err == nil && len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the added rule files were not loaded and evaluated within %s: %v %v", ReadyTimeout, err, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pendingFiles lists what is missing before every group of files has been evaluated.
func (s *Scenario) pendingFiles(client *http.Client, files []string) ([]string, error) {
	var rules rulesData
	if err := getAPI(client, s.PrometheusURL, "/api/v1/rules", &rules); err != nil {
		return nil, err
	}
	loaded := map[string]bool{}
	var pending []string
	for _, g := range rules.Groups {
		abs := g.File
		for _, f := range files {
			if a, _ := filepath.Abs(f); a == abs {
				loaded[f] = true
				for _, r := range g.Rules {
					if r.LastEvaluation.IsZero() {
						pending = append(pending, fmt.Sprintf("rule %q not evaluated yet", r.Name))
					}
				}
			}
		}
	}
	for _, f := range files {
		if !loaded[f] && !slices.Contains(pending, f) {
			pending = append(pending, fmt.Sprintf("no group of %s loaded", f))
		}
	}
	// A reload restarts the notifier's discovery: Prometheus 2.x lists no Alertmanager for a
	// moment, and an audit then would not read it.
	am, err := s.pendingAlertmanager(client)
	if err != nil {
		return nil, err
	}
	return append(pending, am...), nil
}

// postReload asks a Prometheus-like server (Prometheus, Thanos Ruler) to reload its
// configuration through its lifecycle endpoint.
func postReload(t testing.TB, client *http.Client, baseURL, what string) {
	t.Helper()
	resp, err := client.Post(baseURL+"/-/reload", "", nil)
	if err != nil {
		t.Fatalf("reloading %s: %v", what, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reloading %s: HTTP %d (see its log)", what, resp.StatusCode)
	}
}

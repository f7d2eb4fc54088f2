package servers

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// EnvThanos is the Thanos binary (sidecar and query), as printed by scripts/test-deps.sh.
const EnvThanos = "BLINDSPOT_TEST_THANOS"

// ThanosVersion is the Thanos test-deps.sh builds.
const ThanosVersion = "v0.42.4"

// FindThanos resolves the Thanos binary like Find resolves the others.
func FindThanos(t testing.TB) string {
	t.Helper()
	var path string
	fallback := ""
	if cache := cacheDir(); cache != "" {
		fallback = filepath.Join(cache, "thanos-"+ThanosVersion, "thanos")
	}
	require(t, []lookup{{EnvThanos, fallback, &path}})
	return path
}

// Alert is one alerting rule of a fleet member's rule file.
type Alert struct {
	Name string
	Expr string
	// Annotations are the alert's annotations (runbook_url…).
	Annotations map[string]string
}

// PrometheusOptions describe a plain Prometheus of a fleet test.
type PrometheusOptions struct {
	// ExternalLabels identify the server (cluster, replica).
	ExternalLabels map[string]string
	// Jobs maps job names to the addresses of their static targets. An address where nothing
	// listens makes a target that is down.
	Jobs map[string][]string
	// Alerts go into one rule group, "fleet".
	Alerts []Alert
	// ForThanos sets the 2h block durations a Thanos sidecar needs.
	ForThanos bool
}

// Prometheus is a running server started by StartPrometheus.
type Prometheus struct {
	URL     string
	DataDir string
	Process *Process
}

// StartPrometheus starts the Prometheus at binary with the given jobs and alerts and returns
// once every target was scraped. It is stopped when the test ends.
func StartPrometheus(t testing.TB, binary string, o PrometheusOptions) *Prometheus {
	t.Helper()
	addr, dir := FreeAddress(t), t.TempDir()
	p := &Prometheus{URL: "http://" + addr, DataDir: filepath.Join(dir, "data")}
	cfg := promConfig{
		Global: globalConfig{
			ScrapeInterval:     scenarioInterval,
			ScrapeTimeout:      scenarioInterval,
			EvaluationInterval: scenarioInterval,
			ExternalLabels:     o.ExternalLabels,
		},
	}
	want := 0
	for _, job := range slices.Sorted(maps.Keys(o.Jobs)) {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, scrapeConfig{JobName: job, StaticConfigs: []staticConfig{{Targets: o.Jobs[job]}}})
		want += len(o.Jobs[job])
	}
	if len(o.Alerts) > 0 {
		g := ruleGroup{Name: "fleet"}
		for _, a := range o.Alerts {
			g.Rules = append(g.Rules, rule{Alert: a.Name, Expr: a.Expr, Annotations: a.Annotations})
		}
		rules := filepath.Join(dir, "rules.yml")
		writeYAML(t, rules, ruleFile{Groups: []ruleGroup{g}})
		cfg.RuleFiles = []string{rules}
	}
	config := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, config, cfg)
	args := []string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + p.DataDir,
		"--web.listen-address=" + addr,
		"--scrape.discovery-reload-interval=100ms",
	}
	if o.ForThanos {
		args = append(args, "--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h")
	}
	p.Process = StartProcess(t, "prometheus-"+addr, binary, args...)
	p.Process.WaitReady(t, p.URL+"/-/ready")
	waitScraped(t, p.URL, want)
	return p
}

// waitScraped polls the targets API until want active targets have been scraped once.
func waitScraped(t testing.TB, base string, want int) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	for {
		var data targetsData
		err := getAPI(client, base, "/api/v1/targets", &data)
		scraped := 0
		for _, a := range data.ActiveTargets {
			if a.Health != "unknown" {
				scraped++
			}
		}
		if err == nil && scraped >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d targets scraped after %s (last error: %v)", base, scraped, want, ReadyTimeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// Sidecar is a running Thanos sidecar.
type Sidecar struct {
	GRPCAddress string
	Process     *Process
}

// StartSidecar starts a Thanos sidecar next to p, once p is ready (a sidecar started earlier
// retries only every ~30 s).
func StartSidecar(t testing.TB, thanos string, p *Prometheus) *Sidecar {
	t.Helper()
	grpc, http := FreeAddress(t), FreeAddress(t)
	s := &Sidecar{GRPCAddress: grpc}
	s.Process = StartProcess(t, "thanos-sidecar-"+grpc, thanos, "sidecar",
		"--tsdb.path="+p.DataDir,
		"--prometheus.url="+p.URL,
		"--grpc-address="+grpc,
		"--http-address="+http)
	s.Process.WaitReady(t, "http://"+http+"/-/ready")
	return s
}

// Query is a running Thanos Query.
type Query struct {
	URL     string
	Process *Process
}

// StartQuery starts a Thanos Query in front of the given store endpoints and returns once
// every one of them is listed as healthy in /api/v1/stores.
func StartQuery(t testing.TB, thanos string, endpoints ...string) *Query {
	t.Helper()
	addr := FreeAddress(t)
	q := &Query{URL: "http://" + addr}
	args := []string{"query", "--http-address=" + addr, "--grpc-address=" + FreeAddress(t), "--query.replica-label=replica"}
	for _, e := range endpoints {
		args = append(args, "--endpoint="+e)
	}
	q.Process = StartProcess(t, "thanos-query", thanos, args...)
	q.Process.WaitReady(t, q.URL+"/-/ready")
	q.WaitStores(t, len(endpoints), 0)
	return q
}

// WaitStores polls /api/v1/stores until it lists healthy stores and unhealthy ones in the
// given numbers.
func (q *Query) WaitStores(t testing.TB, healthy, unhealthy int) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	for {
		var data map[string][]struct {
			Name      string  `json:"name"`
			LastError *string `json:"lastError"`
		}
		err := getAPI(client, q.URL, "/api/v1/stores", &data)
		h, u := 0, 0
		for _, stores := range data {
			for _, s := range stores {
				if s.LastError != nil && *s.LastError != "" {
					u++
				} else {
					h++
				}
			}
		}
		if err == nil && h == healthy && u == unhealthy {
			return
		}
		if time.Now().After(deadline) {
			raw, _ := json.Marshal(data)
			t.Fatalf("thanos query: want %d healthy and %d unhealthy stores, have %d and %d after %s (last error: %v): %s",
				healthy, unhealthy, h, u, ReadyTimeout, err, raw)
		}
		time.Sleep(pollInterval)
	}
}

// Ruler is a running Thanos Ruler evaluating the rule files in RuleDir through a Query.
type Ruler struct {
	URL     string
	RuleDir string
	Process *Process
}

// StartRuler starts a Thanos Ruler that evaluates RuleDir/*.yaml (empty at first) every
// second against the given Query; AddRuleFiles loads more.
func StartRuler(t testing.TB, thanos string, q *Query) *Ruler {
	t.Helper()
	addr, dir := FreeAddress(t), t.TempDir()
	r := &Ruler{URL: "http://" + addr, RuleDir: filepath.Join(dir, "rules")}
	if err := os.MkdirAll(r.RuleDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.Process = StartProcess(t, "thanos-rule", thanos, "rule",
		"--data-dir="+filepath.Join(dir, "data"),
		"--rule-file="+filepath.Join(r.RuleDir, "*.yaml"),
		"--query="+q.URL,
		"--eval-interval=1s",
		"--http-address="+addr,
		"--grpc-address="+FreeAddress(t))
	r.Process.WaitReady(t, r.URL+"/-/ready")
	return r
}

// AddRuleFiles copies rule files into the ruler's directory, reloads it and returns once
// /api/v1/rules lists as many groups as there are files in the directory.
func (r *Ruler) AddRuleFiles(t testing.TB, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.RuleDir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loaded, _ := filepath.Glob(filepath.Join(r.RuleDir, "*.yaml"))
	client := &http.Client{Timeout: 2 * time.Second}
	postReload(t, client, r.URL, "the ruler")
	deadline := time.Now().Add(ReadyTimeout)
	for {
		var data rulesData
		err := getAPI(client, r.URL, "/api/v1/rules", &data)
		if err == nil && len(data.Groups) >= len(loaded) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ruler lists %d rule groups after the reload, want %d (last error: %v)", len(data.Groups), len(loaded), err)
		}
		time.Sleep(pollInterval)
	}
}

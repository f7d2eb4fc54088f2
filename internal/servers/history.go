package servers

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// HistoryPrometheusOptions describe a Prometheus started on a history written beforehand.
type HistoryPrometheusOptions struct {
	// OpenMetrics is the history: `name{labels} value unix_seconds` lines, one `# TYPE` block
	// per family, families not interleaved, ending with `# EOF`. It must end before now: the
	// blocks it gives must not reach the head. Empty writes no history.
	OpenMetrics string
	// Retention is --storage.tsdb.retention.time (default 30d, longer than any history here).
	Retention string
	// Jobs maps job names to the addresses of their static targets, scraped with
	// honor_labels so that a target may expose the series of other jobs.
	Jobs map[string][]string
	// Probes maps job names to the targets the blackbox exporter at Blackbox (host:port,
	// StartBlackboxExporter) probes for them.
	Probes   map[string][]string
	Blackbox string
	// RuleFiles are rule files the server loads (rule_files), by absolute path.
	RuleFiles []string
}

// StartPrometheusWithHistory writes o.OpenMetrics into a new data directory with the promtool
// beside binary (or on PATH), `promtool tsdb create-blocks-from openmetrics`, then starts the
// Prometheus at binary on it and returns once every target was scraped.
func StartPrometheusWithHistory(t testing.TB, binary string, o HistoryPrometheusOptions) *Prometheus {
	t.Helper()
	addr, dir := FreeAddress(t), t.TempDir()
	p := &Prometheus{URL: "http://" + addr, DataDir: filepath.Join(dir, "data")}
	if o.OpenMetrics != "" {
		promtool := filepath.Join(filepath.Dir(binary), "promtool")
		if _, err := os.Stat(promtool); err != nil {
			if promtool, err = exec.LookPath("promtool"); err != nil {
				t.Fatalf("no promtool beside %s nor on PATH: %v", binary, err)
			}
		}
		input := filepath.Join(dir, "history.om")
		if err := os.WriteFile(input, []byte(o.OpenMetrics), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", input, p.DataDir).CombinedOutput(); err != nil {
			t.Fatalf("%s tsdb create-blocks-from openmetrics: %v\n%s", promtool, err, out)
		}
	}
	cfg := promConfig{Global: globalConfig{ScrapeInterval: scenarioInterval, ScrapeTimeout: scenarioInterval, EvaluationInterval: scenarioInterval}}
	want := 0
	for _, job := range slices.Sorted(maps.Keys(o.Jobs)) {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, scrapeConfig{JobName: job, HonorLabels: true, StaticConfigs: []staticConfig{{Targets: o.Jobs[job]}}})
		want += len(o.Jobs[job])
	}
	for _, job := range slices.Sorted(maps.Keys(o.Probes)) {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, probeScrapeConfig(job, o.Blackbox, o.Probes[job]))
		want += len(o.Probes[job])
	}
	cfg.RuleFiles = o.RuleFiles
	config := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, config, cfg)
	retention := o.Retention
	if retention == "" {
		retention = "30d"
	}
	p.Process = StartProcess(t, "prometheus-"+addr, binary,
		"--config.file="+config,
		"--storage.tsdb.path="+p.DataDir,
		"--storage.tsdb.retention.time="+retention,
		"--web.listen-address="+addr,
	)
	p.Process.WaitReady(t, p.URL+"/-/ready")
	waitScraped(t, p.URL, want)
	return p
}

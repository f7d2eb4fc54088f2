package servers

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvBlackboxExporter names Debian's prometheus-blackbox-exporter, as scripts/test-deps.sh
// prints it.
const EnvBlackboxExporter = "BLINDSPOT_TEST_BLACKBOX_EXPORTER"

// FindBlackboxExporter resolves the blackbox exporter. A missing one skips the test, or fails
// it in CI (CI set) or when its variable names it, where a test must not pass because nothing
// was installed.
func FindBlackboxExporter(t testing.TB) string {
	t.Helper()
	name := os.Getenv(EnvBlackboxExporter)
	if name == "" {
		name = "/usr/bin/prometheus-blackbox-exporter"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		msg := EnvBlackboxExporter + ": " + err.Error() + `; run eval "$(scripts/test-deps.sh)"`
		if os.Getenv("CI") != "" || !testing.Short() && os.Getenv(EnvBlackboxExporter) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// blackboxConfig is the blackbox exporter's configuration: one HTTP module with a short
// timeout, so that a refused connection fails the probe at once.
type blackboxConfig struct {
	Modules map[string]blackboxModule `yaml:"modules"`
}

type blackboxModule struct {
	Prober  string `yaml:"prober"`
	Timeout string `yaml:"timeout"`
}

// BlackboxModule is the module StartBlackboxExporter configures: an HTTP probe wanting a 2xx.
const BlackboxModule = "http_2xx"

// StartBlackboxExporter starts the blackbox exporter at binary with BlackboxModule and returns
// its address (host:port) once it is ready.
func StartBlackboxExporter(t testing.TB, binary string) string {
	t.Helper()
	addr := FreeAddress(t)
	config := filepath.Join(t.TempDir(), "blackbox.yml")
	writeYAML(t, config, blackboxConfig{Modules: map[string]blackboxModule{BlackboxModule: {Prober: "http", Timeout: "2s"}}})
	p := StartProcess(t, "blackbox-exporter-"+addr, binary, "--config.file="+config, "--web.listen-address="+addr)
	p.WaitReady(t, "http://"+addr+"/-/healthy")
	return addr
}

// probeScrapeConfig scrapes the blackbox exporter at blackbox for each of targets, the usual
// way: the target is the probe's parameter and its instance label.
func probeScrapeConfig(job, blackbox string, targets []string) scrapeConfig {
	return scrapeConfig{
		JobName:       job,
		MetricsPath:   "/probe",
		Params:        map[string][]string{"module": {BlackboxModule}},
		StaticConfigs: []staticConfig{{Targets: targets}},
		RelabelConfigs: []relabelConfig{
			{SourceLabels: []string{"__address__"}, TargetLabel: "__param_target", Action: "replace"},
			{SourceLabels: []string{"__param_target"}, TargetLabel: "instance", Action: "replace"},
			{TargetLabel: "__address__", Replacement: blackbox, Action: "replace"},
		},
	}
}

package pipelines

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// runPromtail pipes lines through the real Promtail with stages as the pipeline of its stdin
// target (--stdin --dry-run: entries are printed, not sent) and returns what it printed for
// each line.
func runPromtail(t *testing.T, bin string, stages []promtailStage, lines []string) []string {
	t.Helper()
	dir := t.TempDir()
	type staticConfig struct {
		Labels map[string]string `yaml:"labels"`
	}
	type scrapeConfig struct {
		JobName        string          `yaml:"job_name"`
		PipelineStages []promtailStage `yaml:"pipeline_stages"`
		StaticConfigs  []staticConfig  `yaml:"static_configs"`
	}
	cfg := struct {
		Server        map[string]int      `yaml:"server"`
		Positions     map[string]string   `yaml:"positions"`
		Clients       []map[string]string `yaml:"clients"`
		ScrapeConfigs []scrapeConfig      `yaml:"scrape_configs"`
	}{
		Server:        map[string]int{"http_listen_port": 0, "grpc_listen_port": 0},
		Positions:     map[string]string{"filename": filepath.Join(dir, "positions.yaml")},
		Clients:       []map[string]string{{"url": "http://127.0.0.1:1/loki/api/v1/push"}},
		ScrapeConfigs: []scrapeConfig{{JobName: "blindspot", PipelineStages: stages, StaticConfigs: []staticConfig{{Labels: map[string]string{"job": "blindspot"}}}}},
	}
	content, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "promtail.yaml")
	if err := os.WriteFile(config, content, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config.file="+config, "-stdin", "-dry-run", "-log.level=warn")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("promtail: %v\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("promtail did not finish:\n%s", stderr.String())
	}
	var out []string
	for _, row := range strings.Split(stdout.String(), "\n") {
		// time, labels, entry: the entry may hold tabs.
		if f := strings.SplitN(row, "\t", 3); len(f) == 3 && f[1] == `{job="blindspot"}` {
			out = append(out, f[2])
		}
	}
	if len(out) != len(lines) {
		t.Fatalf("promtail printed %d entries for %d lines:\n%s\n%s", len(out), len(lines), stdout.String(), stderr.String())
	}
	return out
}

// promtailLines keeps the lines that come back from Promtail's stdin target and dry-run
// printer as the stages left them: one line each, not empty, no trailing carriage return
// (the target's reader), and neither tabs nor 0xff bytes (the printer is a text/tabwriter,
// which aligns tab-separated cells and takes 0xff as its escape).
func promtailLines(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool {
		return l == "" || strings.ContainsAny(l, "\n\t\xff") || strings.HasSuffix(l, "\r")
	})
}

func TestPromtailMasksEveryPatternExactlyAsGo(t *testing.T) {
	bin := servers.Promtail(t)
	ps := patterns(t)
	var doc struct {
		PipelineStages []promtailStage `yaml:"pipeline_stages"`
	}
	if err := yaml.Unmarshal(file(t, generateFiles(t, nil, Options{Scope: ScopeAll}), PromtailPath), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.PipelineStages) != len(ps) {
		t.Fatalf("%d stages for %d patterns", len(doc.PipelineStages), len(ps))
	}
	// Every pattern of the embedded rule set, so that a new one is covered without a change here.
	for i, p := range ps {
		t.Run("Promtail 1.6.1 masks the "+p.ID+" samples exactly as Go does.", func(t *testing.T) {
			lines := promtailLines(maskingLines(t, p))
			for j, got := range runPromtail(t, bin, doc.PipelineStages[i:i+1], lines) {
				if want := secrets.Mask(lines[j], []rulesets.SecretPattern{p}); got != want {
					t.Errorf("%q\n became %q\n want   %q", lines[j], got, want)
				}
			}
		})
	}
	t.Run("Promtail 1.6.1 with every stage leaves no secret in any sample.", func(t *testing.T) {
		var lines []string
		for _, p := range ps {
			lines = append(lines, promtailLines(maskingLines(t, p))...)
		}
		for j, got := range runPromtail(t, bin, doc.PipelineStages, lines) {
			for _, m := range secrets.Scan(got, ps) {
				if m.End > m.Start {
					t.Errorf("%q became %q, which still holds a %s secret", lines[j], got, m.Pattern)
				}
			}
		}
	})
}

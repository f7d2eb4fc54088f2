package selfwatch_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
	"github.com/blindspot-dev/blindspot/generate/selfwatch"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// write renders the rule file, its unit tests and runbooks into dir, as generate does.
func write(t *testing.T, dir string, o generate.Options) generate.RuleFile {
	t.Helper()
	rf := selfwatch.RuleFile(o)
	content, err := rules.Render(rf, o)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := unittests.Render(rf, o)
	if err != nil {
		t.Fatal(err)
	}
	files := []generate.File{
		{Path: "rules/" + rf.Name + ".yaml", Content: content},
		{Path: "rules/tests/" + rf.Name + ".test.yaml", Content: tests},
	}
	for _, a := range rf.Alerts {
		rb, err := runbooks.Render(a, o)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rb)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rf
}

func TestSelfWatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stale time.Duration
		want  string
	}{
		{"The default: a check that has not succeeded for 36h.", 0, "> 129600"},
		{"A configured threshold: 8h for a check that runs every hour.", 8 * time.Hour, "> 28800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rf := write(t, dir, generate.Options{CheckStaleAfter: tc.stale})
			rulesFile := filepath.Join(dir, "rules", selfwatch.FileName+".yaml")
			data, err := os.ReadFile(rulesFile)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				"alert: " + selfwatch.AlertCheckStale,
				"time() - max(blindspot_last_success_timestamp_seconds) " + tc.want + " or absent(blindspot_last_success_timestamp_seconds)",
				"alert: " + selfwatch.AlertNewGaps,
				"sum by (check) (blindspot_new_findings) > 0",
				"runbook_url: runbooks/BlindspotCheckStale.md",
			} {
				if !strings.Contains(string(data), want) {
					t.Errorf("%s lacks %q:\n%s", rulesFile, want, data)
				}
			}
			if len(rf.Alerts) != 2 {
				t.Fatalf("%d alerts, want 2", len(rf.Alerts))
			}

			t.Run("Both promtools accept the rules and pass their unit tests: stale, absent, new gaps fire; healthy worlds stay silent.", func(t *testing.T) {
				servers.ForEachPromtool(t, func(t *testing.T, promtool string) {
					for _, args := range [][]string{
						{"check", "rules", rulesFile},
						{"test", "rules", filepath.Join(dir, "rules", "tests", selfwatch.FileName+".test.yaml")},
					} {
						if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
							t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
						}
					}
				})
			})
		})
	}

	t.Run("The unit tests feed the absent world too.", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, generate.Options{})
		data, err := os.ReadFile(filepath.Join(dir, "rules", "tests", selfwatch.FileName+".test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "BlindspotCheckStale fires in failing world 2") {
			t.Errorf("no absent world:\n%s", data)
		}
	})

	t.Run("The runbooks say what the alert means and what to do, with the series it reads.", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, generate.Options{})
		for _, name := range []string{selfwatch.AlertCheckStale, selfwatch.AlertNewGaps} {
			data, err := os.ReadFile(filepath.Join(dir, "runbooks", name+".md"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(data)
			for _, want := range []string{"# " + name + "\n", "An alert on `blindspot check` itself", "## Impact\n\nThe monitoring", "## Diagnosis\n\nThe gap metrics", "- [ ] "} {
				if name == selfwatch.AlertCheckStale && want == "## Impact\n\nThe monitoring" {
					want = "## Impact\n\nNobody learns"
				}
				if !strings.Contains(page, want) {
					t.Errorf("runbook of %s lacks %q:\n%s", name, want, page)
				}
			}
			if strings.Contains(page, "The job's logs") || strings.Contains(page, "<no value>") {
				t.Errorf("runbook of %s has job-centric or missing text:\n%s", name, page)
			}
		}
	})
}

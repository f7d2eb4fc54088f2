package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze/baseline"
)

// TestCIDocs keeps the examples of docs/ci.md working: the YAML parses, and every flag the
// examples give `blindspot check` exists.
func TestCIDocs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(\\w+)\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	check, _, err := newApp(io.Discard, io.Discard).root.Find([]string{"check"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Every YAML example parses, and the CI ones are what their systems expect.", func(t *testing.T) {
		var n int
		for _, b := range blocks {
			if b[1] != "yaml" {
				continue
			}
			n++
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(b[2]), &doc); err != nil {
				t.Errorf("YAML example does not parse: %v\n%s", err, b[2])
				continue
			}
			if jobs, ok := doc["jobs"].(map[string]any); ok {
				if _, ok := doc["on"]; !ok || len(jobs) == 0 {
					t.Errorf("the GitHub Actions workflow lacks on: or jobs:")
				}
			}
			if job, ok := doc["blindspot"].(map[string]any); ok {
				reports, _ := job["artifacts"].(map[string]any)["reports"].(map[string]any)
				if reports["junit"] != "blindspot.xml" {
					t.Errorf("the GitLab job does not report its JUnit file: %v", job["artifacts"])
				}
			}
		}
		if n < 3 {
			t.Errorf("%d YAML examples, want the ignore entry, GitHub Actions and GitLab CI", n)
		}
	})

	t.Run("The baseline example is a valid baseline.", func(t *testing.T) {
		for _, b := range blocks {
			if b[1] == "json" {
				if _, err := baseline.Parse("docs/ci.md", []byte(b[2])); err != nil {
					t.Error(err)
				}
				return
			}
		}
		t.Error("docs/ci.md shows no baseline")
	})

	t.Run("Every flag given to blindspot check in an example exists.", func(t *testing.T) {
		var n int
		for _, b := range blocks {
			for _, line := range strings.Split(b[2], "\n") {
				_, cmdline, ok := strings.Cut(line, "blindspot check ")
				if !ok {
					continue
				}
				n++
				for _, f := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(cmdline, -1) {
					if check.Flags().Lookup(f[1]) == nil && check.InheritedFlags().Lookup(f[1]) == nil {
						t.Errorf("blindspot check has no flag --%s: %s", f[1], line)
					}
				}
			}
		}
		if n < 6 {
			t.Errorf("%d blindspot check command lines found in docs/ci.md", n)
		}
	})
}

package unittests_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtools are the promtool binaries every generated test file must pass, by the variable
// scripts/test-deps.sh prints for each.
var promtools = []struct{ name, env string }{
	{"Prometheus 3", "BLINDSPOT_TEST_PROMTOOL3"},
	{"Prometheus 2", "BLINDSPOT_TEST_PROMTOOL2"},
}

// forEachPromtool runs fn as a subtest with each promtool. A missing binary skips its
// subtest, or fails it in CI, where a test must not pass because nothing was installed.
func forEachPromtool(t *testing.T, fn func(t *testing.T, promtool string)) {
	t.Helper()
	for _, p := range promtools {
		t.Run(p.name, func(t *testing.T) {
			path := os.Getenv(p.env)
			if path == "" {
				missing(t, p.env+" is not set")
			}
			if _, err := exec.LookPath(path); err != nil {
				missing(t, p.env+": "+err.Error())
			}
			fn(t, path)
		})
	}
}

func missing(t *testing.T, why string) {
	t.Helper()
	msg := why + `; run eval "$(scripts/test-deps.sh)"`
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// promtool runs the binary with args from a working directory of its own, so that paths in
// the files can only resolve relative to the files themselves. It returns the combined output
// and whether promtool exited with 0.
func promtool(t *testing.T, bin string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running %s: %v", bin, err)
		}
		return string(out), false
	}
	return string(out), true
}

// checkAndTest runs `promtool check rules` on dir/rules/*.yaml and `promtool test rules` on
// dir/rules/tests/*.test.yaml, failing the test when either does.
func checkAndTest(t *testing.T, bin, dir string) {
	t.Helper()
	ruleFiles := glob(t, filepath.Join(dir, "rules", "*.yaml"))
	if out, ok := promtool(t, bin, append([]string{"check", "rules"}, ruleFiles...)...); !ok {
		t.Fatalf("promtool check rules failed:\n%s", out)
	}
	testFiles := glob(t, filepath.Join(dir, "rules", "tests", "*.test.yaml"))
	out, ok := promtool(t, bin, append([]string{"test", "rules"}, testFiles...)...)
	if !ok {
		t.Fatalf("promtool test rules failed:\n%s", out)
	}
	// A test file whose rule_files matched nothing passes with a warning only.
	if strings.Contains(out, "WARNING") {
		t.Fatalf("promtool test rules warned:\n%s", out)
	}
	t.Logf("promtool test rules %d files:\n%s", len(testFiles), out)
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("no file matches %s (%v)", pattern, err)
	}
	return m
}

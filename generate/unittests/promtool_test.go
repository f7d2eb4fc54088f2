package unittests_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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

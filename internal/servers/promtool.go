package servers

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Variables naming the promtool binaries, as scripts/test-deps.sh prints them.
const (
	EnvPromtool3 = "BLINDSPOT_TEST_PROMTOOL3"
	EnvPromtool2 = "BLINDSPOT_TEST_PROMTOOL2"
)

// ForEachPromtool runs fn as a subtest with each real promtool: Prometheus 3's (built from the
// pinned module) and Debian's 2.x. A missing binary skips its subtest, or fails it in CI (CI
// set), where a test must not pass because nothing was installed.
func ForEachPromtool(t *testing.T, fn func(t *testing.T, promtool string)) {
	t.Helper()
	defaults := map[string]string{EnvPromtool2: "/usr/bin/promtool"}
	if p3 := defaultPrometheus3(); p3 != "" {
		defaults[EnvPromtool3] = filepath.Join(filepath.Dir(p3), "promtool")
	}
	for _, p := range []struct{ name, env string }{
		{"Prometheus 3", EnvPromtool3},
		{"Prometheus 2", EnvPromtool2},
	} {
		t.Run(p.name, func(t *testing.T) {
			path := os.Getenv(p.env)
			if path == "" {
				path = defaults[p.env]
			}
			if _, err := exec.LookPath(path); err != nil {
				msg := p.env + ": " + err.Error() + `; run eval "$(scripts/test-deps.sh)"`
				if os.Getenv("CI") != "" {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			fn(t, path)
		})
	}
}

package servers

import (
	"path/filepath"
	"testing"
)

// EnvPromtail names the Promtail binary test-deps.sh builds with Loki (same version).
const EnvPromtail = "BLINDSPOT_TEST_PROMTAIL"

// Promtail returns the path of Promtail LokiVersion, which runs generated pipeline stages
// (--stdin --dry-run). A missing binary fails the test, or skips it under -short, as Find does.
func Promtail(t testing.TB) string {
	t.Helper()
	var path, fallback string
	if loki := defaultLoki(); loki != "" {
		fallback = filepath.Join(filepath.Dir(loki), "promtail")
	}
	require(t, []lookup{{EnvPromtail, fallback, &path}})
	return path
}

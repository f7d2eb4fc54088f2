// Package servers starts real Prometheus, node exporter, Pushgateway and Loki processes on
// 127.0.0.1 for integration tests, and stops them when the test ends.
//
// The binaries are found through the BLINDSPOT_TEST_* variables that scripts/test-deps.sh
// prints. A missing binary fails the test (integration tests must not pass silently in CI
// because a server was not installed); with -short it skips instead.
package servers

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Environment variables read by Find, as printed by scripts/test-deps.sh.
const (
	EnvPrometheus2  = "BLINDSPOT_TEST_PROMETHEUS2"
	EnvPrometheus3  = "BLINDSPOT_TEST_PROMETHEUS3"
	EnvNodeExporter = "BLINDSPOT_TEST_NODE_EXPORTER"
	EnvPushgateway  = "BLINDSPOT_TEST_PUSHGATEWAY"
	EnvLoki         = "BLINDSPOT_TEST_LOKI"
)

// LokiVersion is the Loki test-deps.sh builds: the last release under Apache-2.0.
const LokiVersion = "v1.6.1"

// prometheusModule is the module whose pinned version names the Prometheus 3 build directory.
const prometheusModule = "github.com/prometheus/prometheus"

// Binaries are the absolute paths of the server executables.
type Binaries struct {
	Prometheus2  string
	Prometheus3  string
	NodeExporter string
	Pushgateway  string
	Loki         string
}

// Find resolves every binary from its environment variable, or from the default location
// test-deps.sh installs it to. If any is missing the test fails with a message naming what
// is missing and how to install it; under -short it is skipped instead.
func Find(t testing.TB) Binaries {
	t.Helper()
	var b Binaries
	require(t, b.lookups())
	return b
}

// lookup says where one binary comes from and where its resolved path goes.
type lookup struct {
	env, fallback string
	path          *string
}

func (b *Binaries) lookups() []lookup {
	return []lookup{
		{EnvPrometheus2, "/usr/bin/prometheus", &b.Prometheus2},
		{EnvPrometheus3, defaultPrometheus3(), &b.Prometheus3},
		{EnvNodeExporter, "/usr/bin/prometheus-node-exporter", &b.NodeExporter},
		{EnvPushgateway, "/usr/bin/prometheus-pushgateway", &b.Pushgateway},
		{EnvLoki, defaultLoki(), &b.Loki},
	}
}

// require resolves each lookup, then fails (or skips under -short) listing every one missing.
func require(t testing.TB, lookups []lookup) {
	t.Helper()
	var missing []string
	for _, l := range lookups {
		name := os.Getenv(l.env)
		if name == "" {
			name = l.fallback
		}
		if name == "" {
			missing = append(missing, l.env+": not set, and no default location could be derived (go.mod, cache directory)")
			continue
		}
		path, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s=%s: %v", l.env, name, err))
			continue
		}
		*l.path = path
	}
	if len(missing) == 0 {
		return
	}
	msg := "integration test servers are missing; run scripts/test-deps.sh and export what it prints:\n  " +
		strings.Join(missing, "\n  ")
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}

// defaultPrometheus3 is where test-deps.sh builds Prometheus 3 when BLINDSPOT_TEST_PROMETHEUS3
// is unset: $BLINDSPOT_CACHE/prometheus-<version pinned in go.mod>/prometheus. It returns ""
// when the version or the cache directory cannot be determined.
func defaultPrometheus3() string {
	cache := cacheDir()
	if cache == "" {
		return ""
	}
	version, err := pinnedVersion(prometheusModule)
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "prometheus-"+version, "prometheus")
}

// defaultLoki is where test-deps.sh builds Loki when BLINDSPOT_TEST_LOKI is unset:
// $BLINDSPOT_CACHE/loki-<LokiVersion>/loki, or "" when there is no cache directory.
func defaultLoki() string {
	cache := cacheDir()
	if cache == "" {
		return ""
	}
	return filepath.Join(cache, "loki-"+LokiVersion, "loki")
}

// cacheDir is $BLINDSPOT_CACHE, by default the user cache directory's blindspot folder, as in
// test-deps.sh; "" when neither is known.
func cacheDir() string {
	if cache := os.Getenv("BLINDSPOT_CACHE"); cache != "" {
		return cache
	}
	userCache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(userCache, "blindspot")
}

// pinnedVersion reads the version of module from the go.mod above the working directory (go
// test runs in the package directory), so the default follows go.mod like test-deps.sh does.
func pinnedVersion(module string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			return requiredVersion(f, module)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func requiredVersion(f *os.File, module string) (string, error) {
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 0 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == module {
			return fields[1], nil
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return "", fmt.Errorf("%s does not require %s", f.Name(), module)
}

// ForEachPrometheus runs fn as a subtest against each major users run: Debian's 2.x and the
// 3.x built from the pinned module.
func (b Binaries) ForEachPrometheus(t *testing.T, fn func(t *testing.T, binary string)) {
	t.Helper()
	for _, p := range []struct{ name, binary string }{
		{"prometheus2", b.Prometheus2},
		{"prometheus3", b.Prometheus3},
	} {
		t.Run(p.name, func(t *testing.T) { fn(t, p.binary) })
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentServer accepts TCP connections and never answers on them, as a hung server or a
// black-holing proxy does. It returns its URL.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read from or written to
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// runCLI runs blindspot in-process and returns its exit code, stdout, stderr and how long it
// took.
func runCLI(t *testing.T, args ...string) (int, string, string, time.Duration) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String(), time.Since(start)
}

func TestRunDeadline(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name string
		args func(t *testing.T) []string
		// cut are the parts the report must name as cut off.
		cut []string
	}{
		{
			name: "A Prometheus that accepts and never answers is cut off at --timeout, and the partial report names its parts.",
			args: func(t *testing.T) []string {
				return []string{"--prometheus-url", silentServer(t)}
			},
			cut: []string{"prometheus", "targets", "rules"},
		},
		{
			name: "A silent Prometheus, Alertmanager, Loki and Grafana together still end at --timeout.",
			args: func(t *testing.T) []string {
				return []string{
					"--prometheus-url", silentServer(t), "--alertmanager-url", silentServer(t),
					"--loki-url", silentServer(t), "--grafana-url", silentServer(t),
				}
			},
			cut: []string{"prometheus", "alertmanager", "loki", "grafana"},
		},
		{
			name: "A fleet of two silent servers ends at --timeout, both named.",
			args: func(t *testing.T) []string {
				return []string{"--prometheus-url", "eu=" + silentServer(t), "--prometheus-url", "us=" + silentServer(t)}
			},
			cut: []string{"eu", "us", "targets"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const timeout = 3 * time.Second
			args := append([]string{"audit", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--timeout", timeout.String()}, tc.args(t)...)
			// The configuration file must exist when named: an empty one configures nothing.
			if err := os.WriteFile(args[2], nil, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr, took := runCLI(t, args...)
			if took > timeout+time.Second {
				t.Errorf("took %v, want at most the deadline %v plus a second", took, timeout)
			}
			if code != exitSource {
				t.Errorf("exit %d, want %d\nstderr: %s", code, exitSource, stderr)
			}
			if !strings.Contains(stderr, "cut off by the run's deadline of 3s") {
				t.Errorf("stderr does not say the run's deadline cut the audit off:\n%s", stderr)
			}
			for _, part := range tc.cut {
				if !strings.Contains(stdout, part) {
					t.Errorf("the report does not name %q:\n%s", part, stdout)
				}
			}
		})
	}
}

// endlessAnswers answers every request with a JSON body that never ends.
func endlessAnswers(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"success","data":[`)
	chunk := []byte(strings.Repeat(`"up",`, 4096))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestResponseLimit(t *testing.T) {
	t.Parallel()

	t.Run("A Prometheus sending endless answers gives a source error naming the limit and its setting, exit 3.", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(endlessAnswers))
		t.Cleanup(srv.Close)
		cfg := filepath.Join(t.TempDir(), "blindspot.yaml")
		if err := os.WriteFile(cfg, []byte("prometheus:\n  max_response_bytes: 1048576\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr, _ := runCLI(t, "audit", "--config", cfg, "--prometheus-url", srv.URL, "--timeout", "1m")
		if code != exitSource {
			t.Errorf("exit %d, want %d\nstderr: %s", code, exitSource, stderr)
		}
		for _, want := range []string{"the answer of /api/v1/targets is larger than the limit set by max_response_bytes of 1 MiB", "raise the source's max_response_bytes"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
		if !strings.Contains(stdout, "max_response_bytes") {
			t.Errorf("the report does not name the limit:\n%s", stdout)
		}
	})
}

func TestResponseLimitEverySource(t *testing.T) {
	t.Parallel()
	t.Run("Endless answers from Loki, Grafana and the Alertmanager are each cut at the limit, with the setting named.", func(t *testing.T) {
		t.Parallel()
		urls := map[string]string{}
		for _, name := range []string{"loki", "grafana", "alertmanager"} {
			srv := httptest.NewServer(http.HandlerFunc(endlessAnswers))
			t.Cleanup(srv.Close)
			urls[name] = srv.URL
		}
		cfg := filepath.Join(t.TempDir(), "blindspot.yaml")
		yaml := "loki:\n  max_response_bytes: 1048576\ngrafana:\n  max_response_bytes: 1048576\nalertmanager:\n  max_response_bytes: 1048576\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr, _ := runCLI(t, "audit", "--config", cfg, "--timeout", "1m",
			"--loki-url", urls["loki"], "--grafana-url", urls["grafana"], "--alertmanager-url", urls["alertmanager"])
		if code != exitSource {
			t.Errorf("exit %d, want %d\nstderr: %s", code, exitSource, stderr)
		}
		for _, name := range []string{"loki", "grafana", "alertmanager"} {
			i := strings.Index(stderr, name+" "+urls[name])
			if i < 0 {
				t.Errorf("stderr does not name %s:\n%s", name, stderr)
				continue
			}
			rest := stderr[i:]
			if j := strings.Index(rest[1:], "; "); j >= 0 {
				rest = rest[:j+1]
			}
			if !strings.Contains(rest, "limit set by max_response_bytes of 1 MiB") {
				t.Errorf("the %s error does not name the limit: %s", name, rest)
			}
		}
	})
}

func TestRunDeadlineConfig(t *testing.T) {
	t.Run("timeout: in the file sets the run's deadline, BLINDSPOT_TIMEOUT overrides it, --timeout wins; unset it is 2m.", func(t *testing.T) {
		cleanEnv(t)
		load := func(path string, flags ...string) time.Duration {
			t.Helper()
			fs := globalFlags()
			if err := fs.Parse(flags); err != nil {
				t.Fatal(err)
			}
			cfg, _, err := loadConfig(path, true, fs, flagKeys)
			if err != nil {
				t.Fatal(err)
			}
			return cfg.Timeout
		}
		path := writeConfig(t, "timeout: 45s\nprometheus:\n  max_response_bytes: 1048576\n")
		if got := load(writeConfig(t, "")); got != defaultRunTimeout {
			t.Errorf("unset: %v, want %v", got, defaultRunTimeout)
		}
		if got := load(path); got != 45*time.Second {
			t.Errorf("from the file: %v, want 45s", got)
		}
		t.Setenv("BLINDSPOT_TIMEOUT", "10s")
		if got := load(path); got != 10*time.Second {
			t.Errorf("from the environment: %v, want 10s", got)
		}
		if got := load(path, "--timeout", "5s"); got != 5*time.Second {
			t.Errorf("from the flag: %v, want 5s", got)
		}
		t.Setenv("BLINDSPOT_PROMETHEUS_MAX_RESPONSE_BYTES", "2048")
		cfg, _, err := loadConfig(path, true, globalFlags(), flagKeys)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Prometheus.HTTPOptions().MaxResponseBytes; got != 2048 {
			t.Errorf("max_response_bytes from the environment: %d, want 2048", got)
		}
	})
}

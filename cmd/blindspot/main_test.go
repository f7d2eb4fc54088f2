package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the blindspot command inside scripts, so CLI stories
// run the real main code path (flags, config, env, exit codes) with `go test`.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"blindspot": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI stories in testdata/script: one file, one story.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// BLINDSPOT_UPDATE_SCRIPTS=1 rewrites the files a failing `cmp` compares with, inside the
		// stories (review the diff before committing it).
		UpdateScripts: os.Getenv("BLINDSPOT_UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			setupHTTPFakes(env)
			// The scripts read the third-party corpus in place, beside the repository.
			corpus, err := filepath.Abs("../../../shared/corpus")
			if err != nil {
				return err
			}
			env.Setenv("CORPUS", corpus)
			repo, err := filepath.Abs("../..")
			if err != nil {
				return err
			}
			env.Setenv("REPO", repo)
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"http":     cmdHTTP,
			"fakeprom": cmdFakeProm,
			// Grafana: a fake answering like its HTTP API, and the requests it received.
			"fakegrafana":     cmdFakeGrafana,
			"grafanarequests": cmdGrafanaRequests,
			"fakeam":          cmdFakeAlertmanager,
		},
	})
}

// cmdExits runs a program and asserts its exit code: `exits 3 blindspot audit …`. Its stdout
// and stderr become the script's, for the usual `stdout`/`stderr` assertions, made stable for
// `cmp` (stableOutput).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	path := ""
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, args[1]); fileExists(p) {
			path = p
			break
		}
	}
	if path == "" {
		ts.Fatalf("%s not found in $PATH", args[1])
	}
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	err = cmd.Run()
	ts.Stdout().Write(stableOutput(ts, stdout.Bytes(), started, time.Now()))
	ts.Stderr().Write(stableOutput(ts, stderr.Bytes(), started, time.Now()))
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("running %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// scriptEnv rebuilds the script's environment: testscript keeps it private, so the variables
// scripts use are listed here.
func scriptEnv(ts *testscript.TestScript) []string {
	keys := []string{"PATH", "HOME", "TMPDIR", "WORK", "NO_COLOR", "PROM", "CORPUS", "REPO", "GRAFANA"}
	keys = append(keys, fakeEnvNames(ts)...)
	leaves, _ := configKeys()
	for _, k := range leaves {
		keys = append(keys, envName(k))
	}
	var env []string
	for _, k := range keys {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// cmdFakeProm starts an HTTP server that misbehaves in one documented way and sets $PROM to
// its URL: `fakeprom 500|429|slow|badjson|thanos`; `fakeprom demo` answers as the Prometheus
// and the Alertmanager the demo snapshot was recorded from; `fakeprom thanosquery` and
// `fakeprom mimir` as a Thanos Query and a Mimir do (fakerecognise_test.go); `fakeprom nodata`
// is the demo answering every query with HTTP 200 and no data, `fakeprom unixalertmanager` the
// demo reporting an Alertmanager at a unix socket URL.
func cmdFakeProm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fakeprom 500|429|slow|badjson|thanos|demo|thanosquery|mimir|nodata|unixalertmanager")
	}
	var (
		h   http.Handler
		err error
	)
	switch args[0] {
	case "demo":
		h, err = demoHandler(ts.Getenv("REPO"))
	case "thanosquery":
		h, err = thanosQueryHandler(ts.Getenv("REPO"))
	case "mimir":
		h, err = mimirHandler(ts.Getenv("REPO"))
	case "nodata", "unixalertmanager":
		h, err = demoHandler(ts.Getenv("REPO"))
		h = overrideAnswer(h, args[0])
	default:
		h, err = fakeHandler(args[0], ts.Getenv("CORPUS"))
	}
	ts.Check(err)
	srv := httptest.NewServer(h)
	ts.Defer(srv.Close)
	ts.Setenv("PROM", srv.URL)
}

// overrideAnswer answers one API path of h in a way a real server should not.
func overrideAnswer(h http.Handler, mode string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case mode == "nodata" && r.URL.Path == "/api/v1/query":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success"}`)
		case mode == "nodata" && r.URL.Path == "/api/v1/alertmanagers":
			// No Alertmanager, so that the query endpoint is the only part that fails.
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}}`)
		case mode == "unixalertmanager" && r.URL.Path == "/api/v1/alertmanagers":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success","data":{"activeAlertmanagers":[{"url":"unix:///run/alertmanager.sock/api/v2/alerts"}],"droppedAlertmanagers":[]}}`)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

func fakeHandler(mode, corpus string) (http.Handler, error) {
	apiError := func(w http.ResponseWriter, status int, errType, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":"error","errorType":%q,"error":%q}`, errType, msg)
	}
	switch mode {
	case "500":
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			apiError(w, http.StatusInternalServerError, "internal", "storage is on fire")
		}), nil
	case "429":
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		}), nil
	case "slow":
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
		}), nil
	case "badjson":
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success","data":{"activeTargets":[`)
		}), nil
	case "thanos":
		// A Prometheus-compatible query layer: no targets or config API (404, as Thanos
		// Query answers), recorded real answers for names and metadata, no rules loaded.
		names, err := os.ReadFile(filepath.Join(corpus, "api", "prometheus_api_v1_label___name___values.json"))
		if err != nil {
			return nil, err
		}
		metadata, err := os.ReadFile(filepath.Join(corpus, "api", "prometheus_api_v1_metadata.json"))
		if err != nil {
			return nil, err
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case strings.HasSuffix(r.URL.Path, "/api/v1/label/__name__/values"):
				w.Write(names)
			case strings.HasSuffix(r.URL.Path, "/api/v1/metadata"):
				w.Write(metadata)
			case strings.HasSuffix(r.URL.Path, "/api/v1/rules"):
				io.WriteString(w, `{"status":"success","data":{"groups":[]}}`)
			case strings.HasSuffix(r.URL.Path, "/api/v1/status/buildinfo"):
				io.WriteString(w, `{"status":"success","data":{"version":"0.42.4","revision":"","branch":"","buildUser":"","buildDate":"","goVersion":"go1.26.8"}}`)
			default:
				http.NotFound(w, r)
			}
		}), nil
	}
	return nil, fmt.Errorf("unknown fakeprom mode %q", mode)
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// TestMain lets the test binary act as the blindspot command inside scripts, so CLI stories
// run the real main code path (flags, config, env, exit codes) with `go test`.
func TestMain(m *testing.M) {
	// The tests never fetch the runbook links of their rules from the network: a story that
	// checks links turns it on against a local server.
	os.Setenv("BLINDSPOT_CHECKS_RUNBOOK_LINKS", "false")
	testscript.Main(m, map[string]func(){
		"blindspot": func() { os.Exit(runMain()) },
	})
}

// TestScripts runs the CLI stories in testdata/script: one file, one story.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// BLINDSPOT_UPDATE_SCRIPTS=1 rewrites the files a failing `cmp` compares with, inside the
		// stories (review the diff before committing it).
		UpdateScripts: os.Getenv("BLINDSPOT_UPDATE_SCRIPTS") == "1",
		// [corpus] holds when the third-party corpus is beside the repository.
		Condition: func(cond string) (bool, error) {
			if cond != "corpus" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := testcorpus.Available()
			return err == nil, nil
		},
		Setup: func(env *testscript.Env) error {
			setupHTTPFakes(env)
			// The scripts read the whole third-party corpus in place, beside the repository,
			// under the condition [corpus]; the files they assert facts about are copied into
			// $REPO/testdata/corpus.
			if corpus, err := testcorpus.Available(); err == nil {
				env.Setenv("CORPUS", corpus)
			}
			repo, err := filepath.Abs("../..")
			if err != nil {
				return err
			}
			env.Setenv("REPO", repo)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("BLINDSPOT_CHECKS_RUNBOOK_LINKS", "false")
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
// its URL: `fakeprom 500|slow` (other answers are declared in the story with `http response`);
// `fakeprom demo` answers as the Prometheus and the Alertmanager the demo snapshot was
// recorded from; `fakeprom thanosquery` and `fakeprom mimir` as a Thanos Query and a Mimir do
// (fakerecognise_test.go).
func cmdFakeProm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fakeprom 500|slow|demo|thanosquery|mimir")
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
	default:
		h, err = fakeHandler(args[0])
	}
	ts.Check(err)
	srv := httptest.NewServer(h)
	ts.Defer(srv.Close)
	ts.Setenv("PROM", srv.URL)
}

func fakeHandler(mode string) (http.Handler, error) {
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
	case "slow":
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
		}), nil
	}
	return nil, fmt.Errorf("unknown fakeprom mode %q", mode)
}

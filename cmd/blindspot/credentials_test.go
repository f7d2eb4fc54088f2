package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
)

// withCredentials puts a user, a password and a query token into a server's URL.
func withCredentials(srvURL, user, pass, param, token string) string {
	return strings.Replace(srvURL, "http://", "http://"+user+":"+pass+"@", 1) + "/?" + param + "=" + token
}

// echoServer answers every request with 500 and a page that echoes the request's query and
// headers, as a misconfigured proxy does.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "proxy error for %s?%s\n", r.URL.Path, r.URL.RawQuery)
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range r.Header {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// clearConfig is a Prometheus configuration served with its secrets in clear, as a proxy or
// an old server might.
const clearConfig = "global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: payments-api\n  basic_auth:\n    username: scraper\n    password: cfgClearPw6\n  static_configs:\n  - targets: [payments:8080]\n"

func TestNoCredentialReachesAFileOrATerminal(t *testing.T) {
	cleanEnv(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := demoHandler(repo)
	if err != nil {
		t.Fatal(err)
	}
	promSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/status/config" {
			body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]string{"yaml": clearConfig}})
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return
		}
		demo.ServeHTTP(w, r)
	}))
	t.Cleanup(promSrv.Close)
	grafana := fakegrafana.New()
	if err := grafana.AddDashboardFiles("", demoDashboard); err != nil {
		t.Fatal(err)
	}
	grafanaSrv := grafana.Start()
	t.Cleanup(grafanaSrv.Close)
	echo := echoServer(t)

	secrets := []string{"promPw1", "promTok1", "grafPw2", "grafTok2", "lokiPw3", "lokiTok3", "amPw4", "amTok4", "pgPw5", "pgTok5", "cfgClearPw6", "hdrVal7"}
	for _, up := range [][2]string{{"promUser", "promPw1"}, {"lokiUser", "lokiPw3"}, {"pgUser", "pgPw5"}} {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(up[0]+":"+up[1])))
	}
	t.Setenv("BLINDSPOT_PROMETHEUS_URL", withCredentials(promSrv.URL, "promUser", "promPw1", "access_token", "promTok1"))
	t.Setenv("BLINDSPOT_ALERTMANAGER_URL", withCredentials(promSrv.URL, "amUser", "amPw4", "token", "amTok4"))
	t.Setenv("BLINDSPOT_GRAFANA_URL", withCredentials(grafanaSrv.URL, "grafUser", "grafPw2", "api_key", "grafTok2"))
	t.Setenv("BLINDSPOT_LOKI_URL", withCredentials(echo.URL, "lokiUser", "lokiPw3", "apikey", "lokiTok3"))
	t.Setenv("BLINDSPOT_PUSHGATEWAY_URL", withCredentials(echo.URL, "pgUser", "pgPw5", "X-Amz-Signature", "pgTok5"))
	t.Setenv("BLINDSPOT_PROMETHEUS_ATTEMPTS", "1")
	t.Setenv("BLINDSPOT_LOKI_ATTEMPTS", "1")
	t.Setenv("BLINDSPOT_PUSHGATEWAY_ATTEMPTS", "1")

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "blindspot.yaml")
	if err := os.WriteFile(cfgFile, []byte("prometheus:\n  headers:\n    X-Custom-Id: hdrVal7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	// The Loki and the Pushgateway fail with the echo of the request's headers; the audit is
	// partial (exit 3) but every output is written.
	runs := [][]string{
		{"snapshot", "--out", filepath.Join(out, "snap")},
		{"check", "--format", "sarif", "-o", filepath.Join(out, "check.sarif")},
		{"check", "--format", "junit", "-o", filepath.Join(out, "check.xml")},
		{"check", "--format", "markdown", "-o", filepath.Join(out, "check.md")},
	}
	for _, f := range []string{"text", "json", "markdown", "html"} {
		runs = append(runs, []string{"audit", "--format", f, "-o", filepath.Join(out, "report."+f)})
	}
	var terminal strings.Builder
	cli := func(args ...string) int {
		args = append([]string{"--config", cfgFile, "--verbose"}, args...)
		code, stdout, stderr := cli(t, args...)
		fmt.Fprintf(&terminal, "$ %s (exit %d)\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		return code
	}
	for _, args := range runs {
		cli(args...)
	}
	// generate refuses a partial audit: without the Loki, from the live servers and from the
	// snapshot.
	t.Setenv("BLINDSPOT_LOKI_URL", "")
	if code := cli("generate", "--out", filepath.Join(out, "gen")); code != exitOK {
		t.Errorf("generate exited %d", code)
	}
	t.Setenv("BLINDSPOT_ALERTMANAGER_URL", "")
	t.Setenv("BLINDSPOT_PROMETHEUS_URL", "")
	// The snapshot lacks the Loki: generate says so (exit 3).
	if code := cli("generate", "--from", filepath.Join(out, "snap"), "--out", filepath.Join(out, "gen-from-snapshot")); code == exitUsage {
		t.Errorf("generate from the snapshot exited %d", code)
	}
	if code := cli("audit", "--from", filepath.Join(out, "snap"), "--format", "json", "-o", filepath.Join(out, "from-snapshot.json")); code == exitUsage {
		t.Errorf("audit from the snapshot exited %d", code)
	}
	if _, err := os.Stat(filepath.Join(out, "gen", "rules")); err != nil {
		t.Fatalf("generate wrote no rules:\n%s", terminal.String())
	}
	// The Loki and the Pushgateway answered with the echo of the request headers.
	if !strings.Contains(terminal.String(), "xxxxx") {
		t.Errorf("nothing was masked on the terminal: the echo server was never reached?\n%s", terminal.String())
	}
	files := 0
	err = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds %s", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Errorf("only %d files were written", files)
	}
	for _, s := range secrets {
		if strings.Contains(terminal.String(), s) {
			t.Errorf("stdout or stderr holds %s", s)
		}
	}
	// The generated links still point at the Grafana.
	rules, _ := os.ReadFile(filepath.Join(out, "gen", "rules", "payments-api.yaml"))
	if !strings.Contains(string(rules), "dashboard_url: "+grafanaSrv.URL+"/d/") {
		t.Errorf("the dashboard link is not the redacted Grafana URL:\n%s", rules)
	}
	t.Logf("terminal:\n%s", terminal.String())
}

func TestAnUnparseableURLIsNeverQuoted(t *testing.T) {
	cleanEnv(t)
	for name, args := range map[string][]string{
		"--prometheus-url NAME=URL": {"audit", "--prometheus-url", "eu=http://admin:pa/ss@eu:9090", "--prometheus-url", "us=http://us:9090"},
		"grafana.url":               {"generate", "--from", "../../testdata/demo", "--grafana-url", "http://admin:pa/ss@grafana:3000", "--out", t.TempDir()},
		"grafana.url of an audit":   {"audit", "--prometheus-url", "http://prom:9090", "--grafana-url", "http://admin:pa/ss@grafana:3000"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := cli(t, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d: %s", code, exitUsage, stderr)
			}
			if strings.Contains(stdout+stderr, "pa/ss") || strings.Contains(stdout+stderr, "/ss@") {
				t.Errorf("the password is quoted:\n%s%s", stdout, stderr)
			}
		})
	}
}

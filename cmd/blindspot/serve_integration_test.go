package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// serveUser and servePassword are the basic authentication of the web configuration the
// serve tests give; serveHash is the password's bcrypt hash, as the web configuration holds it.
const (
	serveUser     = "prometheus"
	servePassword = "watch-the-watcher"
	serveHash     = "$2a$10$sK9.2kAnWi3V98I0TEAym.wd/78MDyrDd9OoEJKng9WkRxxhEac5m"
)

// selfSignedCert writes a certificate for 127.0.0.1 and its key to dir and returns a pool
// trusting it.
func selfSignedCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "blindspot"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// serveClient asks blindspot serve at base, with basic authentication when user is set.
type serveClient struct {
	base, user, password string
	http                 *http.Client
}

func (c serveClient) get(path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, "", err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func (c serveClient) mustGet(t *testing.T, path string, want int) string {
	t.Helper()
	code, body, err := c.get(path)
	if err != nil || code != want {
		t.Fatalf("GET %s: %d %v, want %d:\n%s", path, code, err, want, body)
	}
	return body
}

// waitReady polls /-/ready until serve has made a report.
func (c serveClient) waitReady(t *testing.T) {
	t.Helper()
	servers.WaitFor(t, "blindspot serve ready", func() bool {
		code, _, _ := c.get("/-/ready")
		return code == http.StatusOK
	})
}

// TestServe runs `blindspot serve` against a real Prometheus of each major, behind TLS and
// basic authentication from a web configuration file, and reads every endpoint; cancelling
// its context (what SIGTERM does) stops it with exit 0.
func TestServe(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		sc := servers.StartScenario(t, binary, servers.WithHostileJob())
		sc.WaitForFirstScrapes(t)
		dir := t.TempDir()
		pool := selfSignedCert(t, dir)
		web := writeFile(t, dir, "web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  "+serveUser+": "+serveHash+"\n")
		addr := servers.FreeAddress(t)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout, stderr bytes.Buffer
		exited := make(chan int, 1)
		go func() {
			exited <- run(ctx, []string{"serve", "--prometheus-url", sc.PrometheusURL, "--listen", addr, "--web.config.file", web}, &stdout, &stderr)
		}()
		tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
		c := serveClient{base: "https://" + addr, user: serveUser, password: servePassword, http: tlsClient}
		c.waitReady(t)

		t.Run("Without the password, or over plain HTTP, nothing is served.", func(t *testing.T) {
			anonymous := serveClient{base: c.base, http: tlsClient}
			for _, path := range []string{"/metrics", "/", "/api/v1/report"} {
				if code, _, err := anonymous.get(path); err != nil || code != http.StatusUnauthorized {
					t.Errorf("GET %s without the password: %d %v, want 401", path, code, err)
				}
			}
			plain := serveClient{base: "http://" + addr, user: serveUser, password: servePassword, http: &http.Client{Timeout: 30 * time.Second}}
			if code, _, _ := plain.get("/metrics"); code == http.StatusOK {
				t.Error("/metrics is served over plain HTTP")
			}
		})

		t.Run("The probes answer.", func(t *testing.T) {
			c.mustGet(t, "/-/healthy", http.StatusOK)
			c.mustGet(t, "/-/ready", http.StatusOK)
		})

		t.Run("/metrics holds the gap metrics of check and serve's own, and passes promtool check metrics of both majors.", func(t *testing.T) {
			body := c.mustGet(t, "/metrics", http.StatusOK)
			for _, want := range []string{
				// The down targets of payments-api and of the hostile job, as check writes them.
				`blindspot_findings{check="targets/down",severity="critical"} 2`,
				`blindspot_new_findings{check="targets/down",severity="critical"} 2`,
				`blindspot_source_up{source="prometheus"} 1`,
				"\nblindspot_last_success_timestamp_seconds ",
				`blindspot_serve_audits_total{result="complete"} 1`,
				`blindspot_serve_audit_duration_seconds_count 1`,
				"\nprocess_resident_memory_bytes ",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics has no %s", want)
				}
			}
			servers.ForEachPromtool(t, func(t *testing.T, promtool string) {
				cmd := exec.Command(promtool, "check", "metrics")
				cmd.Stdin = strings.NewReader(body)
				if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
					t.Errorf("promtool check metrics: %v\n%s", err, out)
				}
			})
		})

		t.Run("/api/v1/report is the JSON report of the audit, with exactly the scenario's gaps.", func(t *testing.T) {
			wantExactly(t, decodeReport(t, []byte(c.mustGet(t, "/api/v1/report", http.StatusOK))), expectedFindings(sc))
		})

		t.Run("/ is the HTML report.", func(t *testing.T) {
			page := c.mustGet(t, "/", http.StatusOK)
			for _, want := range []string{"<h1>blindspot audit</h1>", servers.JobPaymentsAPI, `<section id="findings"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the page has no %s", want)
				}
			}
		})

		cancel()
		if code := <-exited; code != exitOK {
			t.Errorf("serve exited %d when its context ended, want 0:\n%s", code, stderr.String())
		}
		if want := "blindspot: serving on " + addr + ", auditing every 10m0s\n"; !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	})
}

// TestServeSIGTERM runs blindspot serve as its own process against a real Prometheus, lets it
// audit back to back, and stops it with SIGTERM: it exits 0. The resident memory it reached
// is logged (docs/serve.md quotes it).
func TestServeSIGTERM(t *testing.T) {
	bins := servers.Find(t)
	sc := servers.StartScenario(t, bins.Prometheus3, servers.WithHostileJob())
	sc.WaitForFirstScrapes(t)
	addr := servers.FreeAddress(t)
	var stderr bytes.Buffer
	cmd := exec.Command("blindspot", "serve", "--prometheus-url", sc.PrometheusURL, "--listen", addr, "--interval", "1ms")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	c := serveClient{base: "http://" + addr, http: &http.Client{Timeout: 30 * time.Second}}
	c.waitReady(t)
	complete := regexp.MustCompile(`(?m)^blindspot_serve_audits_total\{result="complete"\} (\d+)$`)
	const audits = 100
	servers.WaitFor(t, strconv.Itoa(audits)+" audits", func() bool {
		_, body, _ := c.get("/metrics")
		m := complete.FindStringSubmatch(body)
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n >= audits
	})
	if status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "status")); err == nil {
		rss := regexp.MustCompile(`(?m)^VmRSS:\s+(.*)$`).FindSubmatch(status)
		hwm := regexp.MustCompile(`(?m)^VmHWM:\s+(.*)$`).FindSubmatch(status)
		if rss != nil && hwm != nil {
			t.Logf("after %d audits: resident %s, peak %s", audits, rss[1], hwm[1])
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Errorf("serve did not exit 0 on SIGTERM: %v\n%s", err, stderr.String())
	}
}

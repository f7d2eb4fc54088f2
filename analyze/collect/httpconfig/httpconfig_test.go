package httpconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// echo answers with the buildinfo and hands the request it saw to the test.
func echo(t *testing.T) (*httptest.Server, <-chan *http.Request) {
	t.Helper()
	seen := make(chan *http.Request, 10)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		apiSuccess(w)
	}))
	return srv, seen
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withCredentials puts user:password into a server URL.
func withCredentials(srvURL, user, password string) string {
	return strings.Replace(srvURL, "http://", "http://"+user+":"+password+"@", 1)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()

	t.Run("A bearer token from BearerTokenFile arrives as an Authorization header.", func(t *testing.T) {
		t.Parallel()
		srv, seen := echo(t)
		o := fast(srv.URL)
		o.BearerTokenFile = writeFile(t, "token", "s3cr3t-token\n")

		get(t, o, "/api/v1/targets")
		if got := (<-seen).Header.Get("Authorization"); got != "Bearer s3cr3t-token" {
			t.Errorf("Authorization = %q", got)
		}
	})

	t.Run("Credentials in the URL become basic auth and are not part of the address.", func(t *testing.T) {
		t.Parallel()
		srv, seen := echo(t)
		o := fast(withCredentials(srv.URL, "alice", "pa55"))
		if strings.Contains(o.BaseURL(), "pa55") {
			t.Fatalf("BaseURL %q holds the password", o.BaseURL())
		}

		get(t, o, "/")
		user, pass, ok := (<-seen).BasicAuth()
		if !ok || user != "alice" || pass != "pa55" {
			t.Errorf("basic auth = %q %q %v", user, pass, ok)
		}
	})

	t.Run("Basic auth from Username and PasswordFile arrives.", func(t *testing.T) {
		t.Parallel()
		srv, seen := echo(t)
		o := fast(srv.URL)
		o.BasicAuth = BasicAuth{Username: "bob", PasswordFile: writeFile(t, "password", "hunter2\n")}

		get(t, o, "/")
		user, pass, ok := (<-seen).BasicAuth()
		if !ok || user != "bob" || pass != "hunter2" {
			t.Errorf("basic auth = %q %q %v", user, pass, ok)
		}
	})

	t.Run("A user name in the URL is combined with the configured password.", func(t *testing.T) {
		t.Parallel()
		srv, seen := echo(t)
		o := fast(strings.Replace(srv.URL, "http://", "http://carol@", 1))
		o.BasicAuth.Password = "from-the-environment"

		get(t, o, "/")
		user, pass, ok := (<-seen).BasicAuth()
		if !ok || user != "carol" || pass != "from-the-environment" {
			t.Errorf("basic auth = %q %q %v", user, pass, ok)
		}
	})

	t.Run("Custom headers such as X-Scope-OrgID arrive on every request.", func(t *testing.T) {
		t.Parallel()
		srv, seen := echo(t)
		o := fast(srv.URL)
		o.Headers = map[string]string{"X-Scope-OrgID": "tenant-1"}

		for range 2 {
			get(t, o, "/")
			if got := (<-seen).Header.Get("X-Scope-OrgID"); got != "tenant-1" {
				t.Errorf("X-Scope-OrgID = %q", got)
			}
		}
	})
}

// tlsServer starts an https server that does not log the handshakes the tests make fail.
func tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { apiSuccess(w) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLS(t *testing.T) {
	t.Parallel()

	t.Run("A server whose certificate is signed by CAFile is trusted.", func(t *testing.T) {
		t.Parallel()
		srv := tlsServer(t)
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		o := fast(srv.URL)
		o.TLS.CAFile = writeFile(t, "ca.pem", string(ca))

		if status, body := get(t, o, "/"); status != 200 || body != buildinfoBody {
			t.Errorf("got %d %q", status, body)
		}
	})

	t.Run("Without the CA the request fails with a certificate error.", func(t *testing.T) {
		t.Parallel()
		srv := tlsServer(t)
		resp, err := client(t, fast(srv.URL)).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
			t.Fatal("an unknown certificate was accepted")
		}
		var unknown x509.UnknownAuthorityError
		var verify *tls.CertificateVerificationError
		if !errors.As(err, &unknown) && !errors.As(err, &verify) {
			t.Errorf("error %v is not a certificate error", err)
		}
	})

	t.Run("A certificate that does not verify is not retried.", func(t *testing.T) {
		t.Parallel()
		var conns atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { apiSuccess(w) }))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		o := fast(srv.URL)
		o.Attempts = 3
		if resp, err := client(t, o).Get(srv.URL); err == nil {
			resp.Body.Close()
			t.Fatal("an unknown certificate was accepted")
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%d connections for a certificate error, want 1", n)
		}
	})

	t.Run("InsecureSkipVerify accepts any certificate.", func(t *testing.T) {
		t.Parallel()
		srv := tlsServer(t)
		o := fast(srv.URL)
		o.TLS.InsecureSkipVerify = true
		if status, _ := get(t, o, "/"); status != 200 {
			t.Errorf("status %d", status)
		}
	})
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"User and password are removed.", "https://admin:s3cr3t@prom.example.com:9090/prefix", "https://prom.example.com:9090/prefix"},
		{"A user without password is removed.", "http://admin@prom:9090", "http://prom:9090"},
		{"A URL without credentials is unchanged.", "http://prom:9090/api?x=1", "http://prom:9090/api?x=1"},
		{"A trailing question mark is dropped.", "http://admin:s3cr3t@prom:9090/?", "http://prom:9090/"},
		{"A trailing hash is dropped.", "http://prom:9090/#", "http://prom:9090/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}

	t.Run("An unparseable URL is replaced, not echoed.", func(t *testing.T) {
		got := RedactURL("http://admin:s3cr3t/x@prom:9090")
		if strings.Contains(got, "s3cr3t") || strings.Contains(got, "admin") {
			t.Errorf("RedactURL echoed the input: %q", got)
		}
	})
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string // substring of the error; empty for valid options
	}{
		{"A plain http URL is valid.", Options{URL: "http://prom:9090"}, ""},
		{"An https URL with a bearer token file is valid.", Options{URL: "https://prom", BearerTokenFile: "/t"}, ""},
		{"A URL without scheme is refused.", Options{URL: "prom:9090"}, "scheme must be http or https"},
		{"An ftp URL is refused.", Options{URL: "ftp://prom"}, "scheme must be http or https"},
		{"A URL without host is refused.", Options{URL: "http:///api"}, "no host"},
		{"An empty URL is refused.", Options{}, "scheme must be http or https"},
		{"An unparseable URL without credentials says what is wrong with it.", Options{URL: "http://prom 9090"}, `invalid character " " in host name`},
		{"A bearer token and a bearer token file are mutually exclusive.",
			Options{URL: "http://prom", BearerToken: "a", BearerTokenFile: "/t"}, "mutually exclusive"},
		{"A bearer token and basic auth are mutually exclusive.",
			Options{URL: "http://prom", BearerToken: "a", BasicAuth: BasicAuth{Username: "u"}}, "mutually exclusive"},
		{"A bearer token file and credentials in the URL are mutually exclusive.",
			Options{URL: "http://u:p@prom", BearerTokenFile: "/t"}, "mutually exclusive"},
		{"A password and a password file are mutually exclusive.",
			Options{URL: "http://prom", BasicAuth: BasicAuth{Username: "u", Password: "p", PasswordFile: "/p"}}, "mutually exclusive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("no error, want one containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}

	t.Run("An unparseable URL's error quotes no part of the password.", func(t *testing.T) {
		// An unescaped "/" in the password ends the host early; the parser then reports the
		// start of the password as an invalid port.
		err := Options{URL: "http://admin:s3cr3t/x@prom:9090"}.Validate()
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error leaks the password: %v", err)
		}
	})

	t.Run("The transport is not built from invalid options.", func(t *testing.T) {
		if _, err := (Options{URL: "ftp://prom"}).RoundTripper(); err == nil {
			t.Error("RoundTripper accepted an ftp URL")
		}
	})

	t.Run("Defaults fill only the unset fields.", func(t *testing.T) {
		o := Options{Attempts: 5}.WithDefaults()
		if o.Attempts != 5 || o.Timeout != DefaultTimeout || o.MaxInFlight != DefaultMaxInFlight || o.Backoff != DefaultBackoff {
			t.Errorf("WithDefaults = %+v", o)
		}
	})
}

// Only headers on the safe list show their values, whatever their case; any other header may
// carry a credential, even one whose name does not say so (X-Grafana-Id, X-Custom).
func TestSafeHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization":       false,
		"Cookie":              false,
		"Proxy-Authorization": false,
		"X-Api-Key":           false,
		"X-Custom":            false,
		"X-Grafana-Id":        false,
		"X-Scope-OrgID":       true,
		"x-scope-orgid":       true,
		"Accept":              true,
		"User-Agent":          true,
		"Content-Type":        true,
	} {
		if got := SafeHeader(name); got != want {
			t.Errorf("SafeHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

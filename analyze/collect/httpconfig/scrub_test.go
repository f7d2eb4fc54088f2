package httpconfig

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// echoHeaders answers 500 with every request header and the query in the body, as a
// misconfigured proxy's error page does.
func echoHeaders(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "<html>upstream failed for %s\n", r.URL.RawQuery)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(w, "%s: %s\n", name, strings.Join(r.Header[name], ","))
	}
}

func fetchBody(t *testing.T, o Options) string {
	t.Helper()
	o.Attempts = 1
	rt, err := o.RoundTripper()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, o.BaseURL()+"/api/v1/rules", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestAnErrorPageThatEchoesTheRequestKeepsNoCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echoHeaders))
	defer srv.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("fileTok3n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		opts    Options
		secrets []string
	}{
		{"A bearer token and a custom header.", Options{URL: srv.URL + "?access_token=qTok3n", BearerToken: "bearerTok3n",
			Headers: map[string]string{"X-Custom": "custVal99", "X-Scope-OrgID": "tenant-a"}}, []string{"bearerTok3n", "custVal99", "qTok3n"}},
		{"A bearer token from a file.", Options{URL: srv.URL, BearerTokenFile: tokenFile}, []string{"fileTok3n"}},
		{"Basic auth in the URL, in clear and in base64.", Options{URL: strings.Replace(srv.URL, "http://", "http://admin:pa55w0rd@", 1)},
			[]string{"pa55w0rd", base64.StdEncoding.EncodeToString([]byte("admin:pa55w0rd"))}},
		{"Basic auth configured.", Options{URL: srv.URL, BasicAuth: BasicAuth{Username: "u", Password: "b4sicPw"}},
			[]string{"b4sicPw", base64.StdEncoding.EncodeToString([]byte("u:b4sicPw"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := fetchBody(t, tc.opts)
			if !strings.Contains(body, "Authorization") && !strings.Contains(body, "X-Custom") {
				t.Fatalf("the server did not echo the headers: %s", body)
			}
			for _, s := range tc.secrets {
				if strings.Contains(body, s) {
					t.Errorf("the error body still holds %q:\n%s", s, body)
				}
			}
			if !strings.Contains(body, "xxxxx") {
				t.Errorf("nothing was masked:\n%s", body)
			}
		})
	}
	t.Run("The tenant stays readable.", func(t *testing.T) {
		body := fetchBody(t, Options{URL: srv.URL, BearerToken: "t0k", Headers: map[string]string{"X-Scope-OrgID": "tenant-a"}})
		if !strings.Contains(body, "tenant-a") {
			t.Errorf("the tenant was masked:\n%s", body)
		}
	})
}

func TestASuccessfulAnswerIsLeftAlone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	rt, err := Options{URL: srv.URL, BearerToken: "okTok"}.RoundTripper()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "Bearer okTok" {
		t.Errorf("body = %q, want the answer untouched", b)
	}
}

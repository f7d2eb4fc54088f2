package httpconfig

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/internal/redact"
)

// maxScrubbedBody bounds how much of an error answer is kept to be scrubbed: error texts are
// built from the first few hundred bytes of a body, and snapshots keep error answers whole
// only up to this size.
const maxScrubbedBody = 1 << 20

// secrets are the credentials requests to the source carry, as they appear on the wire and
// as a server or proxy might echo them: the bearer token, the basic-auth password, the
// base64 of user:password, the values of custom headers (except the safe ones, such as the
// tenant) and of credential query parameters.
func (o Options) secrets() []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			out = append(out, v)
			if e := url.QueryEscape(v); e != v {
				out = append(out, e)
			}
		}
	}
	fromFile := func(name string) string {
		if name == "" {
			return ""
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	add(o.BearerToken, fromFile(o.BearerTokenFile))
	user, pass := o.BasicAuth.Username, cmp.Or(o.BasicAuth.Password, fromFile(o.BasicAuth.PasswordFile))
	if u, err := url.Parse(o.URL); err == nil {
		if u.User != nil {
			user = u.User.Username()
			if p, ok := u.User.Password(); ok {
				pass = p
			}
		}
		for name, vs := range u.Query() {
			if redact.SensitiveParam(name) {
				add(vs...)
			}
		}
	}
	if pass != "" {
		add(pass, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	for name, v := range o.Headers {
		if SafeHeader(name) {
			continue
		}
		add(v)
		// "Bearer abc", "Basic abc": the credential alone, too.
		if _, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			add(cred)
		}
	}
	// Longer first, so that "Bearer abc" goes as a whole before "abc".
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	return slices.Compact(out)
}

// Scrub replaces every occurrence of each secret in s by xxxxx.
func Scrub(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, redact.Mask)
	}
	return s
}

// scrubbing wraps a transport so that the body of every error answer (status 300 and above)
// is free of the credentials the request carried: a proxy's error page that echoes the
// Authorization header must not put the token into an error message, a report or a snapshot.
// Such a body is cut to maxScrubbedBody bytes.
func scrubbing(next http.RoundTripper, secrets []string) http.RoundTripper {
	if len(secrets) == 0 {
		return next
	}
	return &scrubber{next: next, secrets: secrets}
}

type scrubber struct {
	next    http.RoundTripper
	secrets []string
}

func (s *scrubber) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.Body == nil {
		return resp, err
	}
	// An answer cut short keeps what came.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxScrubbedBody))
	resp.Body.Close()
	scrubbed := []byte(Scrub(string(body), s.secrets))
	resp.Body = io.NopCloser(bytes.NewReader(scrubbed))
	resp.ContentLength = int64(len(scrubbed))
	resp.Header.Del("Content-Length")
	return resp, nil
}

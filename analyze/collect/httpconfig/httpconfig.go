// Package httpconfig turns blindspot's per-source connection options into an HTTP transport
// that authenticates, limits concurrency, bounds every request with a timeout and retries
// transient failures. Every collector that talks HTTP builds its client here.
package httpconfig

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/blindspot-dev/blindspot/internal/redact"
)

// Options are the connection settings of one source, as configured by the user.
type Options struct {
	URL     string
	Headers map[string]string
	// BearerToken is read from the environment or config; BearerTokenFile is preferred.
	BearerToken     string
	BearerTokenFile string
	BasicAuth       BasicAuth
	TLS             TLS
	// Timeout bounds each HTTP request: all its attempts, the waits between them and the
	// reading of the answer. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds every answer of the source. Zero means the per-endpoint defaults
	// (DefaultLimit).
	MaxResponseBytes int64
	// MaxInFlight bounds concurrent requests to the source. Zero means DefaultMaxInFlight.
	MaxInFlight int
	// Attempts is the number of tries per request for a refused connection or a 429, 502, 503
	// or 504 answer. Zero means DefaultAttempts.
	Attempts int
	// Backoff is the first wait between attempts; it doubles each time, and each wait is
	// jittered (between half and all of it). Zero means DefaultBackoff.
	Backoff time.Duration
}

// BasicAuth credentials; the password comes from a file or from the environment.
type BasicAuth struct {
	Username     string
	Password     string
	PasswordFile string
}

// TLS settings for https sources.
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	InsecureSkipVerify bool
}

const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxInFlight = 4
	DefaultAttempts    = 3
	DefaultBackoff     = 250 * time.Millisecond
	// maxBackoff caps the wait between attempts, including a server's Retry-After.
	maxBackoff = 5 * time.Second
)

// WithDefaults returns o with zero values replaced by defaults.
func (o Options) WithDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	return o
}

// Validate checks the URL and the combination of credentials.
func (o Options) Validate() error {
	u, err := url.Parse(o.URL)
	if err != nil {
		// The parser quotes the piece it failed on, and with an unescaped "/" in a password
		// that piece is the start of the password (`invalid port ":s3cr3t" after host`).
		if strings.Contains(o.URL, "@") {
			return fmt.Errorf("invalid url %q: cannot be parsed (user name and password must be percent-encoded)", RedactURL(o.URL))
		}
		return fmt.Errorf("invalid url %q: %w", RedactURL(o.URL), errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid url %q: scheme must be http or https", RedactURL(o.URL))
	}
	if u.Host == "" {
		return fmt.Errorf("invalid url %q: no host", RedactURL(o.URL))
	}
	if o.BearerToken != "" && o.BearerTokenFile != "" {
		return errors.New("bearer_token and bearer_token_file are mutually exclusive")
	}
	if (o.BearerToken != "" || o.BearerTokenFile != "") && (o.BasicAuth.Username != "" || u.User != nil) {
		return errors.New("bearer token and basic_auth are mutually exclusive")
	}
	if o.BasicAuth.Password != "" && o.BasicAuth.PasswordFile != "" {
		return errors.New("basic_auth.password and basic_auth.password_file are mutually exclusive")
	}
	return nil
}

// BaseURL is the address requests go to: the URL without user info, which goes into the
// Authorization header instead. It keeps the query string (a proxy may want a token there),
// so it is never shown: Redacted is the form for logs, reports and snapshots.
func (o Options) BaseURL() string {
	p, err := url.Parse(o.URL)
	if err != nil {
		return redact.Unparseable
	}
	p.User = nil
	p.ForceQuery = false
	return p.String()
}

// Endpoint returns blindspot's transport for o and the address requests go to (BaseURL),
// parsed.
func (o Options) Endpoint() (http.RoundTripper, *url.URL, error) {
	rt, err := o.RoundTripper()
	if err != nil {
		return nil, nil, err
	}
	base, err := url.Parse(o.BaseURL())
	if err != nil {
		return nil, nil, fmt.Errorf("invalid url %q: %w", o.Redacted(), err)
	}
	return rt, base, nil
}

// Redacted is the URL as logs, reports and snapshots show it (see redact.URL).
func (o Options) Redacted() string { return redact.URL(o.URL) }

// RoundTripper builds the transport for the source: authentication, headers and TLS from
// prometheus/common/config, wrapped in concurrency limiting, per-request timeouts, retries and
// bounded answers.
func (o Options) RoundTripper() (http.RoundTripper, error) {
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg := commoncfg.DefaultHTTPClientConfig
	cfg.BearerToken = commoncfg.Secret(o.BearerToken)
	cfg.BearerTokenFile = o.BearerTokenFile
	user, pass := o.BasicAuth.Username, o.BasicAuth.Password
	if u, _ := url.Parse(o.URL); u != nil && u.User != nil {
		// Credentials in the URL become basic auth, so the URL itself can be logged safely.
		user = u.User.Username()
		// A URL without a password keeps the configured one (from the environment, say).
		if p, ok := u.User.Password(); ok {
			pass = p
		}
	}
	if user != "" {
		cfg.BasicAuth = &commoncfg.BasicAuth{
			Username:     user,
			Password:     commoncfg.Secret(pass),
			PasswordFile: o.BasicAuth.PasswordFile,
		}
	}
	cfg.TLSConfig = commoncfg.TLSConfig{
		CAFile:             o.TLS.CAFile,
		CertFile:           o.TLS.CertFile,
		KeyFile:            o.TLS.KeyFile,
		InsecureSkipVerify: o.TLS.InsecureSkipVerify,
	}
	if len(o.Headers) > 0 {
		h := &commoncfg.Headers{Headers: map[string]commoncfg.Header{}}
		for k, v := range o.Headers {
			h.Headers[k] = commoncfg.Header{Values: []string{v}}
		}
		cfg.HTTPHeaders = h
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid http settings: %w", err)
	}
	rt, err := commoncfg.NewRoundTripperFromConfig(cfg, "blindspot")
	if err != nil {
		return nil, fmt.Errorf("building http client: %w", err)
	}
	return newResilient(scrubbing(rt, o.secrets()), o), nil
}

// RedactURL is redact.URL: the URL without user information and with credential query
// parameters masked, for logs, reports, generated files and snapshots.
func RedactURL(u string) string { return redact.URL(u) }

// safeHeaders are the request headers whose values --verbose shows; every other value is
// redacted, whatever its name.
var safeHeaders = []string{
	"accept", "accept-encoding", "accept-language", "cache-control", "content-length",
	"content-type", "user-agent", "x-scope-orgid", "x-prometheus-remote-read-version",
	"x-prometheus-remote-write-version", "x-grafana-org-id", "x-request-id",
}

// SafeHeader reports whether a header's value can be shown: it is on a short list of headers
// that never carry a credential (Content-Type, User-Agent, the tenant's X-Scope-OrgID…).
func SafeHeader(name string) bool {
	return slices.Contains(safeHeaders, strings.ToLower(name))
}

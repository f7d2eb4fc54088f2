// Package grafana reads the dashboards of a live Grafana through grafana-openapi-client-go over
// blindspot's transport (authentication, TLS, per-request timeouts, bounded retries and at most
// a few requests in flight, as for every source). Its client also makes the calls with which
// publish/grafana pushes generated dashboards (write.go).
//
// Endpoints used (Grafana's documented HTTP API): GET /api/search (type=dash-db, paged),
// GET /api/dashboards/uid/:uid, GET /api/folders (paged), POST /api/folders and
// POST /api/dashboards/db.
package grafana

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	goapi "github.com/grafana/grafana-openapi-client-go/client"
	"github.com/grafana/grafana-openapi-client-go/models"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

// Client talks to one Grafana. It is safe for concurrent use.
type Client struct {
	api  *goapi.GrafanaHTTPAPI
	base string // as shown in reports: redacted (redact.URL); the transport adds the credentials
	// rt is the transport, whose idle connections CloseIdleConnections closes.
	rt http.RoundTripper
}

// CloseIdleConnections closes the connections the client keeps open (httpconfig.CloseIdle).
func (c *Client) CloseIdleConnections() { httpconfig.CloseIdle(c.rt) }

// NewClient returns a client for the Grafana at o.URL (which may include a sub path, as when
// Grafana is served from /grafana/). A service account token goes in o.BearerToken or
// o.BearerTokenFile, a user and password in o.BasicAuth.
//
// The library's own transport constructor is not used: it changes http.DefaultTransport and
// has its own retries; blindspot's transport does both per client.
func NewClient(o httpconfig.Options) (*Client, error) {
	rt, base, err := o.Endpoint()
	if err != nil {
		return nil, err
	}
	cfg := &goapi.TransportConfig{
		Host:     base.Host,
		BasePath: strings.TrimSuffix(base.Path, "/") + goapi.DefaultBasePath,
		Schemes:  []string{base.Scheme},
	}
	tr := httptransport.NewWithClient(cfg.Host, cfg.BasePath, cfg.Schemes, &http.Client{Transport: jsonOnly{rt}})
	// As the library does: plain float64 numbers rather than json.Number.
	tr.Consumers[runtime.JSONMime] = runtime.ConsumerFunc(func(r io.Reader, v any) error {
		return json.NewDecoder(r).Decode(v)
	})
	return &Client{api: goapi.New(tr, cfg, nil), base: strings.TrimSuffix(o.Redacted(), "/"), rt: rt}, nil
}

// URL is the server's address without credentials.
func (c *Client) URL() string { return c.base }

// APIError is an answer other than 2xx: the HTTP status and Grafana's message.
type APIError struct {
	Status  int
	Message string
	// Reason is Grafana's "status" field where it has one ("version-mismatch",
	// "name-exists", "not-found").
	Reason string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("HTTP %d", e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unauthorized reports whether Grafana refused the credentials (401) or the permission (403).
func (e *APIError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// jsonOnly turns an answer that is not JSON (a proxy's login page or error page, another
// server at the URL) into an APIError with the start of its text: the library would otherwise
// fail to decode it into the expected type and say only that.
type jsonOnly struct{ next http.RoundTripper }

func (j jsonOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := j.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == runtime.JSONMime {
		return resp, nil
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	msg := oneLine(string(text))
	if resp.StatusCode < 300 {
		msg = fmt.Sprintf("the answer is %s, not JSON: is this Grafana's address? (%s)", cmp.Or(mt, "untyped"), msg)
	}
	return nil, &APIError{Status: resp.StatusCode, Message: msg}
}

// apiError converts the library's per-status error types, which all carry the status code
// and Grafana's error body, to an APIError. Other errors (connection refused, timeouts, a body
// that is not JSON) are returned as they are.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var generic *runtime.APIError
	if errors.As(err, &generic) {
		return &APIError{Status: generic.Code}
	}
	var (
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	if errors.As(err, &syntax) || errors.As(err, &wrongType) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	coded, ok := err.(interface{ Code() int })
	if !ok {
		return err
	}
	ae = &APIError{Status: coded.Code()}
	if p, ok := err.(interface {
		GetPayload() *models.ErrorResponseBody
	}); ok && p.GetPayload() != nil {
		body := p.GetPayload()
		if body.Message != nil {
			ae.Message = oneLine(*body.Message)
		}
		if ae.Message == "" {
			ae.Message = oneLine(body.Error)
		}
		ae.Reason = body.Status
	}
	return ae
}

// StatusOf returns the HTTP status of an APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

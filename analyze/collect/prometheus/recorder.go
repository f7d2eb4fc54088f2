package prometheus

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze"
)

// endpoint is one API path blindspot reads, and the part of the inventory it provides. The
// list is fixed: the number of requests never grows with the number of jobs, and only the
// job_metrics queries grow with the number of metric names, by one per JobMetricsBatch.
type endpoint struct {
	Part analyze.Part
	Path string // relative to the API prefix, as client_golang builds it
	// Optional marks an endpoint blindspot started reading after snapshots existed: a
	// snapshot without its answer lacks the part rather than failing to read it.
	Optional bool
}

var endpoints = []endpoint{
	{Part: analyze.PartTargets, Path: "/api/v1/targets"},
	{Part: analyze.PartRules, Path: "/api/v1/rules"},
	{Part: analyze.PartConfig, Path: "/api/v1/status/config"},
	{Part: analyze.PartMetricNames, Path: "/api/v1/label/__name__/values"},
	{Part: analyze.PartMetadata, Path: "/api/v1/metadata"},
	{Part: analyze.PartBuildInfo, Path: "/api/v1/status/buildinfo"},
	{Part: analyze.PartJobMetrics, Path: "/api/v1/query"},
	{Part: analyze.PartAlertmanagers, Path: "/api/v1/alertmanagers", Optional: true},
}

// recordedOnly are endpoints Collect does not read but a fleet's source does (a Thanos
// Query's stores): recorded for snapshots and replayed from them.
var recordedOnly = []endpoint{
	{Part: analyze.PartStores, Path: "/api/v1/stores"},
}

func partOf(path string) (analyze.Part, bool) {
	for _, e := range slices.Concat(endpoints, recordedOnly) {
		if strings.HasSuffix(path, e.Path) {
			return e.Part, true
		}
	}
	return "", false
}

// Response is what one endpoint answered: a status and body, or a transport error. These are
// what a snapshot stores, so an offline audit sees exactly what the live one saw.
type Response struct {
	Part analyze.Part `json:"part"`
	Path string       `json:"path"`
	// Query is the PromQL expression of a request to the query endpoint, which is read
	// several times with different expressions; empty for every other endpoint.
	Query       string `json:"query,omitempty"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Error       string `json:"error,omitempty"`
	Body        []byte `json:"-"`
}

// request identifies what a response answered: the endpoint, and for the query endpoint the
// expression.
type request struct {
	part  analyze.Part
	query string
}

// requestOf names the request req makes, reading the expression of a query from the URL or,
// for the POST client_golang sends first, from a copy of the form body.
func requestOf(req *http.Request) (request, bool) {
	part, ok := partOf(req.URL.Path)
	if !ok {
		return request{}, false
	}
	if part != analyze.PartJobMetrics {
		return request{part: part}, true
	}
	form := req.URL.Query()
	if req.Method == http.MethodPost && req.Body != nil && req.Body != http.NoBody {
		var body []byte
		if req.GetBody != nil {
			if rc, err := req.GetBody(); err == nil {
				body, _ = io.ReadAll(rc)
				rc.Close()
			}
		} else {
			// Without GetBody the body can only be read once: read it and put a copy back.
			body, _ = io.ReadAll(req.Body)
			req.Body.Close()
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		if posted, err := url.ParseQuery(string(body)); err == nil && posted.Has("query") {
			form = posted
		}
	}
	return request{part: part, query: form.Get("query")}, true
}

// Recorder is an api.Client that remembers the raw response of every request it serves: one
// per endpoint, and one per expression for the query endpoint. A request made again (the GET
// client_golang falls back to when POST is refused) replaces the earlier answer.
type Recorder struct {
	next api.Client
	// keep tells whether the bodies are recorded (for a snapshot), or only the statuses.
	keep bool
	mu   sync.Mutex
	resp map[request]Response
}

// NewRecorder wraps a client, keeping every answer whole for a snapshot (Responses).
func NewRecorder(next api.Client) *Recorder {
	return &Recorder{next: next, keep: true, resp: map[request]Response{}}
}

// NewAuditRecorder wraps a client for an audit, which needs no snapshot: the large answers
// are decoded as they arrive from a client made by NewClient, and only their statuses are
// recorded. Its Responses have no bodies. Over a client that cannot stream (a Replay) the
// answers are read whole, and still not kept.
func NewAuditRecorder(next api.Client) *Recorder {
	return &Recorder{next: next, resp: map[request]Response{}}
}

func (r *Recorder) URL(ep string, args map[string]string) *url.URL { return r.next.URL(ep, args) }

func (r *Recorder) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	key, ok := requestOf(req) // before the request is sent: it may read a POST body
	resp, body, err := r.next.Do(ctx, req)
	if ok {
		r.record(key, req, resp, body, err)
	}
	// The answer is recorded as it came, so that a snapshot keeps it and fails the same way.
	if err == nil && resp.StatusCode/100 == 2 {
		if err := checkAnswer(req.URL.Path, body); err != nil {
			return resp, body, err
		}
	}
	return resp, body, err
}

// record remembers what req was answered, the body only when the recorder keeps bodies.
func (r *Recorder) record(key request, req *http.Request, resp *http.Response, body []byte, err error) {
	rec := Response{Part: key.part, Path: req.URL.Path, Query: key.query}
	if err != nil {
		rec.Error = err.Error()
	} else {
		rec.Status = resp.StatusCode
		rec.ContentType = resp.Header.Get("Content-Type")
		if r.keep {
			rec.Body = body
		}
	}
	r.mu.Lock()
	r.resp[key] = rec
	r.mu.Unlock()
}

// Responses returns the recorded responses in endpoint order, the queries of one endpoint
// sorted by expression so that snapshots do not depend on the order concurrent requests took.
func (r *Recorder) Responses() []Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Response
	for _, e := range slices.Concat(endpoints, recordedOnly) {
		start := len(out)
		for key, resp := range r.resp {
			if key.part == e.Part {
				out = append(out, resp)
			}
		}
		slices.SortFunc(out[start:], func(a, b Response) int { return cmp.Compare(a.Query, b.Query) })
	}
	return out
}

// response returns the recorded response of a part; for a part read with several queries,
// the first that failed, or else the first.
func (r *Recorder) response(p analyze.Part) (Response, bool) {
	var first *Response
	for _, resp := range r.Responses() {
		if resp.Part != p {
			continue
		}
		if resp.Error != "" || resp.Status >= 300 {
			return resp, true
		}
		if first == nil {
			first = &resp
		}
	}
	if first == nil {
		return Response{}, false
	}
	return *first, true
}

// Replay is an api.Client that answers from recorded responses, so that a snapshot goes
// through the same client_golang decoding as a live server.
type Replay struct {
	byRequest map[request]Response
}

// NewReplay serves the given responses.
func NewReplay(responses []Response) *Replay {
	m := map[request]Response{}
	for _, r := range responses {
		m[request{part: r.Part, query: r.Query}] = r
	}
	return &Replay{byRequest: m}
}

func (r *Replay) URL(ep string, args map[string]string) *url.URL {
	p := ep
	for k, v := range args {
		p = strings.ReplaceAll(p, ":"+k, v)
	}
	return &url.URL{Scheme: "snapshot", Host: "recorded", Path: p}
}

// errNotRecorded means the snapshot has no answer for an endpoint or a query (it was taken by
// a version of blindspot that did not read it, or that chose other metrics to query).
var errNotRecorded = errors.New("not recorded in the snapshot")

func (r *Replay) Do(_ context.Context, req *http.Request) (*http.Response, []byte, error) {
	key, ok := requestOf(req)
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", req.URL.Path, errNotRecorded)
	}
	rec, ok := r.byRequest[key]
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", req.URL.Path, errNotRecorded)
	}
	if rec.Error != "" {
		return nil, nil, errors.New(rec.Error)
	}
	h := http.Header{}
	if rec.ContentType != "" {
		h.Set("Content-Type", rec.ContentType)
	}
	return &http.Response{
		StatusCode: rec.Status,
		Status:     fmt.Sprintf("%d %s", rec.Status, http.StatusText(rec.Status)),
		Header:     h,
		Request:    req,
	}, rec.Body, nil
}

// Parts are the parts Collect reads, in the order it reports them.
func Parts() []analyze.Part {
	out := make([]analyze.Part, len(endpoints))
	for i, e := range endpoints {
		out[i] = e.Part
	}
	return out
}

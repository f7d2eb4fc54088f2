package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze"
)

// endpoint is one API path blindspot reads, and the part of the inventory it provides. The
// list is fixed: the number of requests never grows with the number of jobs.
type endpoint struct {
	Part analyze.Part
	Path string // relative to the API prefix, as client_golang builds it
}

var endpoints = []endpoint{
	{analyze.PartTargets, "/api/v1/targets"},
	{analyze.PartRules, "/api/v1/rules"},
	{analyze.PartConfig, "/api/v1/status/config"},
	{analyze.PartMetricNames, "/api/v1/label/__name__/values"},
	{analyze.PartMetadata, "/api/v1/metadata"},
	{analyze.PartBuildInfo, "/api/v1/status/buildinfo"},
}

func partOf(path string) (analyze.Part, bool) {
	for _, e := range endpoints {
		if strings.HasSuffix(path, e.Path) {
			return e.Part, true
		}
	}
	return "", false
}

// Response is what one endpoint answered: a status and body, or a transport error. These are
// what a snapshot stores, so an offline audit sees exactly what the live one saw.
type Response struct {
	Part        analyze.Part `json:"part"`
	Path        string       `json:"path"`
	Status      int          `json:"status,omitempty"`
	ContentType string       `json:"content_type,omitempty"`
	Error       string       `json:"error,omitempty"`
	Body        []byte       `json:"-"`
}

// Recorder is an api.Client that remembers the raw response of every endpoint it serves.
type Recorder struct {
	next api.Client
	mu   sync.Mutex
	resp map[analyze.Part]Response
}

// NewRecorder wraps a client.
func NewRecorder(next api.Client) *Recorder {
	return &Recorder{next: next, resp: map[analyze.Part]Response{}}
}

func (r *Recorder) URL(ep string, args map[string]string) *url.URL { return r.next.URL(ep, args) }

func (r *Recorder) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	resp, body, err := r.next.Do(ctx, req)
	part, ok := partOf(req.URL.Path)
	if !ok {
		return resp, body, err
	}
	rec := Response{Part: part, Path: req.URL.Path}
	if err != nil {
		rec.Error = err.Error()
	} else {
		rec.Status = resp.StatusCode
		rec.ContentType = resp.Header.Get("Content-Type")
		rec.Body = body
	}
	r.mu.Lock()
	r.resp[part] = rec
	r.mu.Unlock()
	return resp, body, err
}

// Responses returns the recorded responses in endpoint order.
func (r *Recorder) Responses() []Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Response
	for _, e := range endpoints {
		if resp, ok := r.resp[e.Part]; ok {
			out = append(out, resp)
		}
	}
	return out
}

func (r *Recorder) response(p analyze.Part) (Response, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	resp, ok := r.resp[p]
	return resp, ok
}

// Replay is an api.Client that answers from recorded responses, so that a snapshot goes
// through the same client_golang decoding as a live server.
type Replay struct {
	byPart map[analyze.Part]Response
}

// NewReplay serves the given responses.
func NewReplay(responses []Response) *Replay {
	m := map[analyze.Part]Response{}
	for _, r := range responses {
		m[r.Part] = r
	}
	return &Replay{byPart: m}
}

func (r *Replay) URL(ep string, args map[string]string) *url.URL {
	p := ep
	for k, v := range args {
		p = strings.ReplaceAll(p, ":"+k, v)
	}
	return &url.URL{Scheme: "snapshot", Host: "recorded", Path: p}
}

// errNotRecorded means the snapshot has no answer for an endpoint (it was taken by a version
// of blindspot that did not read it).
var errNotRecorded = errors.New("not recorded in the snapshot")

func (r *Replay) Do(_ context.Context, req *http.Request) (*http.Response, []byte, error) {
	part, ok := partOf(req.URL.Path)
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", req.URL.Path, errNotRecorded)
	}
	rec, ok := r.byPart[part]
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

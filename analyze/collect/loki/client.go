// Package loki reads a Loki server: the streams that had entries in a time window, how many
// lines each holds, and which of them log secrets. The client is a small typed one over
// net/http (Loki's own client packages are AGPL from v3 on): every request carries its time
// window, a limit where the endpoint has one, and goes through blindspot's transport, which
// authenticates, bounds each attempt with a timeout, keeps at most a few requests in flight
// and retries transient failures.
package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/logql"
)

// ErrNotSupported is returned for an endpoint the server does not have (the volume endpoint
// before Loki 2.9).
var ErrNotSupported = errors.New("not supported by this Loki")

// Client talks to one Loki. It is safe for concurrent use.
type Client struct {
	base *url.URL // without credentials: the transport adds them
	http *http.Client
}

// CloseIdleConnections closes the connections the client keeps open (httpconfig.CloseIdle).
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// NewClient returns a client with blindspot's transport for o: auth, tenant and other headers
// (X-Scope-OrgID goes in o.Headers), TLS, per-request timeouts, at most o.MaxInFlight requests
// and bounded retries.
func NewClient(o httpconfig.Options) (*Client, error) {
	rt, base, err := o.Endpoint()
	if err != nil {
		return nil, err
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	return &Client{base: base, http: &http.Client{Transport: rt}}, nil
}

// URL is the server's address without credentials.
func (c *Client) URL() string { return c.base.String() }

// Direction orders the lines of a log query.
type Direction string

const (
	Backward Direction = "backward" // newest first, Loki's default
	Forward  Direction = "forward"
)

// ResultType tells log query results (streams) from metric query results (matrix).
type ResultType string

const (
	ResultStreams ResultType = "streams"
	ResultMatrix  ResultType = "matrix"
)

// RangeQuery is a query_range request.
type RangeQuery struct {
	Query      string
	Start, End time.Time
	// Limit bounds the lines a log query returns; Loki's default is 100.
	Limit     int
	Direction Direction
	// Step is the resolution of a metric query; zero lets Loki choose.
	Step time.Duration
}

// QueryResult is the answer to a query_range: Streams for a log query, Matrix for a metric
// query.
type QueryResult struct {
	Type    ResultType
	Streams []Stream
	Matrix  []Series
}

// Stream is one stream of a log query result.
type Stream struct {
	Labels  map[string]string
	Entries []Entry
}

// Entry is one log line.
type Entry struct {
	Time time.Time
	Line string
}

// Series is one series of a metric query result.
type Series struct {
	Labels  map[string]string
	Samples []Sample
}

// Sample is one point of a series.
type Sample struct {
	Time  time.Time
	Value float64
}

// Volume is the size of the matching streams, aggregated by label set. Loki reports bytes of
// chunks, not lines.
type Volume struct {
	Labels map[string]string
	Bytes  float64
}

// APIError is an answer other than 2xx. Msg is Loki's message (plain text in Loki 1.x and
// often 2.x/3.x, the error field of a JSON error otherwise), on one line.
type APIError struct {
	Endpoint string // the path, without query parameters
	Status   int
	Msg      string
}

func (e *APIError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("%s: HTTP %d", e.Endpoint, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Endpoint, e.Status, e.Msg)
}

// Labels lists the label names of the streams with entries in [start, end].
func (c *Client) Labels(ctx context.Context, start, end time.Time) ([]string, error) {
	var names []string
	err := c.get(ctx, "/loki/api/v1/labels", window(start, end), &names)
	return names, err
}

// LabelValues lists the values of one label in [start, end].
func (c *Client) LabelValues(ctx context.Context, name string, start, end time.Time) ([]string, error) {
	if err := logql.ValidLabelName(name); err != nil {
		return nil, err
	}
	var values []string
	err := c.get(ctx, "/loki/api/v1/label/"+url.PathEscape(name)+"/values", window(start, end), &values)
	return values, err
}

// Series lists the label sets of the streams matching any of the selectors in [start, end].
// Loki wants at least one selector.
func (c *Client) Series(ctx context.Context, selectors []string, start, end time.Time) ([]map[string]string, error) {
	if len(selectors) == 0 {
		return nil, errors.New("series: no selector")
	}
	params := window(start, end)
	for _, s := range selectors {
		params.Add("match[]", s)
	}
	var series []map[string]string
	err := c.get(ctx, "/loki/api/v1/series", params, &series)
	return series, err
}

// QueryRange runs a log or metric query over a time range.
func (c *Client) QueryRange(ctx context.Context, q RangeQuery) (*QueryResult, error) {
	params := window(q.Start, q.End)
	params.Set("query", q.Query)
	if q.Limit > 0 {
		params.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Direction != "" {
		params.Set("direction", string(q.Direction))
	}
	if q.Step > 0 {
		params.Set("step", strconv.FormatFloat(q.Step.Seconds(), 'f', -1, 64))
	}
	var data struct {
		ResultType ResultType      `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	const endpoint = "/loki/api/v1/query_range"
	if err := c.get(ctx, endpoint, params, &data); err != nil {
		return nil, err
	}
	res := &QueryResult{Type: data.ResultType}
	var err error
	switch data.ResultType {
	case ResultStreams:
		res.Streams, err = decodeStreams(data.Result)
	case ResultMatrix:
		res.Matrix, err = decodeMatrix(data.Result)
	default:
		err = fmt.Errorf("unexpected result type %q", data.ResultType)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", endpoint, err)
	}
	return res, nil
}

// Volume returns the bytes of the streams matching selector in [start, end], aggregated by
// the labels the selector names (Loki ≥ 2.9, with volume_enabled). A server without the
// endpoint, or with volume disabled (404 too), yields ErrNotSupported.
func (c *Client) Volume(ctx context.Context, selector string, start, end time.Time, limit int) ([]Volume, error) {
	params := window(start, end)
	params.Set("query", selector)
	if limit > 0 {
		params.Set("limit", strconv.Itoa(limit))
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string  `json:"metric"`
			Value  [2]json.RawMessage `json:"value"`
		} `json:"result"`
	}
	const endpoint = "/loki/api/v1/index/volume"
	if err := c.getIndex(ctx, endpoint, params, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("decoding %s: unexpected result type %q", endpoint, data.ResultType)
	}
	out := make([]Volume, 0, len(data.Result))
	for _, r := range data.Result {
		_, v, err := decodePoint(r.Value)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", endpoint, err)
		}
		out = append(out, Volume{Labels: r.Metric, Bytes: v})
	}
	return out, nil
}

// VolumeAggregation says what a volume request sums into.
type VolumeAggregation string

const (
	// BySeries sums into the label-value pairs of the selector's (or TargetLabels') names,
	// Loki's default.
	BySeries VolumeAggregation = "series"
	// ByLabels sums into label names only, each with the value "".
	ByLabels VolumeAggregation = "labels"
)

// VolumeQuery is a volume_range request: the size Loki's index gives the streams matching
// Selector, step by step over [Start, End].
type VolumeQuery struct {
	Selector   string
	Start, End time.Time
	// Step is the width of each point; zero lets Loki choose.
	Step time.Duration
	// Limit bounds the label sets of each step, the largest kept; Loki's default is 100.
	Limit int
	// TargetLabels sums into these label names only, instead of those the selector names.
	TargetLabels []string
	// AggregateBy is BySeries (Loki's default when empty) or ByLabels.
	AggregateBy VolumeAggregation
}

// VolumeRange returns the bytes Loki's index attributes to the streams matching q.Selector in
// each step of [q.Start, q.End], one series per label set, each point stamped with the end of
// its step (Loki ≥ 2.9 with volume_enabled, on by default from 3.0). Parameters and answer are
// those of https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-log-volume: a
// Prometheus-style matrix, except that Loki's query frontend answers "vector" when no series
// has more than one point (pkg/querier/queryrange/volume.go, toPrometheusData), which is read
// the same way. A server without the endpoint yields ErrNotSupported, and so does one with
// volume disabled: its query frontend answers 404 "not found" then (volumeFeatureFlagRoundTripper
// in pkg/querier/queryrange/roundtrip.go, 2.9 to 3.x).
func (c *Client) VolumeRange(ctx context.Context, q VolumeQuery) ([]Series, error) {
	params := window(q.Start, q.End)
	params.Set("query", q.Selector)
	if q.Step > 0 {
		params.Set("step", strconv.FormatFloat(q.Step.Seconds(), 'f', -1, 64))
	}
	if q.Limit > 0 {
		params.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(q.TargetLabels) > 0 {
		for _, l := range q.TargetLabels {
			if err := logql.ValidLabelName(l); err != nil {
				return nil, err
			}
		}
		params.Set("targetLabels", strings.Join(q.TargetLabels, ","))
	}
	if q.AggregateBy != "" {
		params.Set("aggregateBy", string(q.AggregateBy))
	}
	var data struct {
		ResultType ResultType      `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	const endpoint = "/loki/api/v1/index/volume_range"
	if err := c.getIndex(ctx, endpoint, params, &data); err != nil {
		return nil, err
	}
	var out []Series
	var err error
	switch data.ResultType {
	case ResultMatrix:
		out, err = decodeMatrix(data.Result)
	case "vector":
		out, err = decodeVector(data.Result)
	default:
		err = fmt.Errorf("unexpected result type %q", data.ResultType)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", endpoint, err)
	}
	return out, nil
}

// getIndex is get for an index endpoint, which a Loki without it (before 2.9, or with
// volume disabled) answers with 404: ErrNotSupported.
func (c *Client) getIndex(ctx context.Context, endpoint string, params url.Values, data any) error {
	err := c.get(ctx, endpoint, params, data)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return fmt.Errorf("%s: %w", endpoint, ErrNotSupported)
	}
	return err
}

// window is the start and end parameters every request carries, as nanosecond epochs.
func window(start, end time.Time) url.Values {
	return url.Values{
		"start": {strconv.FormatInt(start.UnixNano(), 10)},
		"end":   {strconv.FormatInt(end.UnixNano(), 10)},
	}
}

// get requests endpoint and decodes the data field of a successful answer into data.
// Errors name the endpoint but not the query string: it may be long, and the report wants
// one line.
func (c *Client) get(ctx context.Context, endpoint string, params url.Values, data any) error {
	u := *c.base
	u.Path += endpoint
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	// The transport bounds the answer (httpconfig: max_response_bytes) and fails past it.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", endpoint, err)
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Endpoint: endpoint, Status: resp.StatusCode, Msg: errorMessage(body)}
	}
	var envelope struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("decoding %s: %w", endpoint, err)
	}
	if envelope.Status != "success" {
		return fmt.Errorf("%s: status %q", endpoint, envelope.Status)
	}
	if err := json.Unmarshal(envelope.Data, data); err != nil {
		return fmt.Errorf("decoding %s: %w", endpoint, err)
	}
	return nil
}

// errorMessage extracts Loki's message from an error body: the error field of a JSON error,
// or the plain text, cut to one short line. An HTML page says nothing one line can hold.
func errorMessage(body []byte) string {
	var apiErr struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &apiErr) == nil {
		if apiErr.Error != "" {
			return oneLine(apiErr.Error)
		}
		if apiErr.Message != "" {
			return oneLine(apiErr.Message)
		}
	}
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "<") || strings.HasPrefix(s, "{") {
		return ""
	}
	return oneLine(s)
}

// oneLine collapses white space and cuts s to a length a report line can hold.
func oneLine(s string) string {
	const maxLen = 300
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen]) + "…"
	}
	return s
}

func decodeStreams(raw json.RawMessage) ([]Stream, error) {
	var streams []struct {
		Stream map[string]string `json:"stream"`
		// Loki 3 appends a third element (structured metadata) when asked to categorize labels.
		Values [][]json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(raw, &streams); err != nil {
		return nil, err
	}
	out := make([]Stream, len(streams))
	for i, s := range streams {
		out[i].Labels = s.Stream
		out[i].Entries = make([]Entry, 0, len(s.Values))
		for _, v := range s.Values {
			if len(v) < 2 {
				return nil, fmt.Errorf("log entry with %d elements", len(v))
			}
			var ts, line string
			if err := json.Unmarshal(v[0], &ts); err != nil {
				return nil, fmt.Errorf("log entry timestamp: %w", err)
			}
			ns, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("log entry timestamp %q: not a nanosecond epoch", ts)
			}
			if err := json.Unmarshal(v[1], &line); err != nil {
				// The line itself is never quoted in an error.
				return nil, errors.New("log entry line is not a string")
			}
			out[i].Entries = append(out[i].Entries, Entry{Time: time.Unix(0, ns).UTC(), Line: line})
		}
	}
	return out, nil
}

func decodeMatrix(raw json.RawMessage) ([]Series, error) {
	var matrix []struct {
		Metric map[string]string    `json:"metric"`
		Values [][2]json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(raw, &matrix); err != nil {
		return nil, err
	}
	out := make([]Series, len(matrix))
	for i, m := range matrix {
		out[i].Labels = m.Metric
		for _, p := range m.Values {
			t, v, err := decodePoint(p)
			if err != nil {
				return nil, err
			}
			out[i].Samples = append(out[i].Samples, Sample{Time: t, Value: v})
		}
	}
	return out, nil
}

// decodeVector reads a Prometheus-style vector as series of one point each.
func decodeVector(raw json.RawMessage) ([]Series, error) {
	var vector []struct {
		Metric map[string]string  `json:"metric"`
		Value  [2]json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &vector); err != nil {
		return nil, err
	}
	out := make([]Series, len(vector))
	for i, v := range vector {
		t, x, err := decodePoint(v.Value)
		if err != nil {
			return nil, err
		}
		out[i] = Series{Labels: v.Metric, Samples: []Sample{{Time: t, Value: x}}}
	}
	return out, nil
}

// decodePoint reads a Prometheus-style [<seconds>, "<value>"] pair.
func decodePoint(p [2]json.RawMessage) (time.Time, float64, error) {
	var secs float64
	if err := json.Unmarshal(p[0], &secs); err != nil {
		return time.Time{}, 0, fmt.Errorf("sample timestamp: %w", err)
	}
	var s string
	if err := json.Unmarshal(p[1], &s); err != nil {
		return time.Time{}, 0, fmt.Errorf("sample value: %w", err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("sample value %q: %w", s, err)
	}
	// Rounded: a point stamped at a millisecond (volume_range's step ends) is not exact in
	// binary, and truncating would move it a millisecond earlier.
	return time.UnixMilli(int64(math.Round(secs * 1000))).UTC(), v, nil
}

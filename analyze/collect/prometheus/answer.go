package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// checkAnswer judges the envelope of a successful (2xx) answer of path before client_golang
// decodes it. client_golang accepts a body without a status or without data ({},
// {"status":"success"}, "data": null) as a success with a zero result, which reads as an
// empty server, and for a query as a nil value that nothing can use. Such an answer is an
// error naming the endpoint, so the part is reported as unreadable. A body that is not a JSON
// object is left to client_golang, which reports it.
func checkAnswer(path string, body []byte) error {
	status, data, ok := envelope(body)
	switch {
	case !ok, status == "error":
		return nil // client_golang reports a malformed body and the server's error
	case status != "success":
		return fmt.Errorf("%s answered without \"status\":\"success\"", path)
	case data == dataAbsent, data == dataNull && !nullMeansEmpty(path):
		return fmt.Errorf("%s answered with no data", path)
	}
	return nil
}

type dataKind int

const (
	dataAbsent dataKind = iota
	dataNull
	dataPresent
)

// envelope reads the status and whether there is data from the top level of an API answer.
// It stops as soon as it knows both: Prometheus writes status before data, so the data itself
// (tens of megabytes at scale) is not read twice. ok is false when body is not a JSON object.
func envelope(body []byte) (status string, data dataKind, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", dataAbsent, false
	}
	var seenStatus bool
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", dataAbsent, false
		}
		switch key {
		case "status":
			if err := dec.Decode(&status); err != nil {
				return "", dataAbsent, false
			}
			seenStatus = true
		case "data":
			t, err := dec.Token()
			if err != nil {
				return "", dataAbsent, false
			}
			data = dataNull
			if t != nil {
				data = dataPresent
				if _, isDelim := t.(json.Delim); isDelim && !seenStatus && !skipRest(dec) {
					return "", dataAbsent, false
				}
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", dataAbsent, false
			}
		}
		if seenStatus && data != dataAbsent {
			return status, data, true
		}
	}
	return status, data, true
}

// skipRest reads to the end of the array or object whose opening delimiter was just read.
func skipRest(dec *json.Decoder) bool {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return true
}

// nullMeansEmpty tells the endpoints whose data is a list or a map, where a server written in
// Go may encode an empty one as null (a nil slice or map): that is an answer with nothing in
// it, not a missing answer. The other endpoints answer with an object, which is never null.
func nullMeansEmpty(path string) bool {
	part, ok := partOf(path)
	return ok && (part == analyze.PartMetricNames || part == analyze.PartMetadata)
}

// queryVector runs an instant query at the server's own now (the zero time: blindspot's clock
// may be off by more than the lookback window) and returns its vector. An answer that cannot
// be decoded, or decodes to something else, is an error naming the endpoint.
func queryVector(ctx context.Context, api promv1.API, q string) (model.Vector, error) {
	v, _, _, err := api.Query(ctx, q, time.Time{})
	if err != nil {
		return nil, queryError(err)
	}
	return vectorOf(v)
}

// queryError names the endpoint in the error of a query whose answer could not be decoded;
// any other error is returned as it is.
func queryError(err error) error {
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) && apiErr.Type == promv1.ErrBadResponse {
		return fmt.Errorf("/api/v1/query answered with a body that cannot be read: %s", apiErr.Msg)
	}
	return err
}

// vectorOf is the instant vector of a query answer, or an error naming what came instead.
func vectorOf(v model.Value) (model.Vector, error) {
	switch v := v.(type) {
	case model.Vector:
		return v, nil
	case nil:
		return nil, fmt.Errorf("/api/v1/query answered with no result")
	default:
		return nil, fmt.Errorf("/api/v1/query answered with a %s, not a vector", v.Type())
	}
}

// queryJobNames runs group by (job, __name__) queries, at most jobMetricsParallel at once
// (the transport's MaxInFlight bounds all requests to the server on top of this), and returns
// each query's (job, name) pairs or error at its index.
func queryJobNames(ctx context.Context, rec *Recorder, queries []string) ([][]jobName, []error) {
	pairs := make([][]jobName, len(queries))
	errs := make([]error, len(queries))
	sem := make(chan struct{}, jobMetricsParallel)
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Go(func() {
			if errs[i] = acquire(ctx, sem); errs[i] != nil {
				return
			}
			defer func() { <-sem }()
			pairs[i], errs[i] = readJobNames(ctx, rec, q)
		})
	}
	wg.Wait()
	return pairs, errs
}

// acquire takes one of sem's slots, or returns ctx's cause when ctx ends first. The slot is
// given back with <-sem.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// getData GETs the API path (with query, which may be nil) through client and decodes the
// data of its `{"status": "success", "data": …}` answer into data. Its errors name the path
// (an HTTP status other than 200 with the answer's first line, an answer that does not
// decode) or say the status.
func getData(ctx context.Context, client api.Client, path string, query url.Values, data any) error {
	u := client.URL(path, nil)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, body, err := client.Do(ctx, req)
	if err != nil {
		return errors.New(describe(err))
	}
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("%s answered HTTP %d", u.Path, resp.StatusCode)
		if d := detail(string(body)); d != "" {
			msg += ": " + d
		}
		return errors.New(msg)
	}
	doc := struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{Data: data}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("decoding %s: %w", u.Path, err)
	}
	if doc.Status != "success" {
		return fmt.Errorf("status %q", doc.Status)
	}
	return nil
}

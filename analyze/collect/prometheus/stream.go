package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// The large answers (targets, rules, metric names, metadata, the job_metrics queries) are
// decoded as they arrive, element by element, instead of being read whole and then decoded
// as client_golang does: only one element of a list is held as JSON at a time, and only the
// fields blindspot uses are kept. The small answers (build info, configuration,
// Alertmanagers) still go through client_golang.

// client is the api.Client NewClient returns: client_golang's, which reads every body whole,
// and the same transport for the answers decoded as they arrive.
type client struct {
	api.Client
	http *http.Client
}

// CloseIdleConnections closes the connections the client keeps open (httpconfig.CloseIdle).
func (c *client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// streamer is a client that hands over a response with its body still to read.
type streamer interface {
	stream(ctx context.Context, req *http.Request) (*http.Response, error)
}

func (c *client) stream(ctx context.Context, req *http.Request) (*http.Response, error) {
	return c.http.Do(req.WithContext(ctx))
}

// answer sends req through the recorder. When the recorder keeps bodies (for a snapshot) or
// its client cannot stream (a snapshot being replayed), the body is read whole and recorded;
// otherwise only the status is recorded and the body is handed over unread. The caller closes
// the body.
func (r *Recorder) answer(ctx context.Context, req *http.Request) (*http.Response, io.ReadCloser, error) {
	key, recorded := requestOf(req) // before the request is sent: it may read a POST body
	record := func(resp *http.Response, body []byte, err error) {
		if recorded {
			r.record(key, req, resp, body, err)
		}
	}
	s, ok := r.next.(streamer)
	if r.keep || !ok {
		resp, body, err := r.next.Do(ctx, req)
		record(resp, body, err)
		if err != nil {
			return resp, nil, err
		}
		return resp, io.NopCloser(bytes.NewReader(body)), nil
	}
	resp, err := s.stream(ctx, req)
	record(resp, nil, err)
	if err != nil {
		return resp, nil, err
	}
	return resp, resp.Body, nil
}

// get reads the answer of a GET of endpoint (an API path such as /api/v1/targets) with the
// given query parameters, handing the decoder positioned after data's first token to fill.
func (r *Recorder) get(ctx context.Context, endpoint string, params url.Values, fill func(*json.Decoder, json.Token) error) error {
	u := r.URL(endpoint, nil)
	u.RawQuery = params.Encode()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	_, err = r.read(ctx, req, fill)
	return err
}

// post reads the answer of a form POST of endpoint, falling back to a GET when the server
// refuses the POST (HTTP 403, 405 or 501), as client_golang does.
func (r *Recorder) post(ctx context.Context, endpoint string, form url.Values, fill func(*json.Decoder, json.Token) error) error {
	u := r.URL(endpoint, nil)
	encoded := form.Encode()
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(encoded))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header["Idempotency-Key"] = nil
	status, err := r.read(ctx, req, fill)
	if status == http.StatusForbidden || status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented {
		u.RawQuery = encoded
		if req, err = http.NewRequest(http.MethodGet, u.String(), nil); err != nil {
			return err
		}
		_, err = r.read(ctx, req, fill)
	}
	return err
}

// read sends req and decodes its answer, returning the HTTP status (0 without an answer).
func (r *Recorder) read(ctx context.Context, req *http.Request, fill func(*json.Decoder, json.Token) error) (int, error) {
	resp, body, err := r.answer(ctx, req)
	if err != nil {
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	defer func() {
		// What is left (a final newline) is read, so that the connection can serve the next
		// request.
		_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
		body.Close()
	}()
	err = decodeAnswer(req.URL.Path, resp, body, fill)
	if err != nil {
		// The rest of a body that could not be decoded is still read: the answer read whole
		// fails on its limit, or on the source's timeout, before anything is decoded, and
		// that is the more useful error.
		if _, readErr := io.Copy(io.Discard, body); readErr != nil {
			return resp.StatusCode, readErr
		}
	}
	return resp.StatusCode, err
}

// decodeAnswer judges and decodes an API answer of path as it is read: an error status as
// client_golang reports it, a successful one through its envelope, with the judgement of
// checkAnswer (no status, no data: an error naming the endpoint). fill gets the decoder
// after the first token of data, which is not null.
func decodeAnswer(path string, resp *http.Response, body io.Reader, fill func(*json.Decoder, json.Token) error) error {
	if resp.StatusCode/100 != 2 {
		return errorAnswer(resp, body)
	}
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == nil {
			err = fmt.Errorf("json: cannot unmarshal %v into Go value of type v1.apiResponse", t)
		}
		return badAnswer(err)
	}
	var status, errType, errMsg string
	data := dataAbsent
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return badAnswer(err)
		}
		switch key {
		case "status":
			err = dec.Decode(&status)
		case "errorType":
			err = dec.Decode(&errType)
		case "error":
			err = dec.Decode(&errMsg)
		case "data":
			var t json.Token
			if t, err = dec.Token(); err != nil {
				break
			}
			data = dataNull
			if t == nil {
				break
			}
			data = dataPresent
			if status == "error" {
				err = skipValue(dec, t)
				break
			}
			if err = fill(dec, t); err != nil && status != "success" && badAnswer(err) != err {
				// Data that does not decode, in an answer that is not a success (so far):
				// the envelope is what is wrong, as checkAnswer judges it.
				return fmt.Errorf("%s answered without \"status\":\"success\"", path)
			}
		default:
			err = dec.Decode(&json.RawMessage{})
		}
		if err != nil {
			return badAnswer(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return badAnswer(err)
	}
	switch {
	case status == "error":
		return &promv1.Error{Type: promv1.ErrorType(errType), Msg: errMsg}
	case status != "success":
		return fmt.Errorf("%s answered without \"status\":\"success\"", path)
	case data == dataAbsent, data == dataNull && !nullMeansEmpty(path):
		return fmt.Errorf("%s answered with no data", path)
	}
	return nil
}

// errorAnswer is the error of an answer with an error status, as client_golang makes it.
func errorAnswer(resp *http.Response, body io.Reader) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	code := resp.StatusCode
	errType, msg := promv1.ErrBadResponse, fmt.Sprintf("bad response code %d", code)
	switch code / 100 {
	case 4:
		errType, msg = promv1.ErrClient, fmt.Sprintf("client error: %d", code)
	case 5:
		errType, msg = promv1.ErrServer, fmt.Sprintf("server error: %d", code)
	}
	if code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
		return &promv1.Error{Type: errType, Msg: msg, Detail: string(data)}
	}
	var result struct {
		Status    string           `json:"status"`
		ErrorType promv1.ErrorType `json:"errorType"`
		Error     string           `json:"error"`
	}
	if json.Unmarshal(data, &result) != nil {
		return &promv1.Error{Type: errType, Msg: msg, Detail: string(data)}
	}
	if result.Status == "success" {
		return &promv1.Error{Type: promv1.ErrBadResponse, Msg: "inconsistent body for response code"}
	}
	if result.ErrorType == "" {
		result.ErrorType = promv1.ErrClient
	}
	if result.Error == "" {
		result.Error = fmt.Sprintf("client error: %d", code)
	}
	return &promv1.Error{Type: result.ErrorType, Msg: result.Error}
}

// badAnswer makes a JSON error a bad response, as client_golang reports a body it cannot
// decode; any other error (the body's limit, a timeout) is what reading the body failed with.
func badAnswer(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var bad *badShape
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &promv1.Error{Type: promv1.ErrBadResponse, Msg: "unexpected end of JSON input"}
	case errors.As(err, &syntax), errors.As(err, &typ), errors.As(err, &bad):
		return &promv1.Error{Type: promv1.ErrBadResponse, Msg: err.Error()}
	}
	return err
}

// badShape is data of another JSON type than the endpoint answers with.
type badShape struct {
	got  json.Token
	want string
}

func (e *badShape) Error() string {
	got := "a value"
	switch t := e.got.(type) {
	case json.Delim:
		got = map[json.Delim]string{'[': "an array", '{': "an object"}[t]
	case string:
		got = "a string"
	case float64, json.Number:
		got = "a number"
	case bool:
		got = "a boolean"
	}
	return fmt.Sprintf("json: cannot unmarshal %s into %s", got, e.want)
}

// skipValue reads past the value whose first token is t.
func skipValue(dec *json.Decoder, t json.Token) error {
	if d, ok := t.(json.Delim); ok && (d == '[' || d == '{') {
		if !skipRest(dec) {
			return &json.SyntaxError{}
		}
	}
	return nil
}

// eachElement reads the array whose first token is t (null is an empty array), calling elem
// with the decoder before each element.
func eachElement(dec *json.Decoder, t json.Token, what string, elem func() error) error {
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return &badShape{got: t, want: what}
	}
	for dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// eachField reads the object whose first token is t (null is an empty object), calling field
// with each key and the decoder before its value.
func eachField(dec *json.Decoder, t json.Token, what string, field func(key string) error) error {
	if t == nil {
		return nil
	}
	if t != json.Delim('{') {
		return &badShape{got: t, want: what}
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := key.(string)
		if err := field(k); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// skip reads past the next value.
func skip(dec *json.Decoder) error { return dec.Decode(&json.RawMessage{}) }

// decodeElements decodes each element of the array at the decoder's next value into a new T.
func decodeElements[T any](dec *json.Decoder, what string, each func(T)) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	return eachElement(dec, t, what, func() error {
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		each(v)
		return nil
	})
}

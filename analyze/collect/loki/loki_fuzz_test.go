package loki_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// lokiAnswers are the bodies a fuzzed Loki answers with, per endpoint; query_range answers a
// metric query (it has a step) with Metric and a log query with Log.
type lokiAnswers struct {
	status                                      int
	labels, values, series, metric, log, volume []byte
}

// FuzzRead gives the Loki reader arbitrary answers for labels, label values, series, metric
// and log queries and volumes. It must not panic; every part is read or fails with a one-line
// error; and no line of the log answer that holds a secret is shown unmasked as an example.
func FuzzRead(f *testing.F) {
	patterns, err := rulesets.SecretPatterns()
	if err != nil {
		f.Fatal(err)
	}
	var (
		mu  sync.Mutex
		cur lokiAnswers
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := cur
		mu.Unlock()
		var body []byte
		switch p := r.URL.Path; {
		case p == "/loki/api/v1/labels":
			body = a.labels
		case strings.HasPrefix(p, "/loki/api/v1/label/"):
			body = a.values
		case p == "/loki/api/v1/series":
			body = a.series
		case p == "/loki/api/v1/query_range" && r.URL.Query().Has("step"):
			body = a.metric
		case p == "/loki/api/v1/query_range":
			body = a.log
		case p == "/loki/api/v1/index/volume":
			body = a.volume
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write(body)
	}))
	f.Cleanup(srv.Close)
	client, err := loki.NewClient(httpconfig.Options{URL: srv.URL, Timeout: 10 * time.Second})
	if err != nil {
		f.Fatal(err)
	}

	ok := func(data string) string { return `{"status":"success","data":` + data + `}` }
	f.Add(false,
		[]byte(ok(`["job","app"]`)), []byte(ok(`["api"]`)),
		[]byte(ok(`[{"job":"api","app":"x"}]`)),
		[]byte(ok(`{"resultType":"matrix","result":[{"metric":{"job":"api","app":"x"},"values":[[1700000000,"3"]]}]}`)),
		[]byte(ok(`{"resultType":"streams","result":[{"stream":{"job":"api","app":"x"},"values":[["1700000000000000000","login password=hunter2 ok"]]}]}`)),
		[]byte(ok(`{"volumes":[{"metric":{"job":"api"},"value":[1700000000,"100"]}]}`)))
	f.Add(false, []byte(ok(`[]`)), []byte(ok(`[]`)), []byte(ok(`[]`)), []byte(ok(`{"resultType":"vector","result":[]}`)), []byte(ok(`{"resultType":"streams","result":null}`)), []byte(`{}`))
	f.Add(true, []byte("too many outstanding requests"), []byte(`{"status":"error","error":"x\ny"}`), []byte(""), []byte("null"), []byte("["), []byte("404 page not found"))
	f.Add(false, []byte(ok(`["job"]`)), []byte(ok(`null`)), []byte(ok(`[{"job":""},{}]`)), []byte(ok(`{"resultType":"matrix","result":[{"metric":{},"values":[[0,"NaN"],[1,"-1"]]}]}`)), []byte(ok(`{"resultType":"streams","result":[{"stream":{},"values":[["x","AKIAIOSFODNN7EXAMPLE"]]}]}`)), []byte(ok(`{"volumes":null}`)))
	f.Fuzz(func(t *testing.T, bad bool, labels, values, series, metric, log, volume []byte) {
		a := lokiAnswers{status: http.StatusOK, labels: labels, values: values, series: series, metric: metric, log: log, volume: volume}
		if bad {
			a.status = http.StatusBadRequest // not retried: one answer per request
		}
		mu.Lock()
		cur = a
		mu.Unlock()
		end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
		r := loki.Read(context.Background(), client, loki.Options{End: end, MaxQueries: 3, Limit: 10}, patterns, nil)
		for _, p := range []analyze.Part{analyze.PartLogStreams, analyze.PartLogSecrets} {
			if !slices.Contains(r.Parts, p) && !slices.ContainsFunc(r.Errors, func(e analyze.SourceError) bool { return e.Part == p }) {
				t.Fatalf("part %s neither read nor failed: %+v", p, r)
			}
		}
		for _, e := range r.Errors {
			if strings.Contains(e.Err, "\n") {
				t.Fatalf("multi-line error of part %s: %q", e.Part, e.Err)
			}
		}
		for _, line := range logLines(log) {
			if len(secrets.Scan(line, patterns)) == 0 || secrets.Mask(line, patterns) == line {
				continue
			}
			for _, h := range r.Logs.Secrets {
				if h.Example == line {
					t.Fatalf("the line %q holding a secret is the unmasked example of %s", line, h.Stream)
				}
			}
		}
	})
}

// logLines are the lines of a log query's answer, as far as it can be decoded.
func logLines(body []byte) []string {
	var a struct {
		Data struct {
			Result []struct {
				Values [][]string `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &a) != nil {
		return nil
	}
	var out []string
	for _, s := range a.Data.Result {
		for _, v := range s.Values {
			if len(v) == 2 {
				out = append(out, v[1])
			}
		}
	}
	return out
}

// FuzzReadHistory gives the log history arbitrary answers for volume_range, volume and metric
// queries. It must not panic; the history is held or fails with one error of one line; and a
// job held is named and either indexed or counted, never both.
func FuzzReadHistory(f *testing.F) {
	var (
		mu  sync.Mutex
		cur lokiAnswers
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := cur
		mu.Unlock()
		var body []byte
		switch r.URL.Path {
		case "/loki/api/v1/index/volume_range":
			body = a.series
		case "/loki/api/v1/index/volume":
			body = a.volume
		case "/loki/api/v1/query_range":
			body = a.metric
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write(body)
	}))
	f.Cleanup(srv.Close)
	client, err := loki.NewClient(httpconfig.Options{URL: srv.URL, Timeout: 10 * time.Second})
	if err != nil {
		f.Fatal(err)
	}

	ok := func(data string) string { return `{"status":"success","data":` + data + `}` }
	f.Add(200,
		[]byte(ok(`{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1764118799.999,"2048"],[1764122400,"0"]]},{"metric":{},"values":[[1,"1"]]}]}`)),
		[]byte(ok(`{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[1764126000,"0"]}]}`)),
		[]byte(ok(`{"resultType":"matrix","result":[]}`)))
	f.Add(200, []byte(ok(`{"resultType":"vector","result":[]}`)), []byte(ok(`{"resultType":"vector","result":null}`)),
		[]byte(ok(`{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1764118800,"3"]]}]}`)))
	f.Add(404, []byte("not found"), []byte("not found"), []byte(`{"resultType":"matrix","result":[]}`))
	f.Add(400, []byte("the query hit the max number of series limit (limit: 1000 series)"), []byte("x\ny"), []byte(""))
	f.Add(200, []byte(ok(`{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1e300,"NaN"],["x","1"]]}]}`)), []byte("["), []byte("null"))
	f.Fuzz(func(t *testing.T, status int, volumeRange, volume, metric []byte) {
		switch status {
		case http.StatusNotFound, http.StatusBadRequest:
		default:
			status = http.StatusOK // no retried answers: one answer per request
		}
		mu.Lock()
		cur = lokiAnswers{status: status, series: volumeRange, volume: volume, metric: metric}
		mu.Unlock()
		end := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
		r := loki.ReadHistory(context.Background(), client, loki.HistoryOptions{End: end})
		if r.OK == (len(r.Errors) != 0) || len(r.Errors) > 1 {
			t.Fatalf("held %t with errors %v", r.OK, r.Errors)
		}
		for _, e := range r.Errors {
			if e.Part != analyze.PartLogHistory || strings.Contains(e.Err, "\n") {
				t.Fatalf("error %+v", e)
			}
		}
		for _, j := range r.History.Jobs {
			if j.Job == "" || j.Indexed && (j.Lines != 0 || j.Recent != 0) || !j.Indexed && (j.Bytes != 0 || j.Active) {
				t.Fatalf("job %+v", j)
			}
		}
	})
}

package prometheus_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// emptyAnswers are HTTP 200 answers that carry nothing usable, for every endpoint.
var emptyAnswers = []string{
	`{}`,
	`{"status":"success"}`,
	`{"status":"success","data":null}`,
	`{"data":{"resultType":"vector","result":[]}}`,
	`{"status":"ok","data":{}}`,
}

// wrongAnswers have data of a type no endpoint answers with, or a query result of the wrong
// shape. Each part may decode some of them without an error (an object with no known field
// is an empty answer), but none may panic.
var wrongAnswers = slices.Concat([]string{
	`{"status":"success","data":"text"}`,
	`{"status":"success","data":42}`,
	`{"status":"success","data":[null]}`,
}, queryOnly, []string{
	`{"status":"success","data":{"groups":[null,{"rules":[null,{"type":"nonsense"}]}]}}`,
	`{"status":"success","data":{"activeTargets":[null],"droppedTargets":null}}`,
	`{"status":"success","data":{"activeAlertmanagers":[null],"droppedAlertmanagers":[{}]}}`,
	`{"status":"success","data":{"yaml":null}}`,
	`{"status":"success","data":{"up":[null]}}`,
	`<html>proxy says hello</html>`,
	``,
})

// The query endpoint's value is the only one used as an interface (model.Value); every other
// endpoint decodes into a struct, a list or a map.
var queryOnly = []string{
	`{"status":"success","data":{"resultType":"vector"}}`,
	`{"status":"success","data":{"resultType":"vector","result":{}}}`,
	`{"status":"success","data":{"resultType":"matrix","result":[]}}`,
	`{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`,
	`{"status":"success","data":{"resultType":"scalar","result":null}}`,
	`{"status":"success","data":{"resultType":"nonsense","result":[]}}`,
}

func TestAnswersWithoutDataAreSourceErrors(t *testing.T) {
	t.Parallel()
	for part, path := range apiPath {
		for _, body := range emptyAnswers {
			t.Run(fmt.Sprintf("%s answering %s is an error for %s naming the endpoint, live and replayed.", path, body, part), func(t *testing.T) {
				t.Parallel()
				if body == `{"status":"success","data":null}` && (part == analyze.PartMetricNames || part == analyze.PartMetadata) {
					t.Skip("a list or a map encoded as null is an empty answer")
				}
				fake := newFakePrometheus(t)
				fake.set(path, jsonBody(200, []byte(body)))
				inv, rec := collectLive(t, options(fake.start(t)))
				errs := partErrors(inv.Sources[0])
				if !strings.Contains(errs[part], path+" answered with") {
					t.Fatalf("errors %+v, want one for %s naming %s", inv.Sources[0].Errors, part, path)
				}
				// job_metrics asks about the metric names, so it cannot be read without them.
				delete(errs, part)
				if part == analyze.PartMetricNames {
					delete(errs, analyze.PartJobMetrics)
				}
				if len(errs) != 0 {
					t.Errorf("errors %+v, want only the one for %s", inv.Sources[0].Errors, part)
				}
				replayed := collectWith(t, prometheus.NewRecorder(prometheus.NewReplay(rec.Responses())), analyze.Source{Name: "prometheus", Kind: "snapshot"})
				if !sameSourceProblems(inv.Sources[0], replayed.Sources[0]) {
					t.Errorf("replayed problems %+v, live %+v", replayed.Sources[0].Errors, inv.Sources[0].Errors)
				}
			})
		}
	}
}

func TestWrongAnswersNeverPanic(t *testing.T) {
	t.Parallel()
	for part, path := range apiPath {
		t.Run(fmt.Sprintf("Wrong answers of %s are read without a panic, and a query answer that is not a vector is an error.", path), func(t *testing.T) {
			t.Parallel()
			for _, body := range wrongAnswers {
				fake := newFakePrometheus(t)
				fake.set(path, jsonBody(200, []byte(body)))
				inv, _ := collectLive(t, options(fake.start(t)))
				errs := partErrors(inv.Sources[0])
				if part == analyze.PartJobMetrics && errs[part] == "" && !strings.HasPrefix(body, `{"status":"success","data":{"`) {
					t.Errorf("%s: no error for job_metrics", body)
				}
				for _, q := range queryOnly {
					if part == analyze.PartJobMetrics && body == q && errs[part] == "" {
						t.Errorf("%s: no error for job_metrics", body)
					}
				}
			}
		})
	}
}

func TestQueriesOutsideCollectReportBadAnswers(t *testing.T) {
	t.Parallel()
	for _, body := range append(append([]string{}, emptyAnswers...), queryOnly...) {
		t.Run(fmt.Sprintf("The up query and the exposure query answered %s are errors, not panics.", body), func(t *testing.T) {
			t.Parallel()
			fake := newFakePrometheus(t)
			fake.set("/api/v1/query", jsonBody(200, []byte(body)))
			url := fake.start(t)
			client, err := prometheus.NewClient(options(url))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := prometheus.TargetsFromUp(ctx, prometheus.NewRecorder(client)); err == nil || !strings.Contains(err.Error(), "/api/v1/query answered") {
				t.Errorf("TargetsFromUp: err = %v, want one naming /api/v1/query", err)
			}
			exp := prometheus.CollectExposure(ctx, prometheus.NewRecorder(client), []string{"up"})
			if exp.Err == nil || !strings.Contains(exp.Err.Error(), "/api/v1/query answered") {
				t.Errorf("CollectExposure: err = %v, want one naming /api/v1/query", exp.Err)
			}
		})
	}
}

func TestIdentifyAndStoresReadBadAnswersWithoutAPanic(t *testing.T) {
	t.Parallel()
	for _, body := range append(append([]string{}, emptyAnswers...), wrongAnswers...) {
		fake := newFakePrometheus(t)
		fake.set("/api/v1/status/buildinfo", jsonBody(200, []byte(body)))
		fake.set("/api/v1/stores", jsonBody(200, []byte(body)))
		srv := httptest.NewServer(fake)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := prometheus.Identify(ctx, options(srv.URL)); err != nil {
			t.Errorf("Identify with %s: %v, want the server taken for what it answers", body, err)
		}
		client, err := prometheus.NewClient(options(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		prometheus.Stores(ctx, prometheus.NewRecorder(client))
		cancel()
		srv.Close()
	}
}

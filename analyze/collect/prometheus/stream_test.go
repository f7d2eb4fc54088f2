package prometheus_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// collectStreamed reads a live server the way `blindspot audit` does: the large answers
// decoded as they arrive, none of them kept.
func collectStreamed(t *testing.T, url string) (*analyze.Inventory, *prometheus.Recorder) {
	t.Helper()
	client, err := prometheus.NewClient(options(url))
	if err != nil {
		t.Fatal(err)
	}
	rec := prometheus.NewAuditRecorder(client)
	return collectWith(t, rec, analyze.Source{Name: "prometheus", Kind: "live", URL: url}), rec
}

// inventoryJSON is the whole inventory as JSON, to compare two of them.
func inventoryJSON(t *testing.T, inv *analyze.Inventory) string {
	t.Helper()
	data, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestStreamedAnswersReadAsTheRecordedOnes(t *testing.T) {
	t.Parallel()
	type answer struct {
		name string
		h    http.HandlerFunc
	}
	answers := []answer{{name: "the demo's answer"}}
	for _, body := range append(append([]string{}, emptyAnswers...), wrongAnswers...) {
		answers = append(answers, answer{body, jsonBody(200, []byte(body))})
	}
	answers = append(answers,
		answer{"an API error", apiError(t, 422, "execution", "query timed out")},
		answer{"an API error with status 200", apiError(t, 200, "execution", "query timed out")},
		answer{"an error page", jsonBody(502, []byte("<html>bad gateway</html>"))},
		answer{"a 400 with a success body", jsonBody(400, []byte(`{"status":"success","data":[]}`))},
		answer{"not found", notFound},
		answer{"status after data", jsonBody(200, []byte(`{"data":[],"status":"success"}`))},
		answer{"a truncated body", jsonBody(200, []byte(`{"status":"success","data":{"activeTargets":[{"labels":{"job":"a"`))},
		answer{"a trailing object", jsonBody(200, []byte(`{"status":"success","data":{}} {}`))},
	)
	for _, path := range apiPath {
		for _, a := range answers {
			t.Run(fmt.Sprintf("%s answering %s reads the same decoded as it arrives as read whole.", path, a.name), func(t *testing.T) {
				t.Parallel()
				fake := newFakePrometheus(t)
				if a.h != nil {
					fake.set(path, a.h)
				}
				url := fake.start(t)
				whole, wholeRec := collectLive(t, options(url))
				streamed, streamedRec := collectStreamed(t, url)
				if got, want := inventoryJSON(t, streamed), inventoryJSON(t, whole); got != want {
					t.Errorf("streamed inventory\n%s\nread whole\n%s", got, want)
				}
				if !sameSourceProblems(streamed.Sources[0], whole.Sources[0]) {
					t.Errorf("streamed problems %+v %+v, read whole %+v %+v", streamed.Sources[0].Errors, streamed.Sources[0].Missing, whole.Sources[0].Errors, whole.Sources[0].Missing)
				}
				// Only the recorder for snapshots keeps the bodies.
				for i, r := range streamedRec.Responses() {
					w := wholeRec.Responses()[i]
					if r.Body != nil || r.Status != w.Status || r.Path != w.Path || r.Query != w.Query {
						t.Errorf("streamed recorded %+v (%d bytes), want %+v without the body", r, len(r.Body), w)
					}
				}
			})
		}
	}
}

func TestAStreamedAnswerOverItsLimitNamesTheLimit(t *testing.T) {
	t.Parallel()
	fake := newFakePrometheus(t)
	body := `{"status":"success","data":[` + strings.Repeat(`"a_metric_name",`, 1000) + `"last"]}`
	fake.set(apiPath[analyze.PartMetricNames], jsonBody(200, []byte(body)))
	// A body over the limit that is not even of the right shape fails on the limit too, as
	// it does when read whole.
	fake.set(apiPath[analyze.PartTargets], jsonBody(200, []byte(body)))
	o := options(fake.start(t))
	o.MaxResponseBytes = 4096
	client, err := prometheus.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	inv := collectWith(t, prometheus.NewAuditRecorder(client), analyze.Source{Name: "prometheus", Kind: "live"})
	for part, path := range map[analyze.Part]string{analyze.PartMetricNames: "/api/v1/label/__name__/values", analyze.PartTargets: "/api/v1/targets"} {
		got := partErrors(inv.Sources[0])[part]
		if want := "the answer of " + path + " is larger than the limit set by max_response_bytes of 4096 bytes"; !strings.Contains(got, want) {
			t.Errorf("%s error %q, want it to say %q", part, got, want)
		}
	}
}

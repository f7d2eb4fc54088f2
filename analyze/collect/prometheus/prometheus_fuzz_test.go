package prometheus_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// storesPath is the Thanos Query endpoint a fleet reads besides those of apiPath.
const storesPath = "/api/v1/stores"

// answers is an api.Client answering every request in process with the body given for its
// path (every query, whatever its expression, gets the query body) and one status, as the
// snapshot's replay transport does: the answers go through client_golang's decoding.
type answers struct {
	status int
	bodies map[string][]byte
}

func (a answers) URL(ep string, args map[string]string) *url.URL {
	p := ep
	for k, v := range args {
		p = strings.ReplaceAll(p, ":"+k, v)
	}
	return &url.URL{Scheme: "http", Host: "fuzz", Path: p}
}

func (a answers) Do(_ context.Context, req *http.Request) (*http.Response, []byte, error) {
	for p, body := range a.bodies {
		if strings.HasSuffix(req.URL.Path, p) {
			h := http.Header{"Content-Type": {"application/json"}}
			return &http.Response{StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)), Header: h, Request: req}, body, nil
		}
	}
	return nil, nil, fmt.Errorf("%s: not answered", req.URL.Path)
}

// FuzzAnswers gives the collector arbitrary answers for targets, rules, configuration,
// metric names (label values), metadata, build information, queries, Alertmanagers and a
// Thanos Query's stores. Whatever they hold, it must not panic, and every part is either read
// or reported as not read in the source's problems.
func FuzzAnswers(f *testing.F) {
	ok := func(data string) string { return `{"status":"success","data":` + data + `}` }
	add := func(status int, targets, rules, config, names, metadata, buildinfo, query, ams, stores string) {
		f.Add(status, []byte(targets), []byte(rules), []byte(config), []byte(names), []byte(metadata), []byte(buildinfo), []byte(query), []byte(ams), []byte(stores))
	}
	add(200,
		ok(`{"activeTargets":[{"labels":{"job":"a","instance":"a:1"},"scrapePool":"a","health":"up","discoveredLabels":{}}],"droppedTargets":[],"droppedTargetCounts":{"a":2}}`),
		ok(`{"groups":[{"name":"g","file":"r.yml","rules":[{"type":"alerting","name":"A","query":"up == 0","duration":60,"labels":{"severity":"page"},"annotations":{},"health":"ok"},{"type":"recording","name":"job:up:sum","query":"sum by (job) (up)","health":"ok"}]}]}`),
		ok(`{"yaml":"scrape_configs:\n- job_name: a\n  static_configs: [{targets: ['a:1']}]\n"}`),
		ok(`["up","requests_total"]`),
		ok(`{"requests_total":[{"type":"counter","help":"h","unit":""}]}`),
		ok(`{"version":"3.0.0","revision":"r","branch":"b","buildUser":"u","buildDate":"d","goVersion":"go"}`),
		ok(`{"resultType":"vector","result":[{"metric":{"job":"a","__name__":"requests_total","instance":"a:1"},"value":[1,"1"]}]}`),
		ok(`{"activeAlertmanagers":[{"url":"http://am:9093/api/v2/alerts"}],"droppedAlertmanagers":[]}`),
		ok(`{"sidecar":[{"name":"s:10901","lastCheck":"2026-01-01T00:00:00Z","lastError":null,"labelSets":[{"cluster":"c"}]}]}`),
	)
	add(200, ok(`{}`), ok(`{"groups":[{"name":"","rules":[{"type":"alerting","query":"sum(("}]}]}`), ok(`{"yaml":"{"}`), ok(`[]`), ok(`{}`), ok(`{}`), ok(`{"resultType":"scalar","result":[1,"2"]}`), ok(`{}`), ok(`{}`))
	e := `{"status":"error","errorType":"bad_data","error":"no"}`
	add(503, e, e, e, e, e, e, e, e, e)
	add(200, "", "null", `{"status":"success"}`, "[", `{"status":"success","data":null}`, "x", `{"status":"success","data":{"resultType":"matrix","result":[]}}`, `{"status":"success","data":[]}`, "{}")
	f.Fuzz(func(t *testing.T, status int, targets, rules, config, names, metadata, buildinfo, query, ams, stores []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		a := answers{status: status, bodies: map[string][]byte{
			apiPath[analyze.PartTargets]:       targets,
			apiPath[analyze.PartRules]:         rules,
			apiPath[analyze.PartConfig]:        config,
			apiPath[analyze.PartMetricNames]:   names,
			apiPath[analyze.PartMetadata]:      metadata,
			apiPath[analyze.PartBuildInfo]:     buildinfo,
			apiPath[analyze.PartJobMetrics]:    query,
			apiPath[analyze.PartAlertmanagers]: ams,
			storesPath:                         stores,
		}}
		ctx := context.Background()
		rec := prometheus.NewRecorder(a)
		b := analyze.NewBuilder(collectedAt)
		src := prometheus.Collect(ctx, rec, analyze.Source{Name: "fuzz", Kind: "live", URL: "http://fuzz"}, b, slog.New(slog.DiscardHandler))
		inv := b.Build()
		for _, p := range prometheus.Parts() {
			if p == analyze.PartAlertmanagers {
				continue // optional: a server that does not answer it lacks the part
			}
			if !inv.Has(p) && !slices.ContainsFunc(src.Errors, func(e analyze.SourceError) bool { return e.Part == p }) &&
				!slices.ContainsFunc(src.Missing, func(m analyze.MissingPart) bool { return m.Part == p }) {
				t.Fatalf("part %s was neither read nor reported as an error or missing: %+v", p, src)
			}
			for _, e := range src.Errors {
				if strings.Contains(e.Err, "\n") {
					t.Fatalf("multi-line error of part %s: %q", e.Part, e.Err)
				}
			}
		}
		prometheus.CollectExposure(ctx, rec, []string{"up", "requests_total"})
		if _, err := prometheus.TargetsFromUp(ctx, a); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
		prometheus.Stores(ctx, a)
	})
}

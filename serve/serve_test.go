package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/serve"
)

var monday = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

// audits returns an audit answering the reports in turn (the last one again when done).
func audits(reps ...report.Report) func(context.Context, time.Time) (report.Report, error) {
	var n int
	return func(context.Context, time.Time) (report.Report, error) {
		r := reps[min(n, len(reps)-1)]
		n++
		return r, nil
	}
}

func rep(sources map[string]bool, checksRun []string, findings ...analyze.Finding) report.Report {
	r := report.Report{Version: report.SchemaVersion, GeneratedAt: monday, CollectedAt: monday, Findings: findings}
	r.Summary.ChecksRun = checksRun
	for _, name := range []string{"prometheus (source=eu)", "prometheus (source=us)"} {
		if ok, listed := sources[name]; listed {
			r.Sources = append(r.Sources, report.Source{Name: name, Kind: "prometheus", OK: ok})
		}
	}
	return r
}

var (
	down    = analyze.NewFinding("targets/down", analyze.Critical, map[string]string{"job": "payments-api", "source": "eu"}, "the target is down", nil)
	noOwner = analyze.NewFinding("alerts/no-owner", analyze.Warning, map[string]string{"rule": "QueueStuck", "source": "us"}, "no owner", nil)
)

func newServer(t *testing.T, o serve.Options) (*serve.Server, *httptest.Server) {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return monday }
	}
	s, err := serve.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	return s, h
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	code, body := servers.Get(t, url)
	return code, string(body)
}

// scrape parses /metrics.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not in the text format: %v", err)
	}
	return mfs
}

// series lists the label sets of a family as "k=v,k=v" strings, with their values.
func series(mf *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mf.GetMetric() {
		var parts []string
		for _, l := range m.GetLabel() {
			parts = append(parts, l.GetName()+"="+l.GetValue())
		}
		v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		out[strings.Join(parts, ",")] = v
	}
	return out
}

func TestServer(t *testing.T) {
	ctx := context.Background()
	both := map[string]bool{"prometheus (source=eu)": true, "prometheus (source=us)": true}

	t.Run("Before the first audit the server is healthy, not ready, and serves no report.", func(t *testing.T) {
		_, h := newServer(t, serve.Options{Audit: audits(rep(both, nil))})
		for path, want := range map[string]int{"/-/healthy": 200, "/-/ready": 503, "/": 503, "/api/v1/report": 503, "/metrics": 200, "/nope": 404} {
			if code, body := get(t, h.URL+path); code != want {
				t.Errorf("%s: %d %q, want %d", path, code, body, want)
			}
		}
		if mfs := scrape(t, h.URL); mfs[gapmetrics.Findings] != nil || mfs[serve.AuditsTotal] == nil {
			t.Errorf("before any audit: gap metrics %v, serve's own %v", mfs[gapmetrics.Findings], mfs[serve.AuditsTotal])
		}
	})

	t.Run("After an audit the server is ready and serves its report as HTML and JSON.", func(t *testing.T) {
		s, h := newServer(t, serve.Options{Audit: audits(rep(both, []string{"targets/down"}, down)), Version: "v9.9.9"})
		if err := s.Audit(ctx); err != nil {
			t.Fatal(err)
		}
		if code, _ := get(t, h.URL+"/-/ready"); code != 200 {
			t.Errorf("/-/ready: %d after an audit", code)
		}
		code, page := get(t, h.URL+"/")
		var want bytes.Buffer
		if err := report.WriteHTML(&want, rep(both, []string{"targets/down"}, down), report.HTMLOptions{Version: "v9.9.9"}); err != nil {
			t.Fatal(err)
		}
		if code != 200 || page != want.String() {
			t.Errorf("/: %d, and not the page of --format html (the first audit has nothing to compare with):\n%s", code, page)
		}
		code, body := get(t, h.URL+"/api/v1/report")
		var got report.Report
		if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || len(got.Findings) != 1 || got.Findings[0].ID != down.ID {
			t.Errorf("/api/v1/report: %d, %v, %+v", code, err, got.Findings)
		}
	})

	t.Run("A finding that went away leaves no series behind in the gap metrics, nor does a source no longer audited.", func(t *testing.T) {
		first := rep(both, []string{"targets/down", "alerts/no-owner"}, down, noOwner)
		second := rep(map[string]bool{"prometheus (source=us)": true}, []string{"alerts/no-owner"}, noOwner)
		s, h := newServer(t, serve.Options{Audit: audits(first, second)})
		for range 2 {
			if err := s.Audit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		mfs := scrape(t, h.URL)
		for name, mf := range mfs {
			for labels := range series(mf) {
				if strings.Contains(labels, "targets/down") || strings.Contains(labels, "source=eu") {
					t.Errorf("%s{%s} is still served after the audit that no longer reports it", name, labels)
				}
			}
		}
		if got := series(mfs[gapmetrics.Findings])["check=alerts/no-owner,severity=warning"]; got != 1 {
			t.Errorf("blindspot_findings of alerts/no-owner = %v, want 1", got)
		}
	})

	t.Run("A source that could not be read makes the audit partial: counted per source, and the report still served.", func(t *testing.T) {
		partial := rep(map[string]bool{"prometheus (source=eu)": false, "prometheus (source=us)": true}, []string{"alerts/no-owner"}, noOwner)
		s, h := newServer(t, serve.Options{Audit: audits(rep(both, nil), partial, partial)})
		for range 3 {
			if err := s.Audit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		mfs := scrape(t, h.URL)
		errs := series(mfs[serve.SourceErrors])
		if len(errs) != 1 || errs["source=prometheus (source=eu)"] != 2 {
			t.Errorf("%s = %v, want 2 for the eu server only", serve.SourceErrors, errs)
		}
		audits := series(mfs[serve.AuditsTotal])
		if audits["result=complete"] != 1 || audits["result=partial"] != 2 || audits["result=failed"] != 0 {
			t.Errorf("%s = %v", serve.AuditsTotal, audits)
		}
		if up := series(mfs[gapmetrics.SourceUp]); up["source=prometheus (source=eu)"] != 0 || up["source=prometheus (source=us)"] != 1 {
			t.Errorf("%s = %v", gapmetrics.SourceUp, up)
		}
		if code, body := get(t, h.URL+"/"); code != 200 || !strings.Contains(body, "Some sources could not be read completely") {
			t.Errorf("/: %d, the partial report is not served", code)
		}
	})

	t.Run("A failed audit keeps the last report and metrics, and is counted.", func(t *testing.T) {
		var n int
		s, h := newServer(t, serve.Options{Audit: func(context.Context, time.Time) (report.Report, error) {
			n++
			if n == 2 {
				return report.Report{}, errors.New("no tenant")
			}
			return rep(both, []string{"targets/down"}, down), nil
		}})
		if err := s.Audit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Audit(ctx); err == nil {
			t.Fatal("the failed audit returned no error")
		}
		mfs := scrape(t, h.URL)
		if got := series(mfs[serve.AuditsTotal])["result=failed"]; got != 1 {
			t.Errorf("failed audits = %v, want 1", got)
		}
		if got := series(mfs[gapmetrics.Findings])["check=targets/down,severity=critical"]; got != 1 {
			t.Errorf("blindspot_findings of targets/down = %v after a failed audit, want the last audit's 1", got)
		}
		if code, body := get(t, h.URL+"/api/v1/report"); code != 200 || !strings.Contains(body, down.ID) {
			t.Errorf("/api/v1/report: %d after a failed audit", code)
		}
	})

	t.Run("The page shows first what changed since the audit before: the new findings and the resolved ones.", func(t *testing.T) {
		first := rep(both, []string{"targets/down", "alerts/no-owner"}, down)
		second := rep(both, []string{"targets/down", "alerts/no-owner"}, noOwner)
		s, h := newServer(t, serve.Options{Audit: audits(first, second)})
		for range 2 {
			if err := s.Audit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		_, page := get(t, h.URL+"/")
		changes, _, ok := strings.Cut(page, `<section id="sources"`)
		if !ok || !strings.Contains(changes, `<section id="changes"`) {
			t.Fatalf("no changes section before the sources:\n%s", page)
		}
		for _, want := range []string{
			"1 new, 1 resolved.",
			`<a href="#f-` + noOwner.ID + `"><code>alerts/no-owner</code></a> rule=&#34;QueueStuck&#34;, source=&#34;us&#34;: no owner`,
			`<li><code>targets/down</code> job=&#34;payments-api&#34;, source=&#34;eu&#34;</li>`,
		} {
			if !strings.Contains(changes, want) {
				t.Errorf("the changes lack %s:\n%s", want, changes)
			}
		}
	})

	t.Run("Audits run one at a time, however many are asked for at once.", func(t *testing.T) {
		var running, most atomic.Int32
		s, _ := newServer(t, serve.Options{Audit: func(context.Context, time.Time) (report.Report, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			return rep(both, nil), nil
		}})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 10 {
					_ = s.Audit(ctx)
				}
			})
		}
		wg.Wait()
		if most.Load() != 1 {
			t.Errorf("%d audits ran at once", most.Load())
		}
	})

	t.Run("Run audits at once, and stops when its context ends, cancelling the audit in flight.", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		inFlight := make(chan struct{})
		var cause error
		s, _ := newServer(t, serve.Options{Interval: time.Hour, Audit: func(ctx context.Context, _ time.Time) (report.Report, error) {
			close(inFlight)
			<-ctx.Done()
			cause = ctx.Err()
			return report.Report{}, ctx.Err()
		}})
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		<-inFlight
		cancel()
		<-done
		if !errors.Is(cause, context.Canceled) {
			t.Errorf("the audit in flight ended with %v, want it cancelled", cause)
		}
		if s.Ready() {
			t.Error("a cancelled first audit made the server ready")
		}
	})

	t.Run("A negative interval is refused.", func(t *testing.T) {
		if _, err := serve.New(serve.Options{Audit: audits(rep(both, nil)), Interval: -time.Second}); err == nil {
			t.Error("no error")
		}
	})
}

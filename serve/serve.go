// Package serve keeps auditing a monitoring setup on an interval and serves the last audit:
// its gap metrics and its own health on /metrics, the report as HTML (with what changed since
// the audit before) and JSON, and health and readiness probes. It runs the audit it is given
// (the one `blindspot audit` and `check` run) and writes nothing.
package serve

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// The names of serve's own metrics; the gap metrics keep gapmetrics' names.
const (
	AuditsTotal      = "blindspot_serve_audits_total"
	AuditDuration    = "blindspot_serve_audit_duration_seconds"
	SourceErrors     = "blindspot_serve_source_errors_total"
	LastAudit        = "blindspot_serve_last_audit_timestamp_seconds"
	LastAuditSuccess = "blindspot_serve_last_success_timestamp_seconds"
)

// The results of an audit, the values of AuditsTotal's result label.
const (
	ResultComplete = "complete" // every source was read
	ResultPartial  = "partial"  // some source could not be read completely; the report says which
	ResultFailed   = "failed"   // no report: the last one is still served
)

// Options configure a Server.
type Options struct {
	// Audit runs one audit made at now. Its context ends when the server stops.
	Audit func(ctx context.Context, now time.Time) (report.Report, error)
	// Interval is the time from the end of an audit to the start of the next, each wait
	// jittered by up to a tenth of it either way so that replicas do not audit in step.
	Interval time.Duration
	// Baseline is what the gap metrics count new findings against (BaselineName its file,
	// "" for none: then every finding is new, as in `blindspot check` without --baseline).
	Baseline     baseline.File
	BaselineName string
	// Version is blindspot's version, shown on the HTML page.
	Version string
	Logger  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DefaultInterval is the interval of Options that leave it 0.
const DefaultInterval = 10 * time.Minute

func (o *Options) defaults() {
	o.Interval = cmp.Or(o.Interval, DefaultInterval)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// last is what the endpoints serve: the last audit that made a report.
type last struct {
	report report.Report
	// changes compare it with the audit before (nil after the first).
	changes *report.Changes
}

// Server audits and serves. Its zero value is not usable: call New.
type Server struct {
	o Options

	// auditing makes audits run one at a time.
	auditing sync.Mutex
	// seen is every finding of the audits so far, as a baseline kept in memory (only the
	// auditing goroutine touches it); seenAt is when the last audit was made.
	seen   baseline.File
	seenAt time.Time
	// lastSuccess is when the last audit that read every source ended.
	lastSuccess time.Time

	last atomic.Pointer[last]
	// gaps holds the gap metrics of the last audit: a new registry replaces the old one
	// whole, so a finding that went away leaves no series behind.
	gaps atomic.Pointer[prometheus.Registry]

	health       *prometheus.Registry
	audits       *prometheus.CounterVec
	duration     prometheus.Histogram
	sourceErrors *prometheus.CounterVec
	lastAudit    prometheus.Gauge
	lastOK       prometheus.Gauge
}

// New returns a server that has not audited yet: not ready until its first audit ends.
func New(o Options) (*Server, error) {
	if o.Audit == nil {
		return nil, errors.New("serve: no audit to run")
	}
	if o.Interval < 0 {
		return nil, fmt.Errorf("serve: interval %s: want a positive duration", o.Interval)
	}
	o.defaults()
	s := &Server{o: o, health: prometheus.NewRegistry()}
	s.audits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: AuditsTotal, Help: "Audits blindspot serve ran, by result: complete, partial (some source could not be read) or failed (no report).",
	}, []string{"result"})
	s.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: AuditDuration, Help: "How long the audits of blindspot serve took, in seconds.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
	})
	s.sourceErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: SourceErrors, Help: "Audits of blindspot serve that could not read the source completely, by source.",
	}, []string{"source"})
	s.lastAudit = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: LastAudit, Help: "When the last audit of blindspot serve ended, whatever its result, in seconds since the epoch.",
	})
	s.lastOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: LastAuditSuccess, Help: "When the last audit of blindspot serve that read every source ended, in seconds since the epoch (0: none yet).",
	})
	for _, r := range []string{ResultComplete, ResultPartial, ResultFailed} {
		s.audits.WithLabelValues(r)
	}
	s.health.MustRegister(s.audits, s.duration, s.sourceErrors, s.lastAudit, s.lastOK,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s, nil
}

// Run audits now and then every interval until ctx ends; an audit in flight is then
// cancelled. A failed or partial audit is logged and counted, and the next one runs as usual.
func (s *Server) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		_ = s.Audit(ctx)
		timer.Reset(jittered(s.o.Interval))
	}
}

// jittered returns d moved by up to a tenth of it, either way.
func jittered(d time.Duration) time.Duration {
	spread := int64(d / 10)
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread+1))
}

// Audit runs one audit and makes it what the endpoints serve; an audit running already is
// waited for first. The error is the audit's when it made no report (the last report is
// still served); a partial report is no error.
func (s *Server) Audit(ctx context.Context) error {
	s.auditing.Lock()
	defer s.auditing.Unlock()

	started := s.o.Now()
	rep, err := s.o.Audit(ctx, started)
	finished := s.o.Now()
	took := finished.Sub(started)
	s.duration.Observe(took.Seconds())
	s.lastAudit.Set(seconds(finished))
	if err != nil {
		s.audits.WithLabelValues(ResultFailed).Inc()
		if ctx.Err() == nil {
			s.o.Logger.Error("the audit failed; the last report is still served", "err", err)
		}
		return err
	}

	result := ResultComplete
	for _, src := range rep.Sources {
		if !src.OK {
			result = ResultPartial
			s.sourceErrors.WithLabelValues(src.Name).Inc()
		}
	}
	s.audits.WithLabelValues(result).Inc()
	if result == ResultPartial {
		s.o.Logger.Warn("partial audit", "unread", rep.Unread())
	} else {
		s.lastSuccess = finished
		s.lastOK.Set(seconds(finished))
	}

	gc := report.NewGapCheck(rep, s.o.Baseline, s.o.BaselineName, analyze.Warning)
	s.gaps.Store(gapmetrics.Registry(gapmetrics.Run{Check: gc, Finished: finished, Duration: took, PreviousSuccess: s.lastSuccess}))

	next := &last{report: rep}
	if !s.seenAt.IsZero() {
		ch := report.NewChanges(rep, s.seen, s.seenAt)
		next.changes = &ch
	}
	s.seen, s.seenAt = baseline.Update(s.seen, rep.BaselineRun(), started), started
	s.last.Store(next)
	return nil
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Ready reports whether an audit made a report.
func (s *Server) Ready() bool { return s.last.Load() != nil }

// Gather returns the metrics /metrics serves: serve's own, then the gap metrics of the last
// audit.
func (s *Server) Gather() ([]*dto.MetricFamily, error) {
	return prometheus.Gatherers{s.health, gapGatherer{s}}.Gather()
}

// gapGatherer gathers the gap metrics of the last audit, none before the first.
type gapGatherer struct{ s *Server }

func (g gapGatherer) Gather() ([]*dto.MetricFamily, error) {
	reg := g.s.gaps.Load()
	if reg == nil {
		return nil, nil
	}
	return reg.Gather()
}

// Handler serves the endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelError),
	}))
	mux.HandleFunc("GET /{$}", s.serveHTML)
	mux.HandleFunc("GET /api/v1/report", s.serveJSON)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "blindspot is healthy.")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			notReady(w)
			return
		}
		text(w, http.StatusOK, "blindspot is ready.")
	})
	return mux
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

func notReady(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "10")
	text(w, http.StatusServiceUnavailable, "blindspot is not ready: no audit has completed yet.")
}

func (s *Server) serveHTML(w http.ResponseWriter, _ *http.Request) {
	l := s.last.Load()
	if l == nil {
		notReady(w)
		return
	}
	s.write(w, "text/html; charset=utf-8", func(buf *bytes.Buffer) error {
		return report.WriteHTML(buf, l.report, report.HTMLOptions{Version: s.o.Version, Changes: l.changes})
	})
}

func (s *Server) serveJSON(w http.ResponseWriter, _ *http.Request) {
	l := s.last.Load()
	if l == nil {
		notReady(w)
		return
	}
	s.write(w, "application/json", func(buf *bytes.Buffer) error { return report.WriteJSON(buf, l.report) })
}

// write renders whole before answering, so that a rendering error is a 500 and not half a page.
func (s *Server) write(w http.ResponseWriter, contentType string, render func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		s.o.Logger.Error("rendering the report", "err", err)
		text(w, http.StatusInternalServerError, "blindspot could not render the report; see its log.")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

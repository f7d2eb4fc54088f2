// Package gapmetrics exposes the outcome of `blindspot check` as Prometheus metrics, so that
// the nightly check is monitored like any other batch job: written for node_exporter's
// textfile collector or pushed to a Pushgateway.
package gapmetrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

// Job is the Pushgateway job the metrics are pushed under.
const Job = "blindspot"

// The metric names, a contract with the alerts `blindspot generate` writes.
const (
	Findings      = "blindspot_findings"
	NewFindings   = "blindspot_new_findings"
	SourceUp      = "blindspot_source_up"
	LastRun       = "blindspot_last_run_timestamp_seconds"
	LastSuccess   = "blindspot_last_success_timestamp_seconds"
	RunDuration   = "blindspot_run_duration_seconds"
	severityLabel = "severity"
	checkLabel    = "check"
	sourceLabel   = "source"
)

var severities = []analyze.Severity{analyze.Info, analyze.Warning, analyze.Critical}

// Run is one check run.
type Run struct {
	Check report.GapCheck
	// Finished is when the run ended; Duration how long it took.
	Finished time.Time
	Duration time.Duration
	// PreviousSuccess is the last successful run before this one (zero when unknown): a run
	// that could not read every source carries it over, so the staleness alert keeps counting.
	PreviousSuccess time.Time
}

// Succeeded reports whether the run read every source: only then does it count as a check.
func (r Run) Succeeded() bool { return !r.Check.Report.Partial() }

// Registry returns a registry holding the metrics of the run. Every check that ran has a
// series per severity, zeros included, so that a gap going away is a 0 and not a vanished
// series.
func Registry(r Run) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	findings := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: Findings, Help: "Findings the last blindspot check reported (suppressed ones excluded), by check and severity.",
	}, []string{checkLabel, severityLabel})
	newFindings := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: NewFindings, Help: "Findings of the last blindspot check that its baseline does not hold, by check and severity.",
	}, []string{checkLabel, severityLabel})
	sourceUp := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: SourceUp, Help: "Whether the last blindspot check read the source completely (1) or not (0).",
	}, []string{sourceLabel})
	lastRun := prometheus.NewGauge(prometheus.GaugeOpts{Name: LastRun, Help: "When the last blindspot check ended, in seconds since the epoch."})
	duration := prometheus.NewGauge(prometheus.GaugeOpts{Name: RunDuration, Help: "How long the last blindspot check took, in seconds."})
	reg.MustRegister(findings, newFindings, sourceUp, lastRun, duration)

	rep := r.Check.Report
	for _, check := range rep.Summary.ChecksRun {
		for _, sev := range severities {
			findings.WithLabelValues(check, sev.String())
			newFindings.WithLabelValues(check, sev.String())
		}
	}
	for _, f := range rep.Findings {
		findings.WithLabelValues(f.Check, f.Severity.String()).Inc()
	}
	for _, f := range r.Check.Comparison.New {
		newFindings.WithLabelValues(f.Check, f.Severity.String()).Inc()
	}
	for _, s := range rep.Sources {
		v := 0.0
		if s.OK {
			v = 1
		}
		sourceUp.WithLabelValues(s.Name).Set(v)
	}
	lastRun.Set(seconds(r.Finished))
	duration.Set(r.Duration.Seconds())

	success := r.PreviousSuccess
	if r.Succeeded() {
		success = r.Finished
	}
	if !success.IsZero() {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: LastSuccess, Help: "When the last blindspot check that read every source ended, in seconds since the epoch."})
		g.Set(seconds(success))
		reg.MustRegister(g)
	}
	return reg
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// WriteTextfile writes the metrics in the text format node_exporter's textfile collector
// reads, atomically: the collector never sees half a file.
func WriteTextfile(path string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gathering the gap metrics: %w", err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return fmt.Errorf("encoding the gap metrics: %w", err)
		}
	}
	return fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// PreviousSuccess reads the last success time from a textfile written before; zero when the
// file does not exist, is not a regular file (a FIFO or a device the metrics are written
// through, which reading would block on or drain) or holds none.
func PreviousSuccess(path string) (time.Time, error) {
	if info, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) || (err == nil && !info.Mode().IsRegular()) {
		return time.Time{}, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading %s: %w", path, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: not in the text format: %w", path, err)
	}
	mf, ok := mfs[LastSuccess]
	if !ok || len(mf.GetMetric()) != 1 || mf.GetType() != dto.MetricType_GAUGE {
		return time.Time{}, nil
	}
	v := mf.GetMetric()[0].GetGauge().GetValue()
	return time.Unix(0, int64(v*1e9)).UTC(), nil
}

// Push sends the metrics to the Pushgateway at o.URL under job "blindspot". It adds (HTTP
// POST) rather than replaces: a run that could not read every source sends no last-success
// time, and the one pushed by the last good run stays.
func Push(ctx context.Context, o httpconfig.Options, g prometheus.Gatherer) error {
	rt, err := o.RoundTripper()
	if err != nil {
		return fmt.Errorf("pushgateway %s: %w", o.Redacted(), err)
	}
	o = o.WithDefaults()
	client := &http.Client{Transport: rt, Timeout: o.Timeout}
	if err := push.New(o.BaseURL(), Job).Client(client).Gatherer(g).AddContext(ctx); err != nil {
		// The push client quotes the URL it built, query string included.
		return fmt.Errorf("pushing the gap metrics to %s: %s", o.Redacted(), redact.Text(err.Error()))
	}
	return nil
}

// PushError is a push to the Pushgateway that failed: a source error, where a textfile that
// cannot be written is the user's to fix.
type PushError struct{ Err error }

func (e *PushError) Error() string { return e.Err.Error() }
func (e *PushError) Unwrap() error { return e.Err }

// Export writes the metrics of the run to textfile (when set), carrying over the last success
// time of the previous run the file holds (a file it cannot read loses it, with a warning),
// then pushes them to the Pushgateway of push (when its URL is set), which keeps that time by
// itself. A failed push is a *PushError.
func Export(ctx context.Context, r Run, textfile string, push httpconfig.Options, logger *slog.Logger) error {
	if textfile != "" {
		var err error
		if r.PreviousSuccess, err = PreviousSuccess(textfile); err != nil {
			logger.Warn("the last success time of the previous run is lost", "err", err)
		}
		if err := WriteTextfile(textfile, Registry(r)); err != nil {
			return err
		}
	}
	if push.URL != "" {
		r.PreviousSuccess = time.Time{}
		if err := Push(ctx, push, Registry(r)); err != nil {
			return &PushError{Err: err}
		}
	}
	return nil
}

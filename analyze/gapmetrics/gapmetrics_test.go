package gapmetrics_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

var (
	monday  = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	tuesday = monday.AddDate(0, 0, 1)
)

// run is a check that read Prometheus (or failed to, when partial) and found a down target,
// which the baseline already held, and a job without an up alert, which it did not.
func run(finished time.Time, partial bool) gapmetrics.Run {
	down := analyze.NewFinding("targets/down", analyze.Critical, map[string]string{"job": "api", "instance": "a:80"}, "down", nil)
	noUp := analyze.NewFinding("alerts/missing-up", analyze.Critical, map[string]string{"job": "api"}, "no up alert", nil)
	rep := report.Report{
		Sources:  []report.Source{{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090", OK: !partial}},
		Findings: []analyze.Finding{down, noUp},
		Summary:  report.Summary{ChecksRun: []string{"targets/down", "alerts/missing-up", "jobs/no-targets"}},
	}
	b := baseline.File{Version: baseline.Version, Findings: []baseline.Entry{{ID: down.ID, Check: down.Check, Subject: down.Subject, FirstSeen: monday}}}
	return gapmetrics.Run{
		Check:    report.NewGapCheck(rep, b, "b.json", analyze.Warning),
		Finished: finished,
		Duration: 1500 * time.Millisecond,
	}
}

func families(t *testing.T, data []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not the text format: %v\n%s", err, data)
	}
	return mfs
}

// value is the value of the series of family name with exactly the labels given (job and
// instance, which a Pushgateway adds, aside).
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
series:
	for _, m := range mf.GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if l.GetName() == "job" || l.GetName() == "instance" {
				continue
			}
			n++
			if labels[l.GetName()] != l.GetValue() {
				continue series
			}
		}
		if n == len(labels) {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func assertRun(t *testing.T, mfs map[string]*dto.MetricFamily, lastSuccess time.Time) {
	t.Helper()
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"blindspot_findings", map[string]string{"check": "targets/down", "severity": "critical"}, 1},
		{"blindspot_findings", map[string]string{"check": "alerts/missing-up", "severity": "critical"}, 1},
		{"blindspot_findings", map[string]string{"check": "jobs/no-targets", "severity": "warning"}, 0},
		{"blindspot_new_findings", map[string]string{"check": "targets/down", "severity": "critical"}, 0},
		{"blindspot_new_findings", map[string]string{"check": "alerts/missing-up", "severity": "critical"}, 1},
		{"blindspot_source_up", map[string]string{"source": "prometheus"}, 1},
		{"blindspot_last_run_timestamp_seconds", nil, float64(tuesday.Unix())},
		{"blindspot_last_success_timestamp_seconds", nil, float64(lastSuccess.Unix())},
		{"blindspot_run_duration_seconds", nil, 1.5},
	} {
		got, ok := value(t, mfs, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

// checkMetrics runs `promtool check metrics` on the blindspot_* families of data.
func checkMetrics(t *testing.T, promtool string, data []byte) {
	t.Helper()
	var only bytes.Buffer
	for name, mf := range families(t, data) {
		if strings.HasPrefix(name, "blindspot_") {
			if _, err := expfmt.MetricFamilyToText(&only, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &only
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, only.Bytes())
	}
}

func TestTextfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blindspot.prom")
	if err := gapmetrics.WriteTextfile(path, gapmetrics.Registry(run(tuesday, false))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("The textfile holds every gap metric of the run.", func(t *testing.T) {
		assertRun(t, families(t, data), tuesday)
	})

	t.Run("The textfile passes promtool check metrics.", func(t *testing.T) {
		servers.ForEachPromtool(t, func(t *testing.T, promtool string) { checkMetrics(t, promtool, data) })
	})

	t.Run("A run that could not read a source keeps the last success of the file it replaces.", func(t *testing.T) {
		failed := run(tuesday.Add(24*time.Hour), true)
		prev, err := gapmetrics.PreviousSuccess(path)
		if err != nil || !prev.Equal(tuesday) {
			t.Fatalf("previous success %v (%v), want %v", prev, err, tuesday)
		}
		failed.PreviousSuccess = prev
		if err := gapmetrics.WriteTextfile(path, gapmetrics.Registry(failed)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mfs := families(t, data)
		if v, _ := value(t, mfs, "blindspot_last_success_timestamp_seconds", nil); v != float64(tuesday.Unix()) {
			t.Errorf("last success %v after a failed run, want tuesday's %v", v, tuesday.Unix())
		}
		if v, ok := value(t, mfs, "blindspot_source_up", map[string]string{"source": "prometheus"}); !ok || v != 0 {
			t.Errorf("source up %v (present %v), want 0", v, ok)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Errorf("the directory holds %d files, want only the textfile (no temporary left)", len(entries))
		}
	})

	t.Run("The very first run, failed, writes no last success at all.", func(t *testing.T) {
		reg := gapmetrics.Registry(run(tuesday, true))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "blindspot_last_success_timestamp_seconds" {
				t.Error("a failed first run claims a success")
			}
		}
	})
}

func TestPushgateway(t *testing.T) {
	bins := servers.Find(t)
	addr := servers.FreeAddress(t)
	url := "http://" + addr
	pgw := servers.StartProcess(t, "pushgateway", bins.Pushgateway, "--web.listen-address="+addr, "--persistence.file=")
	pgw.WaitReady(t, url+"/-/ready")
	ctx := context.Background()
	push := func(r gapmetrics.Run) {
		t.Helper()
		if err := gapmetrics.Push(ctx, httpconfig.Options{URL: url}, gapmetrics.Registry(r)); err != nil {
			t.Fatal(err)
		}
	}
	scrape := func() []byte {
		t.Helper()
		_, data := servers.Get(t, url+"/metrics")
		return data
	}

	push(run(tuesday, false))
	data := scrape()

	t.Run("The Pushgateway serves every gap metric under job blindspot.", func(t *testing.T) {
		mfs := families(t, data)
		assertRun(t, mfs, tuesday)
		for _, l := range mfs["blindspot_findings"].GetMetric()[0].GetLabel() {
			if l.GetName() == "job" && l.GetValue() != gapmetrics.Job {
				t.Errorf("job label %q, want %q", l.GetValue(), gapmetrics.Job)
			}
		}
	})

	t.Run("The scraped gap metrics pass promtool check metrics.", func(t *testing.T) {
		servers.ForEachPromtool(t, func(t *testing.T, promtool string) { checkMetrics(t, promtool, data) })
	})

	t.Run("A run that could not read a source leaves the last success of the run before.", func(t *testing.T) {
		push(run(tuesday.Add(24*time.Hour), true))
		mfs := families(t, scrape())
		if v, _ := value(t, mfs, "blindspot_last_success_timestamp_seconds", nil); v != float64(tuesday.Unix()) {
			t.Errorf("last success %v, want tuesday's %v", v, tuesday.Unix())
		}
		if v, _ := value(t, mfs, "blindspot_last_run_timestamp_seconds", nil); v != float64(tuesday.Add(24*time.Hour).Unix()) {
			t.Errorf("last run %v, want wednesday's", v)
		}
		if v, ok := value(t, mfs, "blindspot_source_up", map[string]string{"source": "prometheus"}); !ok || v != 0 {
			t.Errorf("source up %v (present %v), want 0", v, ok)
		}
	})

	t.Run("A Pushgateway that is not there is an error naming its URL.", func(t *testing.T) {
		dead := "http://" + servers.FreeAddress(t)
		err := gapmetrics.Push(ctx, httpconfig.Options{URL: dead, Attempts: 1}, prometheus.NewRegistry())
		if err == nil || !strings.Contains(err.Error(), dead) {
			t.Errorf("error %v, want one naming %s", err, dead)
		}
	})
}

// A --metrics-file that is a FIFO is written through; reading the previous run from it first
// would block until some writer came, so it is not read.
func TestThePreviousSuccessOfAFIFOIsNoneAndReadingItDoesNotBlock(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "blindspot.prom")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	got, err := gapmetrics.PreviousSuccess(fifo)
	if err != nil || !got.IsZero() {
		t.Errorf("PreviousSuccess = %v, %v; want zero and no error", got, err)
	}
}

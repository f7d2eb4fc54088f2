package prometheus_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/invgen"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// startLoaded writes rules to dir/rules.yml and config to dir/prometheus.yml, starts the
// Prometheus binary on them with its data in dir/data and the extra args, waits until it is
// ready and returns its base URL and process.
func startLoaded(t testing.TB, binary, dir string, rules, config []byte, args ...string) (string, *servers.Process) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := servers.FreeAddress(t)
	prom := servers.StartProcess(t, "prometheus", binary, append([]string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
	}, args...)...)
	base := "http://" + addr
	prom.WaitReady(t, base+"/-/ready")
	return base, prom
}

// queryOne is the value of the one sample the instant query answers at the server at base,
// or -1 when it cannot be asked or does not answer exactly one sample.
func queryOne(client *http.Client, base, query string) float64 {
	resp, err := client.PostForm(base+queryPath, url.Values{"query": {query}})
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Data.Result) != 1 {
		return -1
	}
	var n float64
	_, _ = fmt.Sscan(fmt.Sprint(body.Data.Result[0].Value[1]), &n)
	return n
}

// downloadAll makes the requests rec recorded against the server at base again, one after the
// other, reading the bodies and nothing else. It returns how many requests it made, how many of
// them were queries and how many bytes of body it read.
func downloadAll(tb testing.TB, client *http.Client, base string, rec *prometheus.Recorder) (requests, queries, bytes int) {
	tb.Helper()
	for _, r := range rec.Responses() {
		var resp *http.Response
		var err error
		if r.Query != "" {
			queries++
			resp, err = client.PostForm(base+r.Path, url.Values{"query": {r.Query}})
		} else {
			resp, err = client.Get(base + r.Path)
		}
		if err != nil {
			tb.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			tb.Fatal(err)
		}
		requests++
		bytes += int(n)
	}
	return requests, queries, bytes
}

// collectScale is collectLive with a deadline of ten minutes rather than collectWith's 30
// seconds: the benchmark's own collection (which records the requests to download) of the
// whole estate takes longer than that when the machine is busy, and only needs to finish.
// It returns what the configuration said of the storage too (nil when nothing), which the
// audit gives the history.
func collectScale(t testing.TB, o httpconfig.Options) (*analyze.Inventory, *prometheus.Recorder, *analyze.Storage) {
	t.Helper()
	client, err := prometheus.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	rec := prometheus.NewRecorder(client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b := analyze.NewBuilder(collectedAt)
	prometheus.Collect(ctx, rec, analyze.Source{Name: "prometheus", Kind: "live", URL: o.BaseURL()}, b, slog.New(slog.DiscardHandler))
	storage, ok := b.StorageOf("prometheus")
	if !ok {
		return b.Build(), rec, nil
	}
	return b.Build(), rec, &storage
}

// countingClient counts the requests made through it, and keeps how long each took.
type countingClient struct {
	api.Client
	requests atomic.Int32
	mu       sync.Mutex
	first    time.Time
	took     []timedRequest
}

// timedRequest is one request a countingClient made: its query (or path), step, when it was
// sent, its duration and the size of its answer.
type timedRequest struct {
	query, step string
	// at is when it was sent, after the first request.
	at, took time.Duration
	bytes    int
}

func (c *countingClient) Do(ctx context.Context, r *http.Request) (*http.Response, []byte, error) {
	c.requests.Add(1)
	query, step := r.URL.Path, ""
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			form, _ := io.ReadAll(body)
			if v, err := url.ParseQuery(string(form)); err == nil && v.Has("query") {
				query, step = v.Get("query"), v.Get("step")
			}
		}
	}
	start := time.Now()
	c.mu.Lock()
	if c.first.IsZero() {
		c.first = start
	}
	at := start.Sub(c.first)
	c.mu.Unlock()
	resp, body, err := c.Client.Do(ctx, r)
	c.mu.Lock()
	c.took = append(c.took, timedRequest{query: query, step: step, at: at, took: time.Since(start), bytes: len(body)})
	c.mu.Unlock()
	return resp, body, err
}

// logSlowest logs the n requests that took longest, their queries cut to 160 bytes.
func (c *countingClient) logSlowest(b *testing.B, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	took := slices.SortedFunc(slices.Values(c.took), func(x, y timedRequest) int { return cmp.Compare(y.took, x.took) })
	for _, r := range took[:min(n, len(took))] {
		q := r.query
		if len(q) > 160 {
			q = q[:160] + "…"
		}
		b.Logf("at %7s %8s %6.1f MB step %-5s %s", r.at.Round(time.Millisecond), r.took.Round(time.Millisecond), float64(r.bytes)/1e6, r.step, q)
	}
}

// serverCPU is the CPU time the Prometheus at base has spent, in seconds: its own
// process_cpu_seconds_total, read from its /metrics.
func serverCPU(tb testing.TB, client *http.Client, base string) float64 {
	tb.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		tb.Fatalf("%s/metrics: %v", base, err)
	}
	cpu, ok := families["process_cpu_seconds_total"]
	if !ok || len(cpu.GetMetric()) != 1 {
		tb.Fatalf("%s/metrics has no process_cpu_seconds_total", base)
	}
	return cpu.GetMetric()[0].GetCounter().GetValue()
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// EnvScaleBinary names a built blindspot binary for BenchmarkScaleEstate to run against the
// estate, so that the figures include its peak resident memory (scripts/scale.sh sets it).
const EnvScaleBinary = "BLINDSPOT_TEST_SCALE_BINARY"

// BenchmarkScaleEstate measures `blindspot audit --format json` against a real Prometheus 3
// loaded with the scale estate (invgen.ScaleEstate: 1,001 jobs, 10,001 targets, about 100,000
// metric names, 5,000 rules), against merely downloading every answer the audit reads, one
// after the other. With BLINDSPOT_TEST_SCALE_BINARY set it runs that binary and reports its wall
// time and peak RSS; without it, the collection in this process. Each is measured twice: with
// the history (read by default, over seven days, of which the estate holds the minutes since it
// started) and without (history.enabled false); the in-process history run also reports the
// time and the requests of CollectHistory alone. Run it with scripts/scale.sh.
// The goals: wall ≤ 2.0 × download, peak RSS ≤ 500 MB; the history costs no more than the
// rest of the collection.
func BenchmarkScaleEstate(b *testing.B) {
	t := b
	estate := invgen.ScaleEstate
	bins := servers.Find(t)
	exporter := httptest.NewServer(estate.Handler())
	t.Cleanup(exporter.Close)

	dir := t.TempDir()
	rules, err := estate.RuleFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := estate.Config(strings.TrimPrefix(exporter.URL, "http://"), "1m", filepath.Join(dir, "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	base, prom := startLoaded(t, bins.Prometheus3, dir, rules, cfg)

	// Every target spreads its first scrape over the interval: wait until all were scraped.
	client := &http.Client{Timeout: 60 * time.Second}
	scraped := func(query string) float64 { return queryOne(client, base, query) }
	deadline := time.Now().Add(3 * time.Minute)
	for scraped("count(up == 1)") != float64(estate.Targets()) || scraped("count(go_goroutines)") != float64(estate.Targets()-1) {
		if time.Now().After(deadline) {
			t.Fatalf("the %d targets were not all scraped within three minutes (%v up, %v with go_goroutines):\n%s",
				estate.Targets(), scraped("count(up == 1)"), scraped("count(go_goroutines)"), prom.LogTail(5))
		}
		time.Sleep(time.Second)
	}
	// Every counter rises at every scrape: once every target was scraped twice, and the
	// minute of the second scrape is past (the history ends at the last whole minute), the
	// history reads every counter as a business counter that rose, as it would a live estate's.
	for scraped("count(count_over_time(up[10m]) >= 2)") != float64(estate.Targets()) {
		if time.Now().After(deadline.Add(2 * time.Minute)) {
			t.Fatalf("the %d targets were not all scraped twice within five minutes (%v were):\n%s",
				estate.Targets(), scraped("count(count_over_time(up[10m]) >= 2)"), prom.LogTail(5))
		}
		time.Sleep(time.Second)
	}
	// That minute past, and the rules' evaluation, which makes the recorded series.
	time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + 5*time.Second)))

	// The requests the audit makes, as the collection in this process makes them.
	o := options(base)
	o.Timeout = 2 * time.Minute
	inv, rec, storage := collectScale(t, o)
	if errs := inv.Sources[0].Errors; len(errs) != 0 {
		t.Fatalf("errors %+v", errs)
	}
	t.Logf("estate: %d jobs, %d targets, %d metric names, %d rules", len(inv.JobMetrics), len(inv.Targets), len(inv.MetricNames), len(inv.Rules()))

	// The same requests as the audit, one after the other, reading the bodies and nothing else.
	download := func(b *testing.B) (d time.Duration, requests, bytes int) {
		start := time.Now()
		requests, _, bytes = downloadAll(b, client, base, rec)
		return time.Since(start), requests, bytes
	}
	// readHistory reads the history of the estate as an audit does, in this process, and
	// returns how long it took, how many requests it made and how many of the big job's
	// counters it read.
	readHistory := func(b *testing.B, inv *analyze.Inventory, storage *analyze.Storage) (time.Duration, int, int) {
		client, err := prometheus.NewClient(o)
		if err != nil {
			b.Fatal(err)
		}
		jobs := map[string]int{}
		for _, ms := range inv.JobMetrics {
			for _, m := range ms {
				jobs[m]++
			}
		}
		names := slices.Sorted(maps.Keys(jobs))
		counted := &countingClient{Client: client}
		start := time.Now()
		res := prometheus.CollectHistory(context.Background(), counted, prometheus.HistoryOptions{End: time.Now(), Counters: names, CounterJobs: jobs, Storage: storage})
		d := time.Since(start)
		if !res.OK {
			b.Fatalf("history: %+v", res.Errors)
		}
		big := 0
		for _, c := range res.History.Counters {
			if c.Job == invgen.BigJob {
				big++
			}
		}
		if testing.Verbose() {
			counted.logSlowest(b, 100)
		}
		return d, int(counted.requests.Load()), big
	}
	// audit runs the binary (or without one, the collection in this process) with or without
	// the history and returns its peak RSS.
	audit := func(b *testing.B, binary string, history bool) int64 {
		if binary == "" {
			inv, _, storage := collectScale(b, o)
			if history {
				readHistory(b, inv, storage)
			}
			return 0
		}
		cmd := exec.CommandContext(context.Background(), binary, "audit", "--prometheus-url", base, "--format", "json", "--output", filepath.Join(dir, "report.json"))
		cmd.Env = append(os.Environ(), "BLINDSPOT_HISTORY_ENABLED="+strconv.FormatBool(history))
		// The last lines of stderr say why an audit failed (its partial report's line).
		var stderr tailBuffer
		cmd.Stderr = &stderr
		if log := os.Getenv("BLINDSPOT_TEST_SCALE_STDERR"); log != "" {
			// A look at the binary's garbage collection, in the file named.
			cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
			f, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			cmd.Stderr = f
		}
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 { // 1: findings
			b.Fatalf("blindspot audit: %v: %s", err, stderr.String())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss * 1024
		}
		return 0
	}

	// What the server spends without being asked anything (scraping the estate), against which
	// its CPU time during an audit is to be read.
	idle := serverCPU(t, client, base)
	time.Sleep(5 * time.Second)
	idle = (serverCPU(t, client, base) - idle) * 1000 / 5

	// Several binaries (comma-separated) are measured in turn against the same estate, each
	// audit followed by a download, so that the ratio compares the same moment of the machine.
	for _, binary := range strings.Split(os.Getenv(EnvScaleBinary), ",") {
		name := "in-process"
		if binary != "" {
			name = filepath.Base(binary)
		}
		for _, history := range []bool{false, true} {
			b.Run(name+"/history="+strconv.FormatBool(history), func(b *testing.B) {
				var wall, down time.Duration
				var peakRSS int64
				var requests, bytes int
				var cpu float64
				for b.Loop() {
					start, before := time.Now(), serverCPU(b, client, base)
					peakRSS = max(peakRSS, audit(b, binary, history))
					wall += time.Since(start)
					cpu += serverCPU(b, client, base) - before
					b.StopTimer()
					d, r, n := download(b)
					down, requests, bytes = down+d, r, n
					b.StartTimer()
				}
				b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/op")
				b.ReportMetric(cpu*1000/float64(b.N), "server-cpu-ms/op")
				b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "download-ms/op")
				b.ReportMetric(wall.Seconds()/down.Seconds(), "wall/download")
				b.ReportMetric(float64(requests), "requests")
				b.ReportMetric(float64(bytes)/1e6, "read-MB")
				if binary != "" {
					b.ReportMetric(float64(peakRSS)/1e6, "peak-RSS-MB")
				}
			})
		}
	}
	// The history alone, in this process: its range queries against the estate.
	b.Run("history-only", func(b *testing.B) {
		var took time.Duration
		var requests, big int
		var cpu float64
		for b.Loop() {
			before := serverCPU(b, client, base)
			d, n, c := readHistory(b, inv, storage)
			took, requests, big = took+d, n, c
			cpu += serverCPU(b, client, base) - before
		}
		b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "history-ms/op")
		b.ReportMetric(cpu*1000/float64(b.N), "server-cpu-ms/op")
		b.ReportMetric(idle, "idle-server-cpu-ms/s")
		b.ReportMetric(float64(requests), "history-requests")
		// The big job's counters all rise at every scrape: the history reads each of them.
		b.ReportMetric(float64(big), "big-job-counters")
	})
}

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestIntegrationBacktest generates from a real Prometheus 3 holding a week of history: a
// counter steady for five days then flat for two, and a job whose target was down three
// minutes every four hours.
func TestIntegrationBacktest(t *testing.T) {
	bins := servers.Find(t)
	end := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
	start := end.Add(-7 * 24 * time.Hour)
	minutes := int(end.Sub(start) / time.Minute)
	var om strings.Builder
	var invoices int
	om.WriteString("# TYPE invoices_generated_total counter\n")
	for i := 0; i <= minutes; i++ {
		invoices = min(i, 5*24*60) * 30
		fmt.Fprintf(&om, "invoices_generated_total{job=\"billing\",instance=\"billing-1\"} %d %d\n", invoices, start.Add(time.Duration(i)*time.Minute).Unix())
	}
	om.WriteString("# TYPE up gauge\n")
	for i := 0; i <= minutes; i++ {
		up := 1
		if i%240 >= 100 && i%240 < 103 {
			up = 0
		}
		fmt.Fprintf(&om, "up{job=\"flappy\",instance=\"flappy-1\"} %d %d\n", up, start.Add(time.Duration(i)*time.Minute).Unix())
	}
	om.WriteString("# EOF\n")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE invoices_generated_total counter\ninvoices_generated_total{job=\"billing\",instance=\"billing-1\"} %d\n", invoices)
	}))
	t.Cleanup(target.Close)
	flappy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(flappy.Close)
	prom := servers.StartPrometheusWithHistory(t, bins.Prometheus3, servers.HistoryPrometheusOptions{
		OpenMetrics: om.String(),
		Jobs: map[string][]string{
			"shop":   {strings.TrimPrefix(target.URL, "http://")},
			"flappy": {strings.TrimPrefix(flappy.URL, "http://")},
		},
	})
	const (
		billing = "blindspot: backtest: BillingInvoicesGeneratedStopped would have fired once in the last 7d, for 1d23h45m\n"
		tuned   = "blindspot: backtest: FlappyTargetDown would not have fired in the last 7d (tuned)\n"
		flapped = "blindspot: backtest: FlappyTargetDown would have fired 42 times in the last 7d, for 42m in all\n"
		note    = "note: tuned FlappyTargetDown, which fired more than 7 times in the backtest: for 10m\n"
	)

	t.Run("With the history turned off nothing is backtested and stderr says nothing of it.", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("BLINDSPOT_HISTORY_ENABLED", "false")
		code, out, stderr := cli(t, "generate", "--prometheus-url", prom.URL, "--out", t.TempDir())
		if code != exitOK || strings.Contains(stderr, "backtest") || strings.Contains(out, "tuned") {
			t.Errorf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
	})
	t.Run("With the history read, stderr says how often each alert would have fired, and the alert firing 42 times is tuned.", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("BLINDSPOT_HISTORY_LOOKBACK", "168h")
		code, out, stderr := cli(t, "generate", "--prometheus-url", prom.URL, "--out", t.TempDir())
		if code != exitOK || !strings.Contains(stderr, billing) || !strings.Contains(stderr, tuned) || !strings.Contains(out, note) {
			t.Errorf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
		if !strings.HasPrefix(out, "wrote ") {
			t.Errorf("stdout does not start with what was written:\n%s", out)
		}
	})
	t.Run("generate.max_backtest_episodes from the environment lets the alert firing 42 times through as it is.", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("BLINDSPOT_HISTORY_LOOKBACK", "168h")
		t.Setenv("BLINDSPOT_GENERATE_MAX_BACKTEST_EPISODES", "50")
		code, out, stderr := cli(t, "generate", "--prometheus-url", prom.URL, "--out", t.TempDir())
		if code != exitOK || !strings.Contains(stderr, flapped) || strings.Contains(out, "tuned") {
			t.Errorf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
	})
}

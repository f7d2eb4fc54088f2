package audit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// backtestHistory is a week of history ending at end, one sample a minute: a counter steady
// for five days then flat for two, a counter that moves once an hour, a job whose target is
// down for three minutes every four hours, one down an hour in every two, a Pushgateway group pushed once (at the start) and
// one pushed every hour. It returns the last values, for the live target to carry on.
func backtestHistory(end time.Time) (om string, invoices, orders, hourlyPush int64) {
	var b strings.Builder
	start := end.Add(-7 * 24 * time.Hour)
	minutes := int(end.Sub(start) / time.Minute)
	family := func(name, typ string, value func(i int) int64) int64 {
		fmt.Fprintf(&b, "# TYPE %s %s\n", strings.SplitN(name, "{", 2)[0], typ)
		var v int64
		for i := 0; i <= minutes; i++ {
			v = value(i)
			fmt.Fprintf(&b, "%s %d %d\n", name, v, start.Add(time.Duration(i)*time.Minute).Unix())
		}
		return v
	}
	invoices = family(`invoices_generated_total{job="billing",instance="billing-1"}`, "counter", func(i int) int64 { return int64(min(i, 5*24*60)) * 30 })
	// It rises five minutes past every hour, so that the start of the lookback is not flat.
	orders = family(`orders_placed_total{job="orders",instance="orders-1"}`, "counter", func(i int) int64 { return int64(i+55) / 60 })
	family(`push_time_seconds{job="batch",instance="pgw"}`, "gauge", func(int) int64 { return start.Unix() })
	hourlyPush = family(`push_time_seconds{job="hourly",instance="pgw"}`, "gauge", func(i int) int64 { return start.Add(time.Duration(i/60) * time.Hour).Unix() })
	// Three of the family's samples would be one TYPE block each; up is written once.
	family(`up{job="flappy",instance="flappy-1"}`, "gauge", func(i int) int64 {
		if i >= 10 && i%240 < 3 {
			return 0
		}
		return 1
	})
	// Down for an hour every two hours: no `for` the tuning tries is long enough.
	family(`up{job="flaky",instance="flaky-1"}`, "gauge", func(i int) int64 {
		if i%120 >= 60 {
			return 0
		}
		return 1
	})
	b.WriteString("# EOF\n")
	return b.String(), invoices, orders, hourlyPush
}

// TestBacktestLive generates from a real Prometheus holding a week of history, with the history
// section set, and checks what the backtest made of every alert, on both majors.
func TestBacktestLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name+": the hourly counter's alert gets a window of twice its quiet hour and never fires, the counter flat for two days fires once, the flapping target's alert is tuned, the one down half the time is left out, the group pushed once gets no push alert.", func(t *testing.T) {
			end := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
			om, invoices, orders, hourlyPush := backtestHistory(end)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "# TYPE invoices_generated_total counter\ninvoices_generated_total{job=\"billing\",instance=\"billing-1\"} %d\n", invoices)
				fmt.Fprintf(w, "# TYPE orders_placed_total counter\norders_placed_total{job=\"orders\",instance=\"orders-1\"} %d\n", orders)
				fmt.Fprintf(w, "# TYPE push_time_seconds gauge\npush_time_seconds{job=\"batch\",instance=\"pgw\"} %d\n", end.Add(-7*24*time.Hour).Unix())
				fmt.Fprintf(w, "push_time_seconds{job=\"hourly\",instance=\"pgw\"} %d\n", hourlyPush)
			}))
			t.Cleanup(target.Close)
			flappy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			t.Cleanup(flappy.Close)
			flaky := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			t.Cleanup(flaky.Close)
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{
				OpenMetrics: om,
				Jobs: map[string][]string{
					"shop":   {strings.TrimPrefix(target.URL, "http://")},
					"flappy": {strings.TrimPrefix(flappy.URL, "http://")},
					"flaky":  {strings.TrimPrefix(flaky.URL, "http://")},
				},
			})
			g, err := audit.Files(t.Context(), audit.Request{
				Servers: []collect.FleetSource{{Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: prom.URL}}},
				Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour}},
			}, generate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if g.Lookback != 7*24*time.Hour {
				t.Errorf("lookback %s", g.Lookback)
			}
			tested := map[string]audit.Backtested{}
			for _, b := range g.Backtest {
				tested[b.Alert] = b
			}
			want := map[string]audit.Backtested{
				"OrdersOrdersPlacedStopped": {Alert: "OrdersOrdersPlacedStopped"},
				"FlappyTargetDown":          {Alert: "FlappyTargetDown", Tuned: true},
				"HourlyNoRecentPush":        {Alert: "HourlyNoRecentPush"},
				// Every hour-long outage outlasts the longest tuned `for` (40m) by 20 minutes.
				"FlakyTargetDown": {Alert: "FlakyTargetDown", Noisy: true, Result: generate.BacktestResult{Episodes: 84, Firing: 28 * time.Hour}},
				// The flat counter's alert fires once its 10m window and 15m `for` have passed
				// after the last increase, two days before the end of the history, and until
				// its window holds less than two samples, in the gap before the live samples.
				"BillingInvoicesGeneratedStopped": {Alert: "BillingInvoicesGeneratedStopped", Result: generate.BacktestResult{Episodes: 1, Firing: 47*time.Hour + 45*time.Minute}},
			}
			for name, w := range want {
				if got := tested[name]; got != w {
					t.Errorf("backtest of %s: %+v, want %+v", name, got, w)
				}
			}
			if _, ok := tested["BatchNoRecentPush"]; ok {
				t.Errorf("the group pushed once was backtested: %+v", g.Backtest)
			}

			files := map[string]string{}
			for _, f := range g.Files {
				files[f.Path] = string(f.Content)
			}
			if r := files["rules/orders.yaml"]; !strings.Contains(r, `expr: rate(orders_placed_total{job="orders"}[2h]) == 0`) {
				t.Errorf("the hourly counter's alert, want a window of 2h:\n%s", r)
			}
			if r := files["rules/billing.yaml"]; !strings.Contains(r, `expr: rate(invoices_generated_total{job="billing"}[10m]) == 0`) {
				t.Errorf("the flat counter's alert, want the default window of 10m:\n%s", r)
			}
			if r := files["rules/flappy.yaml"]; !strings.Contains(r, "alert: FlappyTargetDown\n") || !strings.Contains(r, "for: 10m\n") {
				t.Errorf("the flapping target's alert, want a for of 10m:\n%s", r)
			}
			if r := files["rules/flaky.yaml"]; strings.Contains(r, "FlakyTargetDown") || files["runbooks/FlakyTargetDown.md"] != "" {
				t.Errorf("the alert too noisy to generate was written:\n%s", r)
			}
			if r := files["rules/batch-pushgateway.yaml"]; strings.Contains(r, "BatchNoRecentPush") {
				t.Errorf("the group pushed once got a push alert:\n%s", r)
			}
			if r := files["rules/hourly-pushgateway.yaml"]; !strings.Contains(r, "alert: HourlyNoRecentPush\n") {
				t.Errorf("the group pushed every hour has no push alert:\n%s", r)
			}
			if rb := files["runbooks/BillingInvoicesGeneratedStopped.md"]; !strings.Contains(rb, "Backtest: over the last 7d of the server's history, as it stood when the alert was generated, this alert would have fired once, for 1d23h45m.\n") {
				t.Errorf("the runbook does not say what the backtest found:\n%s", rb)
			}
			for _, want := range []string{
				`left out BatchNoRecentPush for job "batch": its Pushgateway group {instance="pgw", job="batch"} was not pushed again over the lookback, so a missing push cannot be told from its schedule`,
				"tuned FlappyTargetDown, which fired more than 7 times in the backtest: for 10m",
				"left out FlakyTargetDown: too noisy to generate, it would have fired 84 times in the last 7d, for 1d4h in all (generate.max_backtest_episodes is 7)",
			} {
				if !slices.Contains(g.Notes, want) {
					t.Errorf("no note %q in %q", want, g.Notes)
				}
			}

			// The promtool tests of what was written, the tuned alert's included, pass.
			dir := t.TempDir()
			for path, content := range files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tests, _ := filepath.Glob(filepath.Join(dir, "rules", "tests", "*.test.yaml"))
			if len(tests) == 0 {
				t.Fatal("no promtool test was generated")
			}
			cmd := exec.Command(filepath.Join(filepath.Dir(p.binary), "promtool"), append([]string{"test", "rules"}, tests...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool test rules: %v\n%s", err, out)
			}
		})
	}
}

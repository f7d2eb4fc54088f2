package runbooks_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
)

func TestRunbookSaysTheBacktest(t *testing.T) {
	a := cases(t)["up"]
	plain, err := runbooks.Render(a, options)
	if err != nil {
		t.Fatal(err)
	}
	render := func(bt *generate.Backtest) string {
		t.Helper()
		o := options
		o.Backtest = bt
		f, err := runbooks.Render(a, o)
		if err != nil {
			t.Fatal(err)
		}
		return string(f.Content)
	}
	t.Run("Without a backtest of the alert the runbook is what it was, byte for byte.", func(t *testing.T) {
		for what, bt := range map[string]*generate.Backtest{
			"history without a backtest":      {Windows: map[generate.JobMetric]time.Duration{{Job: "payments-api", Metric: "x_total"}: time.Hour}},
			"a backtest of other alerts only": {Lookback: 7 * 24 * time.Hour, Results: map[string]generate.BacktestResult{"Other": {Episodes: 2}}},
		} {
			if got := render(bt); !bytes.Equal([]byte(got), plain.Content) {
				t.Errorf("%s changed the runbook:\n%s", what, got)
			}
		}
	})
	t.Run("The backtest is said under the expression, and a tuned alert says why its for is longer.", func(t *testing.T) {
		got := render(&generate.Backtest{Lookback: 7 * 24 * time.Hour, Results: map[string]generate.BacktestResult{a.Name: {Episodes: 3, Firing: 90 * time.Minute}}})
		want := "== 0\n```\n\nBacktest: over the last 7d of the server's history, as it stood when the alert was generated, this alert would have fired 3 times, for 1h30m in all.\n\n## Impact\n"
		if !strings.Contains(got, want) {
			t.Errorf("runbook:\n%s\nwant it to contain\n%s", got, want)
		}
		got = render(&generate.Backtest{Lookback: 2 * 24 * time.Hour, Results: map[string]generate.BacktestResult{a.Name: {}}, Tuning: map[string]generate.Tuning{a.Name: {For: 10 * time.Minute}}})
		if want := "Backtest: over the last 2d of the server's history, as it stood when the alert was generated, this alert would not have fired. " +
			"Its window and `for` were lengthened so that it fires at most 7 times over that span (`generate.max_backtest_episodes`).\n"; !strings.Contains(got, want) {
			t.Errorf("tuned runbook:\n%s\nwant it to contain\n%s", got, want)
		}
	})
}

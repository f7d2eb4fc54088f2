package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// backtestFindings are an up and a business finding of one job.
func backtestFindings() []analyze.Finding {
	return []analyze.Finding{upFinding(paymentJob), businessFinding(paymentJob, "invoices_created_total", coverage.KindCounter)}
}

func alertNamed(t *testing.T, files []generate.RuleFile, name string) generate.Alert {
	t.Helper()
	for _, a := range allAlerts(files) {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no alert %s in %+v", name, files)
	return generate.Alert{}
}

func TestBacktestOptions(t *testing.T) {
	t.Run("A counter whose history asks for a longer window than the configured one gets it, in the expression, the description and the test; one asking for less keeps the configured window.", func(t *testing.T) {
		for _, tc := range []struct {
			asked, want time.Duration
		}{{2 * time.Hour, 2 * time.Hour}, {4 * time.Minute, 10 * time.Minute}} {
			o := generate.Options{Backtest: &generate.Backtest{Windows: map[generate.JobMetric]time.Duration{
				{Job: paymentJob, Metric: "invoices_created_total"}: tc.asked,
			}}}
			a := alertNamed(t, plan(t, backtestFindings(), o), "PaymentsApiInvoicesCreatedStopped")
			want := `rate(invoices_created_total{job="payments-api"}[` + model.Duration(tc.want).String() + `]) == 0`
			if a.Expr.String() != want || !strings.Contains(a.Annotations["description"], "over "+model.Duration(tc.want).String()) {
				t.Errorf("asked %s: expr %s, description %q; want %s", tc.asked, a.Expr, a.Annotations["description"], want)
			}
			if a.Test.EvalTime < tc.want+a.For {
				t.Errorf("asked %s: the test evaluates at %s, before the window and for have passed", tc.asked, a.Test.EvalTime)
			}
		}
	})
	t.Run("A tuned alert gets the tuned window and for; the others keep the defaults.", func(t *testing.T) {
		o := generate.Options{Backtest: &generate.Backtest{Tuning: map[string]generate.Tuning{
			"PaymentsApiInvoicesCreatedStopped": {Window: 40 * time.Minute, For: 30 * time.Minute},
			"PaymentsApiTargetDown":             {For: 10 * time.Minute},
		}}}
		files := plan(t, backtestFindings(), o)
		business, up := alertNamed(t, files, "PaymentsApiInvoicesCreatedStopped"), alertNamed(t, files, "PaymentsApiTargetDown")
		if business.For != 30*time.Minute || business.Expr.String() != `rate(invoices_created_total{job="payments-api"}[40m]) == 0` {
			t.Errorf("business alert: for %s, expr %s", business.For, business.Expr)
		}
		if up.For != 10*time.Minute || !strings.Contains(up.Annotations["description"], "for more than 10m") {
			t.Errorf("up alert: for %s, description %q", up.For, up.Annotations["description"])
		}
		plain := alertNamed(t, plan(t, backtestFindings(), generate.Options{}), "PaymentsApiTargetDown")
		if plain.For != 2*time.Minute {
			t.Errorf("untuned up alert: for %s", plain.For)
		}
	})
	t.Run("The promtool tests of tuned alerts pass.", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs promtool")
		}
		o := generate.Options{Backtest: &generate.Backtest{
			Windows: map[generate.JobMetric]time.Duration{{Job: paymentJob, Metric: "invoices_created_total"}: 2 * time.Hour},
			Tuning: map[string]generate.Tuning{
				"PaymentsApiInvoicesCreatedStopped": {Window: 4 * time.Hour, For: 30 * time.Minute},
				"PaymentsApiTargetDown":             {For: 40 * time.Minute},
			},
		}}
		files := plan(t, backtestFindings(), o)
		servers.ForEachPromtool(t, func(t *testing.T, bin string) {
			for _, a := range allAlerts(files) {
				dir := t.TempDir()
				runPromtool(t, bin, dir, "test", "rules", writeAlertTest(t, dir, a))
			}
		})
	})
}

func TestBacktested(t *testing.T) {
	file := func(alerts ...generate.Alert) generate.RuleFile { return generate.RuleFile{Name: "f", Alerts: alerts} }
	push := generate.Alert{Name: "BatchNoRecentPush", Job: "batch", Pack: "pushgateway", PackAlert: "NoRecentPush"}
	failed := generate.Alert{Name: "BatchLastPushFailed", Job: "batch", Pack: "pushgateway", PackAlert: "LastPushFailed"}
	noisy := generate.Alert{Name: "ShopTargetDown", Job: "shop", Kind: generate.KindUp}
	tuned := generate.Alert{Name: "ShopAbsent", Job: "shop", Kind: generate.KindAbsent}
	in := generate.Input{Options: generate.DefaultOptions(generate.Options{})}

	t.Run("Without a backtest nothing is left out and nothing is noted.", func(t *testing.T) {
		out := generate.Output{RuleFiles: []generate.RuleFile{file(push, noisy)}}
		if err := (Backtested{}).Generate(in, &out); err != nil || len(out.RuleFiles[0].Alerts) != 2 || len(out.Notes) != 0 {
			t.Errorf("%+v, %v", out, err)
		}
	})
	t.Run("The noisy alert and the push alert of a job not pushed periodically are left out, with a note each; a tuned alert is noted; a file left empty is dropped.", func(t *testing.T) {
		in := in
		in.Options.Backtest = &generate.Backtest{
			Lookback: 7 * 24 * time.Hour,
			Noisy: map[string]generate.BacktestResult{
				"ShopTargetDown":  {Episodes: 40, Firing: 26 * time.Hour},
				"OtherTargetDown": {Episodes: 8, Firing: 8 * time.Minute},
			},
			Tuning:     map[string]generate.Tuning{"ShopAbsent": {For: 20 * time.Minute}},
			Unperiodic: map[string]string{"batch": "its group was pushed once"},
		}
		out := generate.Output{RuleFiles: []generate.RuleFile{file(push, failed), file(noisy, tuned), {Name: "g", Alerts: []generate.Alert{{Name: "OtherTargetDown", Job: "other", Kind: generate.KindUp}}}}}
		if err := (Backtested{}).Generate(in, &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range allAlerts(out.RuleFiles) {
			names = append(names, a.Name)
		}
		if !slices.Equal(names, []string{"BatchLastPushFailed", "ShopAbsent"}) || len(out.RuleFiles) != 2 {
			t.Errorf("alerts left %v in %d files", names, len(out.RuleFiles))
		}
		want := []string{
			`left out BatchNoRecentPush for job "batch": its group was pushed once`,
			"left out ShopTargetDown: too noisy to generate, it would have fired 40 times in the last 7d, for 1d2h in all (generate.max_backtest_episodes is 7)",
			"tuned ShopAbsent, which fired more than 7 times in the backtest: for 20m",
			"left out OtherTargetDown: too noisy to generate, it would have fired 8 times in the last 7d, for 8m in all (generate.max_backtest_episodes is 7)",
		}
		if !slices.Equal(out.Notes, want) {
			t.Errorf("notes\n%s\nwant\n%s", strings.Join(out.Notes, "\n"), strings.Join(want, "\n"))
		}
	})
}

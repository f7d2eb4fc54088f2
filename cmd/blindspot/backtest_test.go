package main

import (
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/generate"
)

func TestWriteBacktest(t *testing.T) {
	t.Run("Each backtested alert gets one line saying how often it would have fired, and whether it was tuned or left out.", func(t *testing.T) {
		var b strings.Builder
		writeBacktest(&b, audit.Generated{Lookback: 7 * 24 * time.Hour, Backtest: []audit.Backtested{
			{Alert: "BillingInvoicesGeneratedStopped", Result: generate.BacktestResult{Episodes: 1, Firing: 47*time.Hour + 45*time.Minute}},
			{Alert: "OrdersOrdersPlacedStopped"},
			{Alert: "FlappyTargetDown", Tuned: true},
			{Alert: "FlakyTargetDown", Noisy: true, Result: generate.BacktestResult{Episodes: 84, Firing: 28 * time.Hour}},
		}})
		want := "blindspot: backtest: BillingInvoicesGeneratedStopped would have fired once in the last 7d, for 1d23h45m\n" +
			"blindspot: backtest: OrdersOrdersPlacedStopped would not have fired in the last 7d\n" +
			"blindspot: backtest: FlappyTargetDown would not have fired in the last 7d (tuned)\n" +
			"blindspot: backtest: FlakyTargetDown would have fired 84 times in the last 7d, for 1d4h in all (too noisy: not written)\n"
		if b.String() != want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), want)
		}
	})
	t.Run("Without a backtest nothing is written.", func(t *testing.T) {
		var b strings.Builder
		writeBacktest(&b, audit.Generated{})
		if b.Len() != 0 {
			t.Errorf("wrote %q", b.String())
		}
	})
}

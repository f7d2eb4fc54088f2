package gapmetrics_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
)

func TestExport(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()

	t.Run("A failed run written to the textfile keeps the last success of the run before it.", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "blindspot.prom")
		if err := gapmetrics.Export(ctx, run(tuesday, false), path, httpconfig.Options{}, logger); err != nil {
			t.Fatal(err)
		}
		if err := gapmetrics.Export(ctx, run(tuesday.Add(24*time.Hour), true), path, httpconfig.Options{}, logger); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := value(t, families(t, data), gapmetrics.LastSuccess, nil); v != float64(tuesday.Unix()) {
			t.Errorf("last success %v after a failed run, want tuesday's %v", v, tuesday.Unix())
		}
	})

	t.Run("A textfile that cannot be written is an error, not a push error.", func(t *testing.T) {
		err := gapmetrics.Export(ctx, run(tuesday, false), t.TempDir(), httpconfig.Options{}, logger)
		var pe *gapmetrics.PushError
		if err == nil || errors.As(err, &pe) {
			t.Errorf("err %v (a push error: %v), want a textfile error", err, errors.As(err, &pe))
		}
	})

	t.Run("A Pushgateway that refuses the metrics is a push error, in the words of Push.", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no", http.StatusForbidden)
		}))
		t.Cleanup(srv.Close)
		err := gapmetrics.Export(ctx, run(tuesday, false), "", httpconfig.Options{URL: srv.URL}, logger)
		var pe *gapmetrics.PushError
		if !errors.As(err, &pe) {
			t.Fatalf("err %v, want a *PushError", err)
		}
		want := gapmetrics.Push(ctx, httpconfig.Options{URL: srv.URL}, gapmetrics.Registry(run(tuesday, false)))
		if want == nil || err.Error() != want.Error() {
			t.Errorf("err %q, want Push's %q", err, want)
		}
	})

	t.Run("Neither a textfile nor a Pushgateway: nothing is exported and nothing fails.", func(t *testing.T) {
		if err := gapmetrics.Export(ctx, run(tuesday, false), "", httpconfig.Options{}, logger); err != nil {
			t.Error(err)
		}
	})
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"github.com/spf13/cobra"

	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/serve"
)

// defaultListen is serve's address: the loopback interface only, until told otherwise.
const defaultListen = "127.0.0.1:9797"

// shutdownGrace is how long serve waits for requests in flight when it is stopped.
const shutdownGrace = 5 * time.Second

// serveFlags are the flags of `blindspot serve`.
type serveFlags struct {
	src       sourceFlags
	listen    string
	webConfig string
	interval  time.Duration
	baseline  string
}

func (a *app) serveCommand() *cobra.Command {
	var fl serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Audit on an interval and serve the gap metrics and the report over HTTP",
		Long: `serve runs the same audit as audit and check (every source, fleet and policy of the
configuration) at once and then --interval after each (serve.interval, default 10m, moved
by up to a tenth either way), one audit at a time, and serves the last one:

  /metrics         the gap metrics of check --metrics-file (same names and labels), and
                   serve's own: audits by result, their duration, source errors per source
  /                the HTML report (as --format html), what changed since the audit
                   before at the top
  /api/v1/report   the JSON report (as --format json)
  /-/healthy       200 while serve runs
  /-/ready         200 once an audit made a report, 503 before

A source that cannot be read makes that audit partial (the report says what failed); serve
keeps running. --timeout (timeout:) is the deadline of each audit. --baseline counts the
new findings of the gap metrics against a baseline file, read once at start; serve writes
nothing. --web.config.file adds TLS and basic authentication (Prometheus exporter-toolkit's
web configuration). SIGINT or SIGTERM stops serve: the audit in flight is cancelled and the
requests in flight get ` + shutdownGrace.String() + ` to finish. See docs/serve.md.

Exit codes:
  0  serve was stopped by SIGINT or SIGTERM
  2  usage or configuration error (a bad flag, config key, baseline or web configuration
     file, or an address that cannot be listened on)`,
		Example: `  blindspot serve --prometheus-url http://prometheus:9090
  blindspot serve --listen :9797 --interval 5m --baseline blindspot-baseline.json
  blindspot serve --web.config.file web.yml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runServe(cmd, fl) },
	}
	fl.src.register(cmd)
	f := cmd.Flags()
	f.StringVar(&fl.listen, "listen", defaultListen, "address to serve on (host:port; :9797 for every interface)")
	f.StringVar(&fl.webConfig, "web.config.file", "", "exporter-toolkit web configuration file enabling TLS or basic authentication")
	f.DurationVar(&fl.interval, "interval", 0, "time between two audits; overrides serve.interval (default 10m)")
	f.StringVar(&fl.baseline, "baseline", "", "baseline file the gap metrics count new findings against (read once, never written)")
	return cmd
}

func (a *app) runServe(cmd *cobra.Command, fl serveFlags) error {
	interval, err := a.cfg.ServeInterval()
	if err != nil {
		return usageError(err)
	}
	if cmd.Flags().Changed("interval") {
		if fl.interval <= 0 {
			return usageError(fmt.Errorf("--interval %s: want a positive duration such as 10m", fl.interval))
		}
		interval = fl.interval
	}
	if err := web.Validate(fl.webConfig); err != nil {
		return usageError(fmt.Errorf("--web.config.file %s: %w", fl.webConfig, err))
	}
	var base baseline.File
	if fl.baseline != "" {
		if base, err = baseline.Read(fl.baseline); err != nil {
			return usageError(err)
		}
	}
	// The progress line is for a person watching one run, not for a server's log.
	a.quiet = true
	req, err := a.request(fl.src, time.Now())
	if err != nil {
		return err
	}
	timeout := a.cfg.Timeout
	srv, err := serve.New(serve.Options{
		Audit: func(ctx context.Context, now time.Time) (report.Report, error) {
			// The run's deadline (--timeout) is each audit's.
			ctx, cancel := context.WithTimeoutCause(ctx, timeout, &deadlineError{timeout: timeout})
			defer cancel()
			r := req
			r.Now = func() time.Time { return now }
			return audit.Report(ctx, r)
		},
		Interval:     interval,
		Baseline:     base,
		BaselineName: fl.baseline,
		Version:      toolVersion(),
		Logger:       a.logger,
	})
	if err != nil {
		return usageError(err)
	}

	l, err := net.Listen("tcp", fl.listen)
	if err != nil {
		return usageError(fmt.Errorf("--listen: %w", err))
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(a.stderr, "blindspot: serving on %s, auditing every %s\n", l.Addr(), interval)

	// Not the command's context: its deadline is that of one run, and serve's is each audit's.
	ctx, cancel := context.WithCancel(a.runCtx)
	defer cancel()
	audited := make(chan struct{})
	go func() {
		srv.Run(ctx)
		close(audited)
	}()
	served := make(chan error, 1)
	noSystemd := false
	go func() {
		served <- web.Serve(l, hs, &web.FlagConfig{
			WebListenAddresses: &[]string{fl.listen}, WebSystemdSocket: &noSystemd, WebConfigFile: &fl.webConfig,
		}, a.logger)
	}()

	select {
	case <-ctx.Done():
	case err := <-served:
		cancel()
		<-audited
		return usageError(fmt.Errorf("serving on %s: %w", l.Addr(), err))
	}
	cancel()
	sctx, stop := context.WithTimeout(context.Background(), shutdownGrace)
	defer stop()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		a.logger.Warn("shutting down", "err", err)
	}
	<-audited
	return nil
}

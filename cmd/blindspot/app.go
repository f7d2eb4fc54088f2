package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/blindspot-dev/blindspot/internal/config"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

const exitCodesHelp = `Exit codes:
  0  the command completed (an audit with findings completes too)
  1  generate --check: the output directory is not what would be generated now;
     check: new gaps at or above --fail-on, or an expired exception
  2  usage or configuration error
  3  a source could not be read completely (an error, an answer over its limit, the
     --timeout deadline); the report was still written with what was read`

// app holds what every command shares: output streams, global flags and the loaded config.
type app struct {
	stdout, stderr io.Writer
	root           *cobra.Command

	configFile string
	verbose    bool
	quiet      bool
	// progressLine is the terminal line the long collections report on (see progress).
	progressLine *progressLine
	logger       *slog.Logger
	cfg          config.Config
	cfgFile      string // the file actually read, "" for none
	// promURLs is --prometheus-url, which may name several servers (name=URL).
	promURLs prometheusURLs
	// cancel ends the run's deadline (see setup).
	cancel context.CancelFunc
	// runCtx is the command's context without the run's deadline: serve deadlines each audit.
	runCtx context.Context
}

// defaultRunTimeout is the deadline of a whole run when neither --timeout nor timeout: is set.
const defaultRunTimeout = 2 * time.Minute

// deadlineError is what every request still in flight fails with when the run's deadline
// passes: the partial report names it on each part that was cut off.
type deadlineError struct{ timeout time.Duration }

func (e *deadlineError) Error() string {
	return fmt.Sprintf("cut off by the run's deadline of %s (--timeout or timeout: in the configuration raises it)", e.timeout)
}

func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// flagKeys maps config keys to the global flags that override them.
var flagKeys = map[string]string{
	"prometheus.url":   "prometheus-url",
	"loki.url":         "loki-url",
	"grafana.url":      "grafana-url",
	"alertmanager.url": "alertmanager-url",
	"timeout":          "timeout",
}

func newApp(stdout, stderr io.Writer) *app {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "blindspot",
		Short: "Find the blind spots in a Prometheus + Loki + Grafana setup",
		Long: `blindspot queries a live monitoring setup (or a snapshot of one, or rule files) and reports
its blind spots: targets that are down, jobs without targets, and more.

` + exitCodesHelp,
		Example: `  blindspot audit --prometheus-url http://localhost:9090
  BLINDSPOT_PROMETHEUS_URL=http://prometheus:9090 blindspot audit --format json`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.setup(cmd) },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "configuration file (default ./"+defaultConfigFile+" when present)")
	pf.Var(&a.promURLs, "prometheus-url", "Prometheus (or compatible) server URL; overrides prometheus.url. Repeat as NAME=URL to audit a fleet")
	pf.String("loki-url", "", "Loki URL; overrides loki.url")
	pf.String("grafana-url", "", "Grafana URL; overrides grafana.url")
	pf.String("alertmanager-url", "", "Alertmanager URL; overrides alertmanager.url (default: the one Prometheus sends to)")
	pf.Duration("timeout", defaultRunTimeout, "deadline of the whole run: what is still being read then is cut off, and the report says what (exit 3); overrides timeout:")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log what blindspot does to stderr (credentials are redacted)")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "no progress line on stderr during long collections (there is none when stderr is not a terminal)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })

	root.AddCommand(a.auditCommand(), a.generateCommand(), a.snapshotCommand(), a.versionCommand())
	root.AddCommand(a.pushCommand())
	root.AddCommand(a.checkCommand())
	root.AddCommand(a.serveCommand())
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = "  source <(blindspot completion bash)\n  blindspot completion zsh > \"${fpath[1]}/_blindspot\""
		}
	}
	a.root = root
	return a
}

func (a *app) execute(ctx context.Context, args []string) int {
	a.root.SetArgs(args)
	err := a.root.ExecuteContext(ctx)
	if a.cancel != nil {
		a.cancel()
	}
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	msg := redact.Text(strings.Join(strings.Fields(err.Error()), " "))
	fmt.Fprintf(a.stderr, "blindspot: %s\n", msg)
	return code
}

// setup loads the configuration and the logger before any command runs.
func (a *app) setup(cmd *cobra.Command) error {
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: redact.Attr}))

	path, explicit := a.configFile, a.configFile != ""
	if !explicit {
		path = defaultConfigFile
	}
	cfg, file, err := loadConfig(path, explicit, cmd.Flags(), flagKeys)
	if err != nil {
		return usageError(err)
	}
	if err := applyFleetFlags(&cfg, &a.promURLs); err != nil {
		return usageError(err)
	}
	cfg.FoldSingleServer()
	if err := cfg.DefaultTimeout(defaultRunTimeout); err != nil {
		return usageError(err)
	}
	a.runCtx = cmd.Context()
	// One deadline for everything the command reads; what it writes after is not cut off.
	ctx, cancel := context.WithTimeoutCause(cmd.Context(), cfg.Timeout, &deadlineError{timeout: cfg.Timeout})
	cmd.SetContext(ctx)
	a.cancel = cancel
	a.cfg, a.cfgFile = cfg, file
	cfg.Log(a.logger, file)
	return nil
}

// isTerminal reports whether w is a terminal, for color.
func isTerminal(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && isCharDevice(w)
}

// isCharDevice reports whether w is a character device (a terminal), whatever NO_COLOR says.
func isCharDevice(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

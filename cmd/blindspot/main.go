// Command blindspot finds the blind spots in a Prometheus + Loki + Grafana setup.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(runMain())
}

// runMain is main without the exit: SIGINT and SIGTERM end the command's context (serve
// stops, an audit is cut off).
func runMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Exit codes, documented in README.md and in `blindspot --help`.
const (
	exitOK = 0
	// exitFindings is reserved for `blindspot check`: new gaps were found.
	exitFindings = 1
	exitUsage    = 2
	exitSource   = 3
)

// exitError carries an exit code with the one-line message shown to the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error  { return &exitError{code: exitUsage, err: err} }
func sourceError(err error) error { return &exitError{code: exitSource, err: err} }

// run executes the CLI with args and returns the exit code; tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	return app.execute(ctx, args)
}

package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/blindspot-dev/blindspot"
	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

const checkExitCodesHelp = `Exit codes:
  0  nothing new at or above --fail-on, and no expired exception
  1  new gaps at or above --fail-on, or an expired exception (with --update-baseline: never)
  2  usage or configuration error (a bad flag, config key or baseline file)
  3  a source could not be read completely, or the gap metrics could not be pushed; the
     report is still written (--fail-on-source-error=false makes an unread source a warning)`

// checkFlags are the flags of `blindspot check`.
type checkFlags struct {
	src               sourceFlags
	baseline          string
	updateBaseline    bool
	failOn            string
	format            string
	output            string
	failOnSourceError bool
	metricsFile       string
	pushgateway       string
	summary           string
}

func (a *app) checkCommand() *cobra.Command {
	var fl checkFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "The nightly gap check for CI: fail only on gaps the baseline does not hold",
		Long: `check runs the same audit as audit (every source, live or --from) and compares its findings
with a baseline, a JSON file kept in git: it fails only on new gaps at or above --fail-on, and
reports the gaps fixed since the baseline as resolved. Without --baseline every finding is
new. --update-baseline rewrites the baseline with the findings of this run (keeping first_seen
for those still present).

An ignore: entry past its expires date no longer suppresses its findings, and is itself
reported (and fails the check) until it is renewed or removed.

Formats: text (default), markdown (a short summary for $GITHUB_STEP_SUMMARY or a merge-request
comment; --summary FILE appends it to FILE besides any --format), junit (Jenkins' junit step, GitLab's reports: junit) and sarif (GitHub code scanning).
--metrics-file writes the gap metrics for node_exporter's textfile collector, --pushgateway
pushes them under job "blindspot".

` + checkExitCodesHelp,
		Example: `  blindspot check --prometheus-url http://prometheus:9090 --baseline blindspot-baseline.json
  blindspot check --from ./snap --baseline blindspot-baseline.json --update-baseline
  blindspot check --baseline blindspot-baseline.json --format sarif --output blindspot.sarif
  blindspot check --baseline b.json --metrics-file /var/lib/node_exporter/textfile/blindspot.prom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCheck(cmd, fl) },
	}
	fl.src.register(cmd)
	f := cmd.Flags()
	f.StringVar(&fl.baseline, "baseline", "", "baseline file (JSON, meant for git); without it every finding is new")
	f.BoolVar(&fl.updateBaseline, "update-baseline", false, "rewrite the baseline with this run's findings (creating it when missing)")
	f.StringVar(&fl.failOn, "fail-on", "warning", "lowest severity of a new finding that fails the check: critical, warning or info")
	f.StringVar(&fl.format, "format", "text", "output format: text, markdown, junit or sarif")
	f.StringVarP(&fl.output, "output", "o", "", "write the output to this file (atomically) instead of stdout")
	f.BoolVar(&fl.failOnSourceError, "fail-on-source-error", true, "exit 3 when a source could not be read completely; false makes it a warning")
	f.StringVar(&fl.metricsFile, "metrics-file", "", "write the gap metrics to this file for node_exporter's textfile collector (atomically); overrides gap_metrics.textfile")
	f.StringVar(&fl.summary, "summary", "", "also append the Markdown summary to this file, whatever --format is (e.g. \"$GITHUB_STEP_SUMMARY\")")
	f.StringVar(&fl.pushgateway, "pushgateway", "", "push the gap metrics to this Pushgateway under job \"blindspot\"; overrides pushgateway.url")
	return cmd
}

func (a *app) runCheck(cmd *cobra.Command, fl checkFlags) error {
	started := time.Now()
	if !slices.Contains([]string{"text", "markdown", "junit", "sarif"}, fl.format) {
		return usageError(fmt.Errorf("--format %q: want text, markdown, junit or sarif", fl.format))
	}
	failOn, err := analyze.ParseSeverity(fl.failOn)
	if err != nil {
		return usageError(fmt.Errorf("--fail-on: %w", err))
	}
	if fl.updateBaseline && fl.baseline == "" {
		return usageError(errors.New("--update-baseline needs --baseline FILE"))
	}
	if fl.metricsFile == "" {
		fl.metricsFile = a.cfg.GapMetrics.Textfile
	}
	push, err := a.cfg.PushgatewayOptions(fl.pushgateway)
	if err != nil {
		return usageError(err)
	}
	var base baseline.File
	if fl.baseline != "" {
		base, err = baseline.Open(fl.baseline, fl.updateBaseline)
		switch {
		case errors.Is(err, baseline.ErrNotExist):
			return usageError(fmt.Errorf("baseline %s does not exist: create it with --update-baseline", fl.baseline))
		case err != nil:
			return usageError(err)
		}
	}

	now := time.Now()
	rep, err := a.auditReport(cmd.Context(), fl.src, now)
	if err != nil {
		return err
	}
	gc := report.NewGapCheck(rep, base, fl.baseline, failOn)
	// The rules SARIF describes: every configured check (checked already by the audit).
	all, err := a.cfg.AllChecks()
	if err != nil {
		return usageError(err)
	}

	render := func(w io.Writer) error {
		switch fl.format {
		case "markdown":
			return report.WriteCheckMarkdown(w, gc)
		case "junit":
			return report.WriteJUnit(w, gc)
		case "sarif":
			return report.WriteSARIF(w, gc, report.SARIFOptions{ToolVersion: toolVersion(), Checks: all, Help: blindspot.CheckDoc, Anchor: cmp.Or(fl.baseline, a.cfgFile), ConfigFile: a.cfgFile})
		}
		return report.WriteCheckText(w, gc)
	}
	if err := a.writeOutput(fl.output, "the check", render); err != nil {
		return err
	}
	if fl.summary != "" {
		if err := appendSummary(fl.summary, gc); err != nil {
			return usageError(err)
		}
	}

	if fl.updateBaseline {
		data, err := baseline.Update(base, rep.BaselineRun(), now).Marshal()
		if err != nil {
			return fmt.Errorf("encoding the baseline: %w", err)
		}
		if err := fsutil.WriteFileAtomic(fl.baseline, data, 0o644); err != nil {
			return usageError(err)
		}
	}

	if fl.metricsFile != "" || push.URL != "" {
		run := gapmetrics.Run{Check: gc, Finished: time.Now(), Duration: time.Since(started)}
		var pushErr *gapmetrics.PushError
		if err := gapmetrics.Export(cmd.Context(), run, fl.metricsFile, push, a.logger); errors.As(err, &pushErr) {
			return sourceError(err)
		} else if err != nil {
			return usageError(err)
		}
	}

	if perr := partialError(rep); perr != nil {
		if fl.failOnSourceError {
			return perr
		}
		fmt.Fprintf(a.stderr, "blindspot: warning: %s\n", perr)
	}
	if gc.Failed() && !fl.updateBaseline {
		return &exitError{code: exitFindings, err: errors.New(failureLine(gc))}
	}
	return nil
}

// failureLine says on stderr why the check failed.
func failureLine(gc report.GapCheck) string {
	n, e := len(gc.Failing()), len(gc.Report.Expired)
	switch {
	case n > 0 && e > 0:
		return fmt.Sprintf("%d new gaps at or above %s and %d expired exceptions", n, gc.FailOn, e)
	case e > 0:
		return fmt.Sprintf("%d expired exceptions: renew or remove them", e)
	}
	return fmt.Sprintf("%d new gaps at or above %s", n, gc.FailOn)
}

// appendSummary adds the Markdown summary to path, creating it when missing. It appends
// rather than replaces: a CI job summary file ($GITHUB_STEP_SUMMARY) collects every step's.
func appendSummary(path string, gc report.GapCheck) error {
	var buf bytes.Buffer
	if err := report.WriteCheckMarkdown(&buf, gc); err != nil {
		return fmt.Errorf("rendering the summary: %w", err)
	}
	if err := fsutil.AppendFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	return nil
}

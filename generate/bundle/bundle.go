// Package bundle runs every generator over an audit and returns the files of the output
// directory, validated and sorted; generate/output writes them.
package bundle

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/alertmanager"
	"github.com/blindspot-dev/blindspot/generate/dashboards"
	"github.com/blindspot-dev/blindspot/generate/fluentbit"
	"github.com/blindspot-dev/blindspot/generate/packs"
	"github.com/blindspot-dev/blindspot/generate/pipelines"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
	"github.com/blindspot-dev/blindspot/generate/selfwatch"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Managed are the directories of the output directory that blindspot owns: generated files
// there that are no longer generated are removed.
var Managed = []string{
	"rules", "rules/tests", "runbooks",
	"pipelines/alloy", "pipelines/promtail", "pipelines/fluent-bit", "pipelines/vector", "pipelines/otelcol",
	"loki-rules", "dashboards",
	"alertmanager",
}

// Result is what Generate returns: the files of the output directory, and notes on what was
// deliberately not generated or still needs the user, one line each, for generate to print.
type Result struct {
	Files []generate.File
	Notes []string
}

// Files generates the rule files (one per job with gaps, one per ruleset instance), their
// promtool unit tests, a runbook per alert, a dashboard per job of the coverage matrix (and an
// overview), and, with Loki, the log pipelines.
func Files(inv *analyze.Inventory, findings []analyze.Finding, matrix []coverage.JobCoverage, o generate.Options) ([]generate.File, error) {
	r, err := Generate(inv, findings, matrix, o)
	return r.Files, err
}

// Generate is Files with the notes.
func Generate(inv *analyze.Inventory, findings []analyze.Finding, matrix []coverage.JobCoverage, o generate.Options) (Result, error) {
	o = generate.DefaultOptions(o)
	ruleFiles, err := rules.Plan(findings, o)
	if err != nil {
		return Result{}, err
	}
	// A fleet member's rules for a global ruler select that member only (o.Scope).
	if ruleFiles, err = rules.Scoped(ruleFiles, o.Scope); err != nil {
		return Result{}, err
	}
	instances, skipped, err := packs.Instantiate(inv, o)
	if err != nil {
		return Result{}, err
	}
	ruleFiles = append(ruleFiles, instances...)
	var notes []string
	for _, s := range skipped {
		notes = append(notes, fmt.Sprintf("left out %s of ruleset %s for job %s: %s", s.Alert, s.Pack, strconv.Quote(s.Job), s.Reason))
	}
	// The nightly check watches the setup; these alerts watch the check, when it exports
	// the metrics they read.
	if selfwatch.Exported(inv, o) {
		ruleFiles = append(ruleFiles, selfwatch.RuleFile(o))
	} else {
		notes = append(notes, "rules/"+selfwatch.FileName+".yaml not written: neither pushgateway.url nor gap_metrics.textfile is configured "+
			"and the server has no gap metrics of blindspot check; configure where check exports them (docs/ci.md) to get the alerts on blindspot itself")
	}
	ruleFiles = append(ruleFiles, rules.Watchdog(findings, o)...)
	if n := unowned(ruleFiles, o); n > 0 {
		notes = append(notes, fmt.Sprintf("%d generated alerts have no %s label and will reach the default receivers: no generate.owners entry "+
			"matches their jobs; map jobs to teams with generate.owners and generate again", n, o.OwnerLabel))
	}

	var files []generate.File
	seen := map[string]bool{}
	add := func(f generate.File) error {
		if seen[f.Path] {
			return fmt.Errorf("generating %s: two generators want the same file", f.Path)
		}
		seen[f.Path] = true
		files = append(files, f)
		return nil
	}
	for _, rf := range ruleFiles {
		content, err := rules.Render(rf, o)
		if err != nil {
			return Result{}, err
		}
		if err := add(generate.File{Path: "rules/" + rf.Name + ".yaml", Content: content}); err != nil {
			return Result{}, err
		}
		// promtool cannot load PrometheusRule resources, so they get no unit tests.
		if o.RulesFormat != rules.FormatOperator {
			tests, err := unittests.Render(rf, o)
			if err != nil {
				return Result{}, err
			}
			if err := add(generate.File{Path: "rules/tests/" + rf.Name + ".test.yaml", Content: tests}); err != nil {
				return Result{}, err
			}
		}
		for _, a := range rf.Alerts {
			rb, err := runbooks.Render(a, o)
			if err != nil {
				return Result{}, err
			}
			if err := add(rb); err != nil {
				return Result{}, err
			}
		}
	}
	logFiles, err := logPipelines(inv, o)
	if err != nil {
		return Result{}, err
	}
	boards, err := dashboards.Files(matrix, jobStreams(inv), o)
	if err != nil {
		return Result{}, err
	}
	logFiles = append(logFiles, boards...)
	var unshipped []string
	for _, f := range findings {
		if f.Check == checks.LogsUnaggregatedName {
			unshipped = append(unshipped, f.Subject["job"])
		}
	}
	ship, err := pipelines.ShipFiles(inv, unshipped)
	if err != nil {
		return Result{}, err
	}
	logFiles = append(logFiles, ship...)
	routes, err := alertmanager.Files(inv, findings, o)
	if err != nil {
		return Result{}, err
	}
	logFiles = append(logFiles, routes...)
	for _, f := range logFiles {
		if err := add(f); err != nil {
			return Result{}, err
		}
	}
	slices.SortFunc(files, func(a, b generate.File) int { return strings.Compare(a.Path, b.Path) })
	return Result{Files: files, Notes: notes}, nil
}

// unowned counts the alerts without the owner label that Alertmanager routes by owner: all
// but the Watchdog, which the routes send to the heartbeat receiver by its name.
func unowned(files []generate.RuleFile, o generate.Options) int {
	n := 0
	for _, f := range files {
		for _, a := range f.Alerts {
			if a.Kind != generate.KindWatchdog && a.Labels[o.OwnerLabel] == "" {
				n++
			}
		}
	}
	return n
}

// logPipelines are the masking pipelines for every log agent and the Loki ruler alerts: for
// the secrets the audit found, or for every pattern with masking scope "all".
func logPipelines(inv *analyze.Inventory, o generate.Options) ([]generate.File, error) {
	if o.MaskingScope != pipelines.ScopeAll && len(inv.Logs.Secrets) == 0 {
		return nil, nil
	}
	patterns, err := rulesets.SecretPatterns()
	if err != nil {
		return nil, err
	}
	files, err := pipelines.Files(inv, patterns, pipelines.Options{Scope: o.MaskingScope, RunbookBaseURL: o.RunbookBaseURL})
	if err != nil {
		return nil, err
	}
	// Fluent Bit's Lua filter masks every string field of every record, whatever the stream.
	fb, err := fluentbit.Files(patterns)
	if err != nil {
		return nil, err
	}
	return append(files, fb...), nil
}

// jobStreams maps every job to the selectors of its Loki streams, when Loki was read.
func jobStreams(inv *analyze.Inventory) map[string][]string {
	if !inv.Has(analyze.PartLogStreams) {
		return nil
	}
	out := map[string][]string{}
	for _, j := range inv.Jobs {
		if m := logmatch.Job(inv, j.Name, nil); m.Matched() {
			out[j.Name] = m.Streams
		}
	}
	return out
}

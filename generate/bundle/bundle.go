// Package bundle runs every generator over an audit and returns the files of the output
// directory, validated and sorted; generate/output writes them.
package bundle

import (
	"fmt"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/alertmanager"
	"github.com/blindspot-dev/blindspot/generate/dashboards"
	"github.com/blindspot-dev/blindspot/generate/fluentbit"
	"github.com/blindspot-dev/blindspot/generate/pipelines"
	"github.com/blindspot-dev/blindspot/generate/rules"
	packs "github.com/blindspot-dev/blindspot/generate/rulesets"
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

// Files generates the rule files (one per job with gaps, one per ruleset instance), their
// promtool unit tests, a runbook per alert, a dashboard per job of the coverage matrix (and an
// overview), and, with Loki, the log pipelines.
func Files(inv *analyze.Inventory, findings []analyze.Finding, matrix []coverage.JobCoverage, o generate.Options) ([]generate.File, error) {
	o = generate.DefaultOptions(o)
	ruleFiles, err := rules.Plan(findings, o)
	if err != nil {
		return nil, err
	}
	// A fleet member's rules for a global ruler select that member only (o.Scope).
	if ruleFiles, err = rules.Scoped(ruleFiles, o.Scope); err != nil {
		return nil, err
	}
	instances, err := packs.Instantiate(inv, o)
	if err != nil {
		return nil, err
	}
	ruleFiles = append(ruleFiles, instances...)
	// The nightly check watches the setup; these alerts watch the check.
	ruleFiles = append(ruleFiles, selfwatch.RuleFile(o))
	ruleFiles = append(ruleFiles, rules.Watchdog(findings, o)...)

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
			return nil, err
		}
		if err := add(generate.File{Path: "rules/" + rf.Name + ".yaml", Content: content}); err != nil {
			return nil, err
		}
		// promtool cannot load PrometheusRule resources, so they get no unit tests.
		if o.RulesFormat != rules.FormatOperator {
			tests, err := unittests.Render(rf, o)
			if err != nil {
				return nil, err
			}
			if err := add(generate.File{Path: "rules/tests/" + rf.Name + ".test.yaml", Content: tests}); err != nil {
				return nil, err
			}
		}
		for _, a := range rf.Alerts {
			rb, err := runbooks.Render(a, o)
			if err != nil {
				return nil, err
			}
			if err := add(rb); err != nil {
				return nil, err
			}
		}
	}
	logFiles, err := logPipelines(inv, o)
	if err != nil {
		return nil, err
	}
	boards, err := dashboards.Files(matrix, jobStreams(inv), o)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	logFiles = append(logFiles, ship...)
	routes, err := alertmanager.Files(inv, findings, o)
	if err != nil {
		return nil, err
	}
	logFiles = append(logFiles, routes...)
	for _, f := range logFiles {
		if err := add(f); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(files, func(a, b generate.File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
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

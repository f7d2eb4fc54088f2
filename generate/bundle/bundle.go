// Package bundle runs every generator over an audit and returns the files of the output
// directory, validated and sorted; generate/output writes them.
package bundle

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/alertmanager"
	"github.com/blindspot-dev/blindspot/generate/dashboards"
	"github.com/blindspot-dev/blindspot/generate/fluentbit"
	"github.com/blindspot-dev/blindspot/generate/kubernetes"
	"github.com/blindspot-dev/blindspot/generate/packs"
	"github.com/blindspot-dev/blindspot/generate/pipelines"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
	"github.com/blindspot-dev/blindspot/generate/selfwatch"
	"github.com/blindspot-dev/blindspot/generate/unittests"
)

// Generators are the steps of blindspot generate, in order: the planners of rule files, then
// the writers that read them, then the generators that stand alone.
var Generators = []generate.Generator{
	rules.GapAlerts{},
	packs.Instances{},
	selfwatch.Alerts{},
	rules.WatchdogAlert{},
	kubernetes.PodAlerts{},
	rules.Backtested{},
	rules.RuleFiles{},
	unittests.Tests{},
	runbooks.Runbooks{},
	pipelines.Masking{},
	fluentbit.Masking{},
	pipelines.LokiRules{},
	dashboards.Boards{},
	pipelines.Shipping{},
	alertmanager.Routes{},
	kubernetes.Monitors{},
}

// Managed are the directories of the output directory that blindspot owns: generated files
// there that are no longer generated are removed. They are the directories of Generators.
var Managed = dirsOf(Generators)

func dirsOf(gens []generate.Generator) []string {
	var dirs []string
	for _, g := range gens {
		for _, d := range g.Dirs() {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
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

// Generate is Files with the notes: it runs Generators over one input.
func Generate(inv *analyze.Inventory, findings []analyze.Finding, matrix []coverage.JobCoverage, o generate.Options) (Result, error) {
	return run(Generators, generate.Input{Inventory: inv, Findings: findings, Matrix: matrix, Options: generate.DefaultOptions(o)})
}

// Plan runs the planners of Generators alone (the leading generators, which write no
// directory) and returns the rule files they plan: what the backtest evaluates before
// Generate writes anything.
func Plan(inv *analyze.Inventory, findings []analyze.Finding, matrix []coverage.JobCoverage, o generate.Options) ([]generate.RuleFile, error) {
	n := slices.IndexFunc(Generators, func(g generate.Generator) bool { return len(g.Dirs()) > 0 })
	in := generate.Input{Inventory: inv, Findings: findings, Matrix: matrix, Options: generate.DefaultOptions(o)}
	var out generate.Output
	for _, g := range Generators[:n] {
		if err := g.Generate(in, &out); err != nil {
			return nil, err
		}
	}
	return out.RuleFiles, nil
}

// run runs the generators in order. Every file must be in a directory its generator names,
// and no two generators may write the same file.
func run(gens []generate.Generator, in generate.Input) (Result, error) {
	var out generate.Output
	seen := map[string]bool{}
	for _, g := range gens {
		from := len(out.Files)
		if err := g.Generate(in, &out); err != nil {
			return Result{}, err
		}
		for _, f := range out.Files[from:] {
			if !slices.Contains(g.Dirs(), path.Dir(f.Path)) {
				return Result{}, fmt.Errorf("generating %s: the %s generator writes outside its directories (%s)", f.Path, g.Name(), strings.Join(g.Dirs(), ", "))
			}
			if seen[f.Path] {
				return Result{}, fmt.Errorf("generating %s: two generators want the same file", f.Path)
			}
			seen[f.Path] = true
		}
	}
	files := slices.Clone(out.Files)
	slices.SortFunc(files, func(a, b generate.File) int { return strings.Compare(a.Path, b.Path) })
	return Result{Files: files, Notes: out.Notes}, nil
}

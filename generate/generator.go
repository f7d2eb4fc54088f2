package generate

import (
	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
)

// Generator is one step of blindspot generate. generate/bundle runs every generator, in one
// order, over one Input and one Output: the planners of rule files come first, the writers
// that read those rule files after them.
type Generator interface {
	// Name says what the generator makes ("runbooks"), for errors.
	Name() string
	// Dirs are the directories of the output directory it writes into (relative, forward
	// slashes): blindspot owns them, and removes the generated files there that are no longer
	// generated. A generator that only plans rule files writes into none.
	Dirs() []string
	// Generate reads in and adds to out: rule files for the writers after it, files, notes.
	Generate(in Input, out *Output) error
}

// Input is what every generator reads: one audit and the options.
type Input struct {
	Inventory *analyze.Inventory
	// Findings are the findings of the audit after the check policy (disabled checks,
	// ignore:): a generator answers these, and nothing the policy set aside.
	Findings []analyze.Finding
	// Matrix is the coverage matrix of the inventory, one row per job.
	Matrix []coverage.JobCoverage
	// Options have their defaults (DefaultOptions).
	Options Options
}

// Output is what the generators made so far.
type Output struct {
	// RuleFiles are the rule files planned: the gap alerts, ruleset instances, the alerts on
	// blindspot itself and the heartbeat, in that order. The writers of rules/, rules/tests/
	// and runbooks/ read them.
	RuleFiles []RuleFile
	Files     []File
	// Notes say what was deliberately not generated or still needs the user, one line each.
	Notes []string
}

// Package checks derives findings from an inventory. One file per check; each check is a
// pure function of the inventory, and the registry below lists them in report order.
package checks

import (
	"slices"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Check finds one kind of gap.
type Check interface {
	// Name is the check ID, part of the public contract ("targets/down").
	Name() string
	// Severity of the findings the check reports.
	Severity() analyze.Severity
	// Requires lists the inventory parts the check needs; without them it does not run, so
	// that missing information is never reported as a gap.
	Requires() []analyze.Part
	Run(inv *analyze.Inventory) []analyze.Finding
}

// All returns every check in registry order.
func All() []Check {
	return []Check{
		TargetsDown{},
		JobsNoTargets{},
	}
}

// Result is the outcome of running checks over an inventory.
type Result struct {
	Findings []analyze.Finding
	// Skipped lists checks that did not run, with the parts they lacked.
	Skipped []Skipped
}

// Skipped is a check that did not run for lack of information.
type Skipped struct {
	Check   string
	Missing []analyze.Part
}

// Run runs checks over inv and returns their findings sorted.
func Run(inv *analyze.Inventory, checks []Check) Result {
	var res Result
	for _, c := range checks {
		var missing []analyze.Part
		for _, p := range c.Requires() {
			if !inv.Has(p) {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			res.Skipped = append(res.Skipped, Skipped{Check: c.Name(), Missing: missing})
			continue
		}
		res.Findings = append(res.Findings, c.Run(inv)...)
	}
	analyze.SortFindings(res.Findings)
	return res
}

// Names returns the IDs of checks.
func Names(checks []Check) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.Name()
	}
	return slices.Clip(out)
}

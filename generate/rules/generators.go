package rules

import (
	"fmt"

	"github.com/blindspot-dev/blindspot/generate"
)

// Dir is the directory of the rule files in the output directory.
const Dir = "rules"

// GapAlerts plans one rule file per job with coverage gaps (Plan), its selectors narrowed to
// the fleet member of Options.Scope (Scoped).
type GapAlerts struct{}

func (GapAlerts) Name() string   { return "gap alerts" }
func (GapAlerts) Dirs() []string { return nil }

func (GapAlerts) Generate(in generate.Input, out *generate.Output) error {
	files, err := Plan(in.Findings, in.Options)
	if err != nil {
		return err
	}
	// A fleet member's rules for a global ruler select that member only.
	if files, err = Scoped(files, in.Options.Scope); err != nil {
		return err
	}
	out.RuleFiles = append(out.RuleFiles, files...)
	return nil
}

// WatchdogAlert plans the heartbeat rule file when Alertmanager has no Watchdog (Watchdog).
type WatchdogAlert struct{}

func (WatchdogAlert) Name() string   { return "Watchdog alert" }
func (WatchdogAlert) Dirs() []string { return nil }

func (WatchdogAlert) Generate(in generate.Input, out *generate.Output) error {
	out.RuleFiles = append(out.RuleFiles, Watchdog(in.Findings, in.Options)...)
	return nil
}

// RuleFiles writes every rule file planned before it to rules/<name>.yaml, and notes the
// alerts that will reach the default receivers for want of an owner.
type RuleFiles struct{}

func (RuleFiles) Name() string   { return "rule files" }
func (RuleFiles) Dirs() []string { return []string{Dir} }

func (RuleFiles) Generate(in generate.Input, out *generate.Output) error {
	o := in.Options
	for _, rf := range out.RuleFiles {
		content, err := Render(rf, o)
		if err != nil {
			return err
		}
		out.Files = append(out.Files, generate.File{Path: Dir + "/" + rf.Name + ".yaml", Content: content})
	}
	if n := unowned(out.RuleFiles, o); n > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d generated alerts have no %s label and will reach the default receivers: no generate.owners entry "+
			"matches their jobs; map jobs to teams with generate.owners and generate again", n, o.OwnerLabel))
	}
	return nil
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

package selfwatch

import "github.com/blindspot-dev/blindspot/generate"

// Alerts plans the rule file of the alerts on blindspot check itself when check exports the
// metrics they read (Exported), and otherwise says how to get them. The nightly check watches
// the setup; these alerts watch the check.
type Alerts struct{}

func (Alerts) Name() string   { return "alerts on blindspot check" }
func (Alerts) Dirs() []string { return nil }

func (Alerts) Generate(in generate.Input, out *generate.Output) error {
	if Exported(in.Inventory, in.Options) {
		out.RuleFiles = append(out.RuleFiles, RuleFile(in.Options))
		return nil
	}
	out.Notes = append(out.Notes, "rules/"+FileName+".yaml not written: neither pushgateway.url nor gap_metrics.textfile is configured "+
		"and the server has no gap metrics of blindspot check; configure where check exports them (docs/ci.md) to get the alerts on blindspot itself")
	return nil
}

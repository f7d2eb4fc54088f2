package runbooks

import "github.com/blindspot-dev/blindspot/generate"

// Dir is the directory of the runbooks in the output directory.
const Dir = "runbooks"

// Runbooks writes the runbook of every alert of the rule files planned before it.
type Runbooks struct{}

func (Runbooks) Name() string   { return "runbooks" }
func (Runbooks) Dirs() []string { return []string{Dir} }

func (Runbooks) Generate(in generate.Input, out *generate.Output) error {
	for _, rf := range out.RuleFiles {
		for _, a := range rf.Alerts {
			rb, err := Render(a, in.Options)
			if err != nil {
				return err
			}
			out.Files = append(out.Files, rb)
		}
	}
	return nil
}

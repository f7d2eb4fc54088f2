package unittests

import (
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
)

// Dir is the directory of the unit tests in the output directory.
const Dir = rules.Dir + "/tests"

// Tests writes the promtool unit tests of every rule file planned before it to
// rules/tests/<name>.test.yaml. promtool cannot load PrometheusRule resources, so under the
// prometheus-operator format there are none.
type Tests struct{}

func (Tests) Name() string   { return "promtool unit tests" }
func (Tests) Dirs() []string { return []string{Dir} }

func (Tests) Generate(in generate.Input, out *generate.Output) error {
	if in.Options.RulesFormat == rules.FormatOperator {
		return nil
	}
	for _, rf := range out.RuleFiles {
		content, err := Render(rf, in.Options)
		if err != nil {
			return err
		}
		out.Files = append(out.Files, generate.File{Path: Dir + "/" + rf.Name + ".test.yaml", Content: content})
	}
	return nil
}

package packs

import (
	"fmt"
	"strconv"

	"github.com/blindspot-dev/blindspot/generate"
)

// Instances plans the rule file of every pack instance (Instantiate), and notes each pack
// alert it left out.
type Instances struct{}

func (Instances) Name() string   { return "ruleset instances" }
func (Instances) Dirs() []string { return nil }

func (Instances) Generate(in generate.Input, out *generate.Output) error {
	files, skipped, err := Instantiate(in.Inventory, in.Options)
	if err != nil {
		return err
	}
	out.RuleFiles = append(out.RuleFiles, files...)
	for _, s := range skipped {
		out.Notes = append(out.Notes, fmt.Sprintf("left out %s of ruleset %s for job %s: %s", s.Alert, s.Pack, strconv.Quote(s.Job), s.Reason))
	}
	return nil
}

package alertmanager

import (
	"path"

	"github.com/blindspot-dev/blindspot/generate"
)

// Routes writes the suggested routing tree when the findings include a routing gap (Files).
type Routes struct{}

func (Routes) Name() string   { return "Alertmanager routes" }
func (Routes) Dirs() []string { return []string{path.Dir(Path)} }

func (Routes) Generate(in generate.Input, out *generate.Output) error {
	files, err := Files(in.Inventory, in.Findings, in.Options)
	out.Files = append(out.Files, files...)
	return err
}

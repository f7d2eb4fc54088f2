package dashboards

import (
	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/generate"
)

// Boards writes the dashboard of every job of the coverage matrix and the overview (Files),
// each job's log panels on its Loki streams when Loki was read.
type Boards struct{}

func (Boards) Name() string   { return "dashboards" }
func (Boards) Dirs() []string { return []string{Dir} }

func (Boards) Generate(in generate.Input, out *generate.Output) error {
	files, err := Files(in.Matrix, jobStreams(in.Inventory), in.Options)
	out.Files = append(out.Files, files...)
	return err
}

// jobStreams maps every job to the selectors of its Loki streams, when Loki was read.
func jobStreams(inv *analyze.Inventory) map[string][]string {
	if inv == nil || !inv.Has(analyze.PartLogStreams) {
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

package fluentbit

import (
	"path"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/pipelines"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Masking writes Fluent Bit's masking filter when the other agents get masking pipelines
// (pipelines.Leaks). The Lua filter masks every string field of every record, whatever the
// stream, so it applies every pattern.
type Masking struct{}

func (Masking) Name() string   { return "Fluent Bit masking" }
func (Masking) Dirs() []string { return []string{path.Dir(ConfigPath)} }

func (Masking) Generate(in generate.Input, out *generate.Output) error {
	if _, mask := pipelines.Leaks(in); !mask {
		return nil
	}
	patterns, err := rulesets.SecretPatterns()
	if err != nil {
		return err
	}
	files, err := Files(patterns)
	out.Files = append(out.Files, files...)
	return err
}

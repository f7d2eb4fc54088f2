package pipelines

import (
	"path"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Leaks are the secret hits of the inventory that a logs/secrets finding reports, in the
// inventory's order: a hit whose finding the policy set aside (ignore:, the check disabled)
// is neither masked nor alerted on, as every other generator answers findings only. mask
// says whether masking pipelines are written at all: for the leaks, or for every pattern under
// scope "all".
func Leaks(in generate.Input) (hits []analyze.SecretHit, mask bool) {
	reported := map[[2]string]bool{}
	for _, f := range in.Findings {
		if f.Check == checks.LogsSecretsName {
			reported[[2]string{f.Subject["stream"], f.Subject["pattern"]}] = true
		}
	}
	if in.Inventory != nil {
		for _, h := range in.Inventory.Logs.Secrets {
			if reported[[2]string{h.Stream, h.Pattern}] {
				hits = append(hits, h)
			}
		}
	}
	return hits, len(hits) > 0 || in.Options.MaskingScope == ScopeAll
}

// planOf is the plan of the leaks, or false when no pipeline is written.
func planOf(in generate.Input) (plan, bool, error) {
	hits, mask := Leaks(in)
	if !mask {
		return plan{}, false, nil
	}
	patterns, err := rulesets.SecretPatterns()
	if err != nil {
		return plan{}, false, err
	}
	pl, err := newPlan(hits, patterns, options(in.Options))
	return pl, err == nil, err
}

func options(o generate.Options) Options {
	return Options{Scope: o.MaskingScope, RunbookBaseURL: o.RunbookBaseURL}
}

// Masking writes the masking pipelines of Alloy, Promtail, Vector and the OpenTelemetry
// Collector for the leaks (Fluent Bit's are generate/fluentbit's).
type Masking struct{}

func (Masking) Name() string { return "masking pipelines" }

func (Masking) Dirs() []string {
	return []string{path.Dir(AlloyPath), path.Dir(PromtailPath), path.Dir(VectorPath), path.Dir(OtelcolPath)}
}

func (Masking) Generate(in generate.Input, out *generate.Output) error {
	pl, ok, err := planOf(in)
	if !ok {
		return err
	}
	files, err := maskingFiles(pl)
	out.Files = append(out.Files, files...)
	return err
}

// LokiRules writes the Loki ruler alerts on the leaking streams.
type LokiRules struct{}

func (LokiRules) Name() string   { return "Loki ruler alerts" }
func (LokiRules) Dirs() []string { return []string{path.Dir(LokiRulesPath)} }

func (LokiRules) Generate(in generate.Input, out *generate.Output) error {
	pl, ok, err := planOf(in)
	if !ok {
		return err
	}
	files, err := lokiRuleFiles(pl, options(in.Options))
	out.Files = append(out.Files, files...)
	return err
}

// Shipping writes an Alloy snippet for every job whose logs reach no Loki stream
// (logs/unaggregated).
type Shipping struct{}

func (Shipping) Name() string   { return "log shipping" }
func (Shipping) Dirs() []string { return []string{path.Dir(AlloyPath)} }

func (Shipping) Generate(in generate.Input, out *generate.Output) error {
	var unshipped []string
	for _, f := range in.Findings {
		if f.Check == checks.LogsUnaggregatedName {
			unshipped = append(unshipped, f.Subject["job"])
		}
	}
	files, err := ShipFiles(in.Inventory, unshipped)
	out.Files = append(out.Files, files...)
	return err
}

// Package pipelines generates what stops secrets from reaching Loki, and what tells when one
// does again: masking pipelines for the agents that ship logs, and Loki ruler alerts.
//
//	pipelines/alloy/masking.alloy      a loki.process component with stage.replace blocks
//	pipelines/promtail/masking.yaml    pipeline_stages with match and replace stages
//	pipelines/vector/masking.yaml      a remap transform (VRL replace)
//	pipelines/otelcol/masking.yaml     a transform processor (OTTL replace_pattern)
//	loki-rules/secrets.yaml            one Loki ruler alert per leaking stream and pattern
//
// Alloy and Promtail replace each capture group of a stage's expression with a template of
// it: the patterns are rewritten so that their one group is unnamed (a named group would also
// be copied into the extracted map), and the template masks as analyze/secrets does (allow
// lists, one asterisk per character or four). Vector and OTTL replace whole matches: the
// patterns are rewritten to capture what surrounds the secret, and the replacement puts it
// back around Mask.
//
// Under the default scope, "leaking", Alloy and Promtail mask only the streams the audit
// found secrets in, and in each of them only the patterns found there: the stages are
// evidence that can be reviewed, and the alerts report a pattern that shows up anywhere else.
// Vector and the OpenTelemetry Collector do not see Loki's stream labels, so there the
// patterns found in any stream are applied to every event. Scope "all" masks every pattern
// everywhere.
//
// Vector and OTTL replace every pattern's secret by Mask, four asterisks, whatever its length
// and whether the allow list names it: a replacement string cannot count or test.
package pipelines

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/logql"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Scopes of the masking pipelines.
const (
	ScopeLeaking = "leaking"
	ScopeAll     = "all"
)

// Mask replaces every secret.
const Mask = "****"

// Options control the generated pipelines and rules.
type Options struct {
	// Scope is ScopeLeaking (default): mask the patterns found, in the streams they were
	// found in; or ScopeAll: mask every pattern in every stream.
	Scope string
	// RunbookBaseURL prefixes runbook paths in runbook_url annotations, as in
	// generate.Options.
	RunbookBaseURL string
}

// Paths of the generated files.
const (
	AlloyPath     = "pipelines/alloy/masking.alloy"
	PromtailPath  = "pipelines/promtail/masking.yaml"
	VectorPath    = "pipelines/vector/masking.yaml"
	OtelcolPath   = "pipelines/otelcol/masking.yaml"
	LokiRulesPath = "loki-rules/secrets.yaml"
)

// ManagedDirs are the directories of the output directory that Files writes into.
var ManagedDirs = []string{"loki-rules", "pipelines/alloy", "pipelines/otelcol", "pipelines/promtail", "pipelines/vector"}

// stream is one leaking stream and the patterns found in it, in the order of patterns.
type stream struct {
	Selector string // rebuilt from the labels, so that every value is quoted the same way
	Labels   map[string]string
	Patterns []*rulesets.SecretPattern
	Hits     []analyze.SecretHit // one per pattern, same order
}

// plan is what every file is generated from.
type plan struct {
	Scope   string
	Streams []stream // sorted by selector; empty under ScopeAll
	// Patterns are the patterns every engine without stream scoping masks: those found, or
	// all of them under ScopeAll; in the order of the rulesets.
	Patterns []*rulesets.SecretPattern
	// Found are the streams with hits, for the alerts, whatever the scope.
	Found []stream
}

// Files generates the masking pipelines and the alerts for the secret hits. Under
// ScopeLeaking, nothing is generated without a hit. A hit whose pattern is not in patterns
// fails: the inventory and the rulesets are out of step.
func Files(hits []analyze.SecretHit, patterns []rulesets.SecretPattern, o Options) ([]generate.File, error) {
	pl, err := newPlan(hits, patterns, o)
	if err != nil {
		return nil, err
	}
	files, err := maskingFiles(pl)
	if err != nil {
		return nil, err
	}
	alerts, err := lokiRuleFiles(pl, o)
	if err != nil {
		return nil, err
	}
	files = append(files, alerts...)
	slices.SortFunc(files, func(a, b generate.File) int { return cmp.Compare(a.Path, b.Path) })
	return files, nil
}

// newPlan validates the scope and groups the hits by stream.
func newPlan(hits []analyze.SecretHit, patterns []rulesets.SecretPattern, o Options) (plan, error) {
	if o.Scope == "" {
		o.Scope = ScopeLeaking
	}
	if o.Scope != ScopeLeaking && o.Scope != ScopeAll {
		return plan{}, fmt.Errorf("masking scope %q: want %q or %q", o.Scope, ScopeLeaking, ScopeAll)
	}
	found, err := leakingStreams(hits, patterns)
	if err != nil {
		return plan{}, err
	}
	pl := plan{Scope: o.Scope, Found: found}
	switch o.Scope {
	case ScopeAll:
		for i := range patterns {
			pl.Patterns = append(pl.Patterns, &patterns[i])
		}
	case ScopeLeaking:
		pl.Streams = found
		for i := range patterns {
			if slices.ContainsFunc(found, func(s stream) bool { return slices.Contains(s.Patterns, &patterns[i]) }) {
				pl.Patterns = append(pl.Patterns, &patterns[i])
			}
		}
	}
	return pl, nil
}

// maskingFiles are the pipelines of Alloy, Promtail, Vector and the OpenTelemetry Collector;
// none under ScopeLeaking without a leaking stream.
func maskingFiles(pl plan) ([]generate.File, error) {
	if pl.Scope == ScopeLeaking && len(pl.Found) == 0 {
		return nil, nil
	}
	var files []generate.File
	for _, gen := range []struct {
		path   string
		render func(plan) ([]byte, error)
	}{
		{AlloyPath, renderAlloy},
		{PromtailPath, renderPromtail},
		{VectorPath, renderVector},
		{OtelcolPath, renderOtelcol},
	} {
		content, err := gen.render(pl)
		if err != nil {
			return nil, fmt.Errorf("generating %s: %w", gen.path, err)
		}
		files = append(files, generate.File{Path: gen.path, Content: content})
	}
	return files, nil
}

// lokiRuleFiles are the Loki ruler alerts of the leaking streams, whatever the scope; none
// without a leaking stream.
func lokiRuleFiles(pl plan, o Options) ([]generate.File, error) {
	if len(pl.Found) == 0 {
		return nil, nil
	}
	content, err := renderLokiRules(pl.Found, o)
	if err != nil {
		return nil, fmt.Errorf("generating %s: %w", LokiRulesPath, err)
	}
	return []generate.File{{Path: LokiRulesPath, Content: content}}, nil
}

// leakingStreams groups the secret hits by stream.
func leakingStreams(hits []analyze.SecretHit, patterns []rulesets.SecretPattern) ([]stream, error) {
	bySelector := map[string]*stream{}
	for _, h := range hits {
		i := slices.IndexFunc(patterns, func(p rulesets.SecretPattern) bool { return p.ID == h.Pattern })
		if i < 0 {
			return nil, fmt.Errorf("stream %s: secret pattern %q is not among the patterns", h.Stream, h.Pattern)
		}
		if len(h.Labels) == 0 {
			return nil, fmt.Errorf("stream %s: the secret hit has no labels", h.Stream)
		}
		sel, err := logql.StreamSelector(h.Labels)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", h.Stream, err)
		}
		s := bySelector[sel]
		if s == nil {
			s = &stream{Selector: sel, Labels: h.Labels}
			bySelector[sel] = s
		}
		if !slices.Contains(s.Patterns, &patterns[i]) {
			s.Patterns = append(s.Patterns, &patterns[i])
			s.Hits = append(s.Hits, h)
		}
	}
	var out []stream
	for _, sel := range slices.Sorted(maps.Keys(bySelector)) {
		s := *bySelector[sel]
		// Pattern order is the rulesets' order: specific vendors before generic assignments,
		// which matters when stages run one after the other.
		idx := make([]int, len(s.Patterns))
		for k := range idx {
			idx[k] = k
		}
		pos := func(p *rulesets.SecretPattern) int {
			return slices.IndexFunc(patterns, func(q rulesets.SecretPattern) bool { return q.ID == p.ID })
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(pos(s.Patterns[a]), pos(s.Patterns[b])) })
		ps, hs := make([]*rulesets.SecretPattern, len(idx)), make([]analyze.SecretHit, len(idx))
		for k, j := range idx {
			ps[k], hs[k] = s.Patterns[j], s.Hits[j]
		}
		s.Patterns, s.Hits = ps, hs
		out = append(out, s)
	}
	return out, nil
}

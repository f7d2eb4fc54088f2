package pipelines

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// alloyString is an Alloy string literal. Alloy strings are double-quoted with Go's escapes
// and Alloy reads them with Go's unquoting, so strconv.Quote writes any value.
func alloyString(s string) string { return strconv.Quote(s) }

// alloyWriter writes Alloy blocks with tab indentation, as `alloy fmt` does.
type alloyWriter struct {
	b     bytes.Buffer
	depth int
}

func (w *alloyWriter) line(format string, args ...any) {
	if format != "" {
		w.b.WriteString(strings.Repeat("\t", w.depth))
		fmt.Fprintf(&w.b, format, args...)
	}
	w.b.WriteByte('\n')
}

func (w *alloyWriter) open(block string) { w.line("%s {", block); w.depth++ }
func (w *alloyWriter) close()            { w.depth--; w.line("}") }

func (w *alloyWriter) replaceStage(p *rulesets.SecretPattern) error {
	st, err := replaceStageFor(*p)
	if err != nil {
		return err
	}
	w.line("// %s", p.ID)
	w.open("stage.replace")
	w.line("expression = %s", alloyString(st.Expression))
	w.line("replace    = %s", alloyString(st.Replace))
	w.close()
	return nil
}

func renderAlloy(pl plan) ([]byte, error) {
	w := &alloyWriter{}
	w.line("// %s", generate.Header)
	w.line("//")
	w.line("// Masks secrets before logs reach Loki: each stage.replace masks the secret its")
	w.line("// expression captures, and nothing else of the line, as blindspot masks it: an empty or")
	w.line("// allow-listed secret stays, the rest becomes %s or one * per character.", Mask)
	w.line("// Wire it in: send the sources that feed Loki to loki.process.blindspot_masking.receiver,")
	w.line("// and point forward_to at your loki.write component.")
	if pl.Scope == ScopeLeaking {
		w.line("// Only the streams the audit found secrets in are masked, each for the patterns found in")
		w.line("// it; generate with masking scope \"all\" to mask every pattern in every stream.")
	}
	w.open(`loki.process "blindspot_masking"`)
	w.line("forward_to = [loki.write.default.receiver]")
	if pl.Scope == ScopeAll {
		for _, p := range pl.Patterns {
			w.line("")
			if err := w.replaceStage(p); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range pl.Streams {
		w.line("")
		w.open("stage.match")
		w.line("selector = %s", alloyString(s.Selector))
		for _, p := range s.Patterns {
			w.line("")
			if err := w.replaceStage(p); err != nil {
				return nil, err
			}
		}
		w.close()
	}
	w.close()
	return w.b.Bytes(), nil
}

// Promtail's pipeline stages, as its configuration reads them.
type promtailStage struct {
	Match   *promtailMatch   `yaml:"match,omitempty"`
	Replace *promtailReplace `yaml:"replace,omitempty"`
}

type promtailMatch struct {
	Selector string          `yaml:"selector"`
	Stages   []promtailStage `yaml:"stages"`
}

type promtailReplace struct {
	Expression string `yaml:"expression"`
	Replace    string `yaml:"replace"`
}

func promtailReplaces(ps []*rulesets.SecretPattern) ([]promtailStage, error) {
	var out []promtailStage
	for _, p := range ps {
		st, err := replaceStageFor(*p)
		if err != nil {
			return nil, err
		}
		out = append(out, promtailStage{Replace: &promtailReplace{Expression: st.Expression, Replace: st.Replace}})
	}
	return out, nil
}

func renderPromtail(pl plan) ([]byte, error) {
	var doc struct {
		PipelineStages []promtailStage `yaml:"pipeline_stages"`
	}
	var err error
	if pl.Scope == ScopeAll {
		if doc.PipelineStages, err = promtailReplaces(pl.Patterns); err != nil {
			return nil, err
		}
	}
	for _, s := range pl.Streams {
		stages, err := promtailReplaces(s.Patterns)
		if err != nil {
			return nil, err
		}
		doc.PipelineStages = append(doc.PipelineStages, promtailStage{Match: &promtailMatch{Selector: s.Selector, Stages: stages}})
	}
	return yamlFile(doc,
		"Masks secrets before logs reach Loki: each replace stage masks the secret its expression",
		"captures as blindspot masks it (an empty or allow-listed secret stays, the rest becomes",
		Mask+" or one * per character). Add these stages to the pipeline_stages of the",
		"scrape configs that ship the streams named in the match selectors.",
		"Promtail reached its end of life on 2026-03-02: pipelines/alloy/masking.alloy is the same for Alloy.",
		"Promtail run with -config.expand-env=true needs every $ written as $$.",
	)
}

// Vector's remap transform.
type vectorConfig struct {
	Transforms map[string]vectorRemap `yaml:"transforms"`
}

type vectorRemap struct {
	Type   string   `yaml:"type"`
	Inputs []string `yaml:"inputs"`
	Source string   `yaml:"source"`
}

// vrlRegex is a VRL regular expression literal, r'…': raw, ended by a quote. A quote in the
// expression is written \x27, which Rust's regex and Go's both read as the quote.
func vrlRegex(re string) string { return "r'" + strings.ReplaceAll(re, "'", `\x27`) + "'" }

// dollarEscape escapes $ as $$: Vector and the OpenTelemetry Collector expand environment
// variables written with $ in their configuration files.
func dollarEscape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func renderVector(pl plan) ([]byte, error) {
	var src strings.Builder
	src.WriteString("if is_string(.message) {\n")
	for _, p := range pl.Patterns {
		t, err := splitAroundSecret(*p, Mask)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&src, "  # %s\n  .message = replace(string!(.message), %s, %s)\n", p.ID, vrlRegex(t.Regex), strconv.Quote(t.Replacement))
	}
	src.WriteString("}\n")
	doc := vectorConfig{Transforms: map[string]vectorRemap{"blindspot_masking": {
		Type: "remap", Inputs: []string{"<your_source>"}, Source: dollarEscape(src.String()),
	}}}
	lines := []string{
		"Masks secrets in .message: each replace keeps what surrounds the secret and replaces",
		"the secret with " + Mask + ". Set inputs to the sources that feed your Loki sink, and make",
		"that sink read from blindspot_masking. $ is written $$ for Vector's variable expansion.",
	}
	if pl.Scope == ScopeLeaking {
		lines = append(lines, "Vector does not see Loki's stream labels: the patterns found in any stream are applied to every event.")
	}
	return yamlFile(doc, lines...)
}

// The OpenTelemetry Collector's transform processor.
type otelConfig struct {
	Processors map[string]otelTransform `yaml:"processors"`
}

type otelTransform struct {
	ErrorMode     string          `yaml:"error_mode"`
	LogStatements []otelStatement `yaml:"log_statements"`
}

type otelStatement struct {
	Context    string   `yaml:"context"`
	Statements []string `yaml:"statements"`
}

// ottlString is an OTTL string literal: double-quoted, with backslash escapes that OTTL reads
// as Go's.
func ottlString(s string) string { return strconv.Quote(s) }

func renderOtelcol(pl plan) ([]byte, error) {
	var stmts []string
	for _, p := range pl.Patterns {
		t, err := splitAroundSecret(*p, Mask)
		if err != nil {
			return nil, err
		}
		re, repl := ottlString(t.Regex), ottlString(t.Replacement)
		stmts = append(stmts,
			dollarEscape(fmt.Sprintf("replace_pattern(body, %s, %s)", re, repl)),
			dollarEscape(fmt.Sprintf("replace_all_patterns(attributes, \"value\", %s, %s)", re, repl)))
	}
	doc := otelConfig{Processors: map[string]otelTransform{"transform/blindspot_masking": {
		ErrorMode:     "ignore",
		LogStatements: []otelStatement{{Context: "log", Statements: stmts}},
	}}}
	lines := []string{
		"Masks secrets in log bodies and attribute values: each statement keeps what surrounds",
		"the secret and replaces the secret with " + Mask + ". Add transform/blindspot_masking to the",
		"processors of your logs pipeline. $ is written $$ for the Collector's variable expansion.",
	}
	if pl.Scope == ScopeLeaking {
		lines = append(lines, "The Collector does not see Loki's stream labels: the patterns found in any stream are applied to every record.")
	}
	return yamlFile(doc, lines...)
}

// yamlFile marshals doc under the header and comment lines.
func yamlFile(doc any, comments ...string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# " + generate.Header + "\n")
	for _, c := range comments {
		b.WriteString("# " + c + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

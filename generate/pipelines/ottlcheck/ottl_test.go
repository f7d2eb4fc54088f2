// Package ottlcheck runs the OTTL statements of pipelines/otelcol/masking.yaml with the
// OpenTelemetry Collector's own OTTL library. It is a module of its own so that the library
// and its dependencies stay out of blindspot's go.mod: run it with
// `cd generate/pipelines/ottlcheck && go test ./...` (scripts/test.sh does).
package ottlcheck

import (
	"context"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate/pipelines"
	"github.com/blindspot-dev/blindspot/internal/secretsamples"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// statements reads the transform processor's log statements, with $$ read back as $, as the
// Collector reads its configuration.
func statements(t *testing.T, ps []rulesets.SecretPattern) []string {
	t.Helper()
	files, err := pipelines.Files(nil, ps, pipelines.Options{Scope: pipelines.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Processors map[string]struct {
			LogStatements []struct {
				Context    string   `yaml:"context"`
				Statements []string `yaml:"statements"`
			} `yaml:"log_statements"`
		} `yaml:"processors"`
	}
	for _, f := range files {
		if f.Path == pipelines.OtelcolPath {
			if err := yaml.Unmarshal(f.Content, &doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	ls := doc.Processors["transform/blindspot_masking"].LogStatements
	if len(ls) != 1 || ls[0].Context != "log" {
		t.Fatalf("log statements: %+v", ls)
	}
	var out []string
	for _, s := range ls[0].Statements {
		out = append(out, strings.ReplaceAll(s, "$$", "$"))
	}
	return out
}

func TestOTTLMasksEveryPattern(t *testing.T) {
	ps, err := rulesets.SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}
	parser, err := ottllog.NewParser(ottlfuncs.StandardFuncs[*ottllog.TransformContext](), componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	stmts := statements(t, ps)
	if len(stmts) != 2*len(ps) {
		t.Fatalf("%d statements for %d patterns", len(stmts), len(ps))
	}
	random := secretsamples.Random(ps, 300)
	// Every pattern of the embedded rule set, so that a new one is covered without a change here.
	for i, p := range ps {
		t.Run("The OTTL statements of "+p.ID+" replace every secret with "+pipelines.Mask+" in bodies and attribute values.", func(t *testing.T) {
			parsed, err := parser.ParseStatements(stmts[2*i : 2*i+2])
			if err != nil {
				t.Fatal(err)
			}
			lines := append(append(secretsamples.Samples(p), secretsamples.EdgeLines...), random...)
			masked := 0
			for _, line := range lines {
				rl := plog.NewResourceLogs()
				sl := rl.ScopeLogs().AppendEmpty()
				lr := sl.LogRecords().AppendEmpty()
				lr.Body().SetStr(line)
				lr.Attributes().PutStr("msg", line)
				lr.Attributes().PutInt("n", 3)
				tCtx := ottllog.NewTransformContext(rl, sl, lr)
				for _, st := range parsed {
					if _, _, err := st.Execute(context.Background(), tCtx); err != nil {
						t.Fatalf("%q: %v", line, err)
					}
				}
				tCtx.Close()
				want := secretsamples.MaskEverySecret(line, p, pipelines.Mask)
				attr, _ := lr.Attributes().Get("msg")
				if got := lr.Body().Str(); got != want || attr.Str() != want {
					t.Errorf("%q\n body      %q\n attribute %q\n want      %q", line, got, attr.Str(), want)
				}
				if want != line {
					masked++
				}
			}
			if masked < len(p.Positive) {
				t.Errorf("only %d of %d lines hold a secret to mask", masked, len(lines))
			}
		})
	}
}

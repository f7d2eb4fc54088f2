package bundle

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/fluentbit"
	"github.com/blindspot-dev/blindspot/generate/pipelines"
	"github.com/blindspot-dev/blindspot/internal/logql"
	"github.com/blindspot-dev/blindspot/rulesets"
)

func hit(pattern string, labels map[string]string) analyze.SecretHit {
	sel, err := logql.StreamSelector(labels)
	if err != nil {
		panic(err)
	}
	return analyze.SecretHit{Stream: sel, Labels: labels, Pattern: pattern, Count: 3, Example: "masked"}
}

// leaking is an inventory of Loki alone with two leaking streams.
func leaking() *analyze.Inventory {
	return &analyze.Inventory{
		Parts: []analyze.Part{analyze.PartLogStreams, analyze.PartLogSecrets},
		Logs: analyze.Logs{Secrets: []analyze.SecretHit{
			hit("password-assignment", map[string]string{"job": "billing", "env": "prod"}),
			hit("aws-access-key-id", map[string]string{"job": "api", "env": "prod"}),
		}},
	}
}

const apiStream = `{env="prod", job="api"}`

// logFiles are the generated files of the log pipelines and the Loki alerts, by path.
func logFiles(files []generate.File) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range files {
		if strings.HasPrefix(f.Path, "pipelines/") || strings.HasPrefix(f.Path, "loki-rules/") {
			out[f.Path] = f.Content
		}
	}
	return out
}

// generateWith runs the logs/secrets check under the policy and generates from its findings.
func generateWith(t *testing.T, inv *analyze.Inventory, p checks.Policy, o generate.Options) map[string][]byte {
	t.Helper()
	res := checks.Run(inv, nil, []checks.Check{checks.LogsSecrets{}}, p)
	files, err := Files(inv, res.Findings, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return logFiles(files)
}

// direct are the files of the masking generators given the hits themselves, as they were
// before the pipelines followed the findings.
func direct(t *testing.T, hits []analyze.SecretHit, scope string) map[string][]byte {
	t.Helper()
	ps, err := rulesets.SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}
	files, err := pipelines.Files(hits, ps, pipelines.Options{Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := fluentbit.Files(ps)
	if err != nil {
		t.Fatal(err)
	}
	return logFiles(append(files, fb...))
}

func sameFiles(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("files %v, want %v", g, w)
	}
	for p, w := range want {
		if !bytes.Equal(got[p], w) {
			t.Errorf("%s differs from the pipelines of the same hits", p)
		}
	}
}

func TestMaskingFollowsTheSecretsFindings(t *testing.T) {
	t.Run("With every finding reported, the pipelines mask every secret of the inventory, byte for byte as before.", func(t *testing.T) {
		inv := leaking()
		sameFiles(t, generateWith(t, inv, checks.Policy{}, generate.Options{}), direct(t, inv.Logs.Secrets, ""))
	})

	t.Run("A secret whose finding is ignored gets no masking stage and no Loki alert; the others keep theirs.", func(t *testing.T) {
		inv := leaking()
		p := checks.Policy{Ignore: []checks.Ignore{{Check: checks.LogsSecretsName, Subject: map[string]string{"stream": apiStream}, Reason: "test data"}}}
		got := generateWith(t, inv, p, generate.Options{})
		sameFiles(t, got, direct(t, inv.Logs.Secrets[:1], ""))
		for path, content := range got {
			// Fluent Bit's Lua filter applies every pattern to every record by design.
			if strings.HasPrefix(path, "pipelines/fluent-bit/") {
				continue
			}
			if bytes.Contains(content, []byte(`job=\"api\"`)) || bytes.Contains(content, []byte("aws-access-key-id")) {
				t.Errorf("%s still masks or alerts on the ignored secret", path)
			}
		}
	})

	t.Run("With logs/secrets disabled, no masking pipeline and no Loki alert is written.", func(t *testing.T) {
		if got := generateWith(t, leaking(), checks.Policy{Disabled: []string{checks.LogsSecretsName}}, generate.Options{}); len(got) != 0 {
			t.Errorf("files %v, want none", slices.Sorted(maps.Keys(got)))
		}
	})

	t.Run("Under scope all every pattern is masked everywhere, but an ignored secret gets no Loki alert.", func(t *testing.T) {
		inv := leaking()
		p := checks.Policy{Ignore: []checks.Ignore{{Check: checks.LogsSecretsName, Subject: map[string]string{"stream": "*"}, Reason: "test data"}}}
		got := generateWith(t, inv, p, generate.Options{MaskingScope: pipelines.ScopeAll})
		sameFiles(t, got, direct(t, nil, pipelines.ScopeAll))
		if _, ok := got[pipelines.LokiRulesPath]; ok {
			t.Errorf("%s is written for ignored secrets", pipelines.LokiRulesPath)
		}
	})
}

func TestManagedAreTheDirectoriesOfTheGenerators(t *testing.T) {
	want := []string{
		"alertmanager", "dashboards", "kubernetes", "loki-rules",
		"pipelines/alloy", "pipelines/fluent-bit", "pipelines/otelcol", "pipelines/promtail", "pipelines/vector",
		"rules", "rules/tests", "runbooks",
	}
	if got := slices.Sorted(slices.Values(Managed)); !slices.Equal(got, want) {
		t.Errorf("Managed = %v, want %v", got, want)
	}
}

// fake is a generator that writes the given files.
type fake struct {
	dirs  []string
	files []string
	err   error
}

func (fake) Name() string     { return "fake" }
func (f fake) Dirs() []string { return f.dirs }
func (f fake) Generate(_ generate.Input, out *generate.Output) error {
	for _, p := range f.files {
		out.Files = append(out.Files, generate.File{Path: p})
	}
	out.Notes = append(out.Notes, "fake ran")
	return f.err
}

func TestRun(t *testing.T) {
	t.Run("Files come out sorted by path and notes in the order of the generators.", func(t *testing.T) {
		res, err := run([]generate.Generator{fake{dirs: []string{"b"}, files: []string{"b/2", "b/1"}}, fake{dirs: []string{"a"}, files: []string{"a/1"}}}, generate.Input{})
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range res.Files {
			paths = append(paths, f.Path)
		}
		if want := []string{"a/1", "b/1", "b/2"}; !slices.Equal(paths, want) {
			t.Errorf("paths %v, want %v", paths, want)
		}
		if want := []string{"fake ran", "fake ran"}; !slices.Equal(res.Notes, want) {
			t.Errorf("notes %v, want %v", res.Notes, want)
		}
	})
	t.Run("A file outside the directories its generator names fails the run.", func(t *testing.T) {
		_, err := run([]generate.Generator{fake{dirs: []string{"a"}, files: []string{"b/1"}}}, generate.Input{})
		if err == nil || !strings.Contains(err.Error(), "b/1") {
			t.Errorf("error %v, want one naming b/1", err)
		}
	})
	t.Run("Two generators that want the same file fail the run.", func(t *testing.T) {
		g := fake{dirs: []string{"a"}, files: []string{"a/1"}}
		_, err := run([]generate.Generator{g, g}, generate.Input{})
		if err == nil || !strings.Contains(err.Error(), "two generators want the same file") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("A generator's error stops the run as it is.", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := run([]generate.Generator{fake{err: boom}, fake{dirs: []string{"a"}, files: []string{"a/1"}}}, generate.Input{})
		if !errors.Is(err, boom) || err.Error() != "boom" {
			t.Errorf("error %v, want boom", err)
		}
	})
}

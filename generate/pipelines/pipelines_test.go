package pipelines

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/output"
	"github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/rulesets"
)

func patterns(t *testing.T) []rulesets.SecretPattern {
	t.Helper()
	ps, err := rulesets.SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func hit(pattern string, labels map[string]string) analyze.SecretHit {
	sel, _ := loki.StreamSelector(labels)
	return analyze.SecretHit{Stream: sel, Labels: labels, Pattern: pattern, Count: 3, Example: "masked"}
}

// leakingInventory has two streams: one leaking two patterns, one a password.
func leakingInventory() *analyze.Inventory {
	return &analyze.Inventory{Logs: analyze.Logs{Secrets: []analyze.SecretHit{
		hit("password-assignment", map[string]string{"job": "billing", "env": "prod"}),
		hit("aws-access-key-id", map[string]string{"job": "api", "env": "prod"}),
		hit("github-token", map[string]string{"job": "api", "env": "prod"}),
	}}}
}

func generateFiles(t *testing.T, inv *analyze.Inventory, o Options) []generate.File {
	t.Helper()
	files, err := Files(inv, patterns(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func file(t *testing.T, files []generate.File, path string) []byte {
	t.Helper()
	i := slices.IndexFunc(files, func(f generate.File) bool { return f.Path == path })
	if i < 0 {
		t.Fatalf("%s was not generated", path)
	}
	return files[i].Content
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name, dir string
		inv       *analyze.Inventory
		o         Options
	}{
		{"Leaking streams get masking stages for the patterns found in them.", "leaking", leakingInventory(), Options{RunbookBaseURL: "https://runbooks.example.com/"}},
		{"Scope all masks every pattern everywhere.", "all", leakingInventory(), Options{Scope: ScopeAll}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := generateFiles(t, c.inv, c.o)
			var paths []string
			for _, f := range files {
				paths = append(paths, f.Path)
				goldenPath := filepath.Join("testdata", c.dir, filepath.FromSlash(f.Path))
				golden.Check(t, goldenPath, f.Content)
			}
			want := []string{LokiRulesPath, AlloyPath, OtelcolPath, PromtailPath, VectorPath}
			if !slices.Equal(paths, want) {
				t.Errorf("files = %v, want %v", paths, want)
			}
		})
	}
}

func TestEveryFileCarriesTheHeaderAndFitsTheOutputDirectory(t *testing.T) {
	files := generateFiles(t, leakingInventory(), Options{})
	for _, f := range files {
		if !output.Generated(f.Path, f.Content) {
			t.Errorf("%s lacks the generated header", f.Path)
		}
	}
	if _, err := output.Plan(t.TempDir(), files, ManagedDirs); err != nil {
		t.Error(err)
	}
}

func TestNothingIsGeneratedWithoutLeaksUnderTheDefaultScope(t *testing.T) {
	for _, inv := range []*analyze.Inventory{nil, {}} {
		if files := generateFiles(t, inv, Options{}); len(files) != 0 {
			t.Errorf("got %d files", len(files))
		}
	}
	files := generateFiles(t, &analyze.Inventory{}, Options{Scope: ScopeAll})
	if len(files) != 4 || slices.ContainsFunc(files, func(f generate.File) bool { return f.Path == LokiRulesPath }) {
		t.Errorf("scope all without leaks: want the four pipelines and no alerts, got %d files", len(files))
	}
}

func TestAnUnknownScopeOrPatternFails(t *testing.T) {
	if _, err := Files(leakingInventory(), patterns(t), Options{Scope: "some"}); err == nil {
		t.Error("scope \"some\" was accepted")
	}
	inv := &analyze.Inventory{Logs: analyze.Logs{Secrets: []analyze.SecretHit{hit("no-such-pattern", map[string]string{"job": "a"})}}}
	if _, err := Files(inv, patterns(t), Options{}); err == nil {
		t.Error("an unknown pattern was accepted")
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	a := generateFiles(t, leakingInventory(), Options{})
	inv := leakingInventory()
	slices.Reverse(inv.Logs.Secrets)
	for range 5 {
		b := generateFiles(t, inv, Options{})
		if len(a) != len(b) {
			t.Fatal("file count differs")
		}
		for i := range a {
			if a[i].Path != b[i].Path || !bytes.Equal(a[i].Content, b[i].Content) {
				t.Errorf("%s differs between runs", a[i].Path)
			}
		}
	}
}

// replaceStage is the replace stage of Promtail and Alloy (stages/replace.go), with a
// constant replacement: every capture group that took part in a match is replaced.
func replaceStage(re *regexp.Regexp, replace, line string) string {
	var b strings.Builder
	prev := 0
	for _, m := range re.FindAllStringSubmatchIndex(line, -1) {
		for g := 2; g < len(m); g += 2 {
			if m[g] < 0 || m[g] < prev {
				continue
			}
			b.WriteString(line[prev:m[g]])
			b.WriteString(replace)
			prev = m[g+1]
		}
	}
	return b.String() + line[prev:]
}

// maskSpans replaces the secret groups of the original pattern in line: what a correct
// pipeline must produce.
func maskSpans(p rulesets.SecretPattern, line string) (string, [][2]int) {
	var spans [][2]int
	for _, m := range p.Regex.FindAllStringSubmatchIndex(line, -1) {
		for g := 2; g < len(m); g += 2 {
			if m[g] >= 0 {
				spans = append(spans, [2]int{m[g], m[g+1]})
			}
		}
	}
	var b strings.Builder
	prev := 0
	for _, s := range spans {
		b.WriteString(line[prev:s[0]] + Mask)
		prev = s[1]
	}
	return b.String() + line[prev:], spans
}

// checkMasked checks out, what an engine made of line, against the pattern: the secrets Scan
// finds are among the replaced spans, and the line outside them is unchanged.
func checkMasked(t *testing.T, p rulesets.SecretPattern, line, out string) {
	t.Helper()
	want, spans := maskSpans(p, line)
	for _, m := range secrets.Scan(line, []rulesets.SecretPattern{p}) {
		if !slices.Contains(spans, [2]int{m.Start, m.End}) {
			t.Errorf("%s: the secret at %d:%d of %q is not replaced", p.ID, m.Start, m.End, line)
		}
	}
	if out != want {
		t.Errorf("%s: %q\n became %q\n want   %q", p.ID, line, out, want)
	}
}

// alloyStages reads back the expressions of masking.alloy, in order, with Go's unquoting.
func alloyStages(t *testing.T, content []byte) []*regexp.Regexp {
	t.Helper()
	var out []*regexp.Regexp
	for _, l := range strings.Split(string(content), "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "expression = "); ok {
			s, err := strconv.Unquote(v)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			out = append(out, regexp.MustCompile(s))
		}
	}
	return out
}

func TestAlloyAndPromtailStagesReplaceTheSecretAndNothingElse(t *testing.T) {
	ps := patterns(t)
	files := generateFiles(t, nil, Options{Scope: ScopeAll})
	alloy := alloyStages(t, file(t, files, AlloyPath))
	var doc struct {
		PipelineStages []promtailStage `yaml:"pipeline_stages"`
	}
	if err := yaml.Unmarshal(file(t, files, PromtailPath), &doc); err != nil {
		t.Fatal(err)
	}
	if len(alloy) != len(ps) || len(doc.PipelineStages) != len(ps) {
		t.Fatalf("%d Alloy and %d Promtail stages for %d patterns", len(alloy), len(doc.PipelineStages), len(ps))
	}
	for i, p := range ps {
		promtail := regexp.MustCompile(doc.PipelineStages[i].Replace.Expression)
		for _, re := range []*regexp.Regexp{alloy[i], promtail} {
			if slices.ContainsFunc(re.SubexpNames(), func(n string) bool { return n != "" }) {
				t.Errorf("%s: %s has a named group", p.ID, re)
			}
			for _, line := range p.Positive {
				checkMasked(t, p, line, replaceStage(re, Mask, line))
			}
			for _, line := range p.Negative {
				checkMasked(t, p, line, replaceStage(re, Mask, line))
			}
		}
	}
}

func TestALineRunThroughEveryAlloyStageHoldsNoSecret(t *testing.T) {
	ps := patterns(t)
	stages := alloyStages(t, file(t, generateFiles(t, nil, Options{Scope: ScopeAll}), AlloyPath))
	for _, p := range ps {
		for _, line := range p.Positive {
			out := line
			for _, re := range stages {
				out = replaceStage(re, Mask, out)
			}
			for _, m := range secrets.Scan(out, ps) {
				if m.End > m.Start {
					t.Errorf("%q still holds a %s secret: %q", line, m.Pattern, out[m.Start:m.End])
				}
			}
		}
	}
}

// quotedArgs reads the double-quoted arguments of an OTTL call, in order.
func quotedArgs(t *testing.T, call string) []string {
	t.Helper()
	var out []string
	for i := 0; i < len(call); i++ {
		if call[i] != '"' {
			continue
		}
		q, err := strconv.QuotedPrefix(call[i:])
		if err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		s, _ := strconv.Unquote(q)
		out = append(out, s)
		i += len(q) - 1
	}
	return out
}

func TestOTTLStatementsReplaceTheSecretAndNothingElse(t *testing.T) {
	ps := patterns(t)
	var doc otelConfig
	if err := yaml.Unmarshal(file(t, generateFiles(t, nil, Options{Scope: ScopeAll}), OtelcolPath), &doc); err != nil {
		t.Fatal(err)
	}
	stmts := doc.Processors["transform/blindspot_masking"].LogStatements[0].Statements
	if len(stmts) != 2*len(ps) {
		t.Fatalf("%d statements for %d patterns", len(stmts), len(ps))
	}
	for i, p := range ps {
		for _, stmt := range stmts[2*i : 2*i+2] {
			if strings.Contains(strings.ReplaceAll(stmt, "$$", ""), "$") {
				t.Errorf("%s: a $ is not escaped for the Collector: %s", p.ID, stmt)
			}
			args := quotedArgs(t, strings.ReplaceAll(stmt, "$$", "$"))
			re, repl := regexp.MustCompile(args[len(args)-2]), args[len(args)-1]
			for _, line := range append(slices.Clone(p.Positive), p.Negative...) {
				checkMasked(t, p, line, re.ReplaceAllString(line, repl))
			}
		}
	}
}

var vrlReplace = regexp.MustCompile(`^\s*\.message = replace\(string!\(\.message\), r'([^']*)', ("(?:[^"\\]|\\.)*")\)$`)

func TestVRLReplacementsReplaceTheSecretAndNothingElse(t *testing.T) {
	ps := patterns(t)
	var doc vectorConfig
	if err := yaml.Unmarshal(file(t, generateFiles(t, nil, Options{Scope: ScopeAll}), VectorPath), &doc); err != nil {
		t.Fatal(err)
	}
	src := doc.Transforms["blindspot_masking"].Source
	if strings.Contains(strings.ReplaceAll(src, "$$", ""), "$") {
		t.Errorf("a $ is not escaped for Vector:\n%s", src)
	}
	var calls [][]string
	for _, l := range strings.Split(strings.ReplaceAll(src, "$$", "$"), "\n") {
		if m := vrlReplace.FindStringSubmatch(l); m != nil {
			calls = append(calls, m[1:])
		}
	}
	if len(calls) != len(ps) {
		t.Fatalf("%d replace calls for %d patterns:\n%s", len(calls), len(ps), src)
	}
	for i, p := range ps {
		// Rust's regex reads \x27 as a quote, as Go's does.
		re := regexp.MustCompile(calls[i][0])
		repl, err := strconv.Unquote(calls[i][1])
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range append(slices.Clone(p.Positive), p.Negative...) {
			checkMasked(t, p, line, re.ReplaceAllString(line, repl))
		}
	}
}

func TestHostileLabelValuesAreEscaped(t *testing.T) {
	labels := map[string]string{"job": "a\"b\\c\nd}", "env": "{{ $x }}"}
	inv := &analyze.Inventory{Logs: analyze.Logs{Secrets: []analyze.SecretHit{hit("jwt", labels)}}}
	files := generateFiles(t, inv, Options{})
	want, err := loki.StreamSelector(labels)
	if err != nil {
		t.Fatal(err)
	}
	var selectors []string
	for _, l := range strings.Split(string(file(t, files, AlloyPath)), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "selector = "); ok {
			s, err := strconv.Unquote(v)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			selectors = append(selectors, s)
		}
	}
	if !slices.Equal(selectors, []string{want}) {
		t.Errorf("Alloy selectors = %q, want %q", selectors, want)
	}
	var doc struct {
		PipelineStages []promtailStage `yaml:"pipeline_stages"`
	}
	if err := yaml.Unmarshal(file(t, files, PromtailPath), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.PipelineStages[0].Match.Selector; got != want {
		t.Errorf("Promtail selector = %q, want %q", got, want)
	}
	var rules ruleFile
	if err := yaml.Unmarshal(file(t, files, LokiRulesPath), &rules); err != nil {
		t.Fatal(err)
	}
	r := rules.Groups[0].Rules[0]
	if !strings.HasPrefix(r.Expr, "sum by (job) (count_over_time("+want+" |~ ") {
		t.Errorf("expr = %s, want the selector %s", r.Expr, want)
	}
	for k, v := range r.Annotations {
		if strings.Contains(v, "{{ $x") || strings.Contains(v, "a\"b") {
			t.Errorf("annotation %s holds a label value the ruler would expand: %q", k, v)
		}
	}
}

func TestAlertExpressionsFindTheSecretsOfTheirPattern(t *testing.T) {
	// The expression's two line filters are Go regular expressions, as LogQL's are.
	files := generateFiles(t, leakingInventory(), Options{})
	var rules ruleFile
	if err := yaml.Unmarshal(file(t, files, LokiRulesPath), &rules); err != nil {
		t.Fatal(err)
	}
	ps := patterns(t)
	for _, r := range rules.Groups[0].Rules {
		id := r.Labels["pattern"]
		i := slices.IndexFunc(ps, func(p rulesets.SecretPattern) bool { return p.ID == id })
		if i < 0 || r.Alert != AlertName(id) {
			t.Fatalf("rule %s: pattern %q", r.Alert, id)
		}
		var filters []*regexp.Regexp
		rest := r.Expr
		for {
			_, after, ok := strings.Cut(rest, "|~ ")
			if !ok {
				break
			}
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := strconv.Unquote(q)
			filters = append(filters, regexp.MustCompile(s))
			rest = after[len(q):]
		}
		if len(filters) != 2 || !strings.HasSuffix(r.Expr, " [5m])) > 0") {
			t.Fatalf("rule %s: %s", r.Alert, r.Expr)
		}
		for _, line := range ps[i].Positive {
			if !filters[0].MatchString(line) || !filters[1].MatchString(line) {
				t.Errorf("rule %s misses %q", r.Alert, line)
			}
		}
	}
}

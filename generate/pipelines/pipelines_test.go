package pipelines

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	texttemplate "text/template"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/output"
	"github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/internal/logql"
	"github.com/blindspot-dev/blindspot/internal/secretsamples"
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
	sel, _ := logql.StreamSelector(labels)
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
	files, err := Files(secretsOf(inv), patterns(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func secretsOf(inv *analyze.Inventory) []analyze.SecretHit {
	if inv == nil {
		return nil
	}
	return inv.Logs.Secrets
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
	if _, err := Files(leakingInventory().Logs.Secrets, patterns(t), Options{Scope: "some"}); err == nil {
		t.Error("scope \"some\" was accepted")
	}
	inv := &analyze.Inventory{Logs: analyze.Logs{Secrets: []analyze.SecretHit{hit("no-such-pattern", map[string]string{"job": "a"})}}}
	if _, err := Files(inv.Logs.Secrets, patterns(t), Options{}); err == nil {
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

// templateFuncs are the template functions of Promtail's and Alloy's stages that the replace
// templates call (Loki v1.6.1, pkg/logentry/stages/template.go).
var templateFuncs = texttemplate.FuncMap{
	"regexReplaceAll": func(regex, s, repl string) string {
		return regexp.MustCompile(regex).ReplaceAllString(s, repl)
	},
	"regexReplaceAllLiteral": func(regex, s, repl string) string {
		return regexp.MustCompile(regex).ReplaceAllLiteralString(s, repl)
	},
}

// replaceStage is the replace stage of Promtail 1.6.1 (pkg/logentry/stages/replace.go): the
// template runs for every capture group of every match, with the group's text as .Value.
// Like Promtail 1.x it slices at every group, so a group that took no part fails the test
// where Promtail would panic.
func replaceStage(t *testing.T, re *regexp.Regexp, replace, line string) string {
	t.Helper()
	tmpl, err := texttemplate.New("pipeline_template").Funcs(templateFuncs).Parse(replace)
	if err != nil {
		t.Fatalf("%s: %v", replace, err)
	}
	var b strings.Builder
	prev := 0
	for _, m := range re.FindAllStringSubmatchIndex(line, -1) {
		for g := 2; g < len(m); g += 2 {
			if m[g] < 0 {
				t.Fatalf("%s: group %d took no part in a match in %q: Promtail 1.x panics", re, g/2, line)
			}
			var out strings.Builder
			if err := tmpl.Execute(&out, map[string]string{"Value": line[m[g]:m[g+1]]}); err != nil {
				t.Fatalf("%s: %v", replace, err)
			}
			b.WriteString(line[prev:m[g]])
			b.WriteString(out.String())
			prev = m[g+1]
		}
	}
	return b.String() + line[prev:]
}

// checkMasked checks out, what Vector or the Collector made of line, against the pattern:
// every secret the pattern's expression captures is replaced by Mask (these engines cannot
// count characters or consult an allow list), and nothing else.
func checkMasked(t *testing.T, p rulesets.SecretPattern, line, out string) {
	t.Helper()
	if want := secretsamples.MaskEverySecret(line, p, Mask); out != want {
		t.Errorf("%s: %q\n became %q\n want   %q", p.ID, line, out, want)
	}
}

// alloyStages reads back the replace stages of masking.alloy, in order, with Go's unquoting.
func alloyStages(t *testing.T, content []byte) []stageReplace {
	t.Helper()
	var out []stageReplace
	for _, l := range strings.Split(string(content), "\n") {
		l = strings.TrimSpace(l)
		for _, key := range []string{"expression = ", "replace    = "} {
			if v, ok := strings.CutPrefix(l, key); ok {
				s, err := strconv.Unquote(v)
				if err != nil {
					t.Fatalf("%s: %v", l, err)
				}
				if key == "expression = " {
					out = append(out, stageReplace{Expression: s})
				} else {
					out[len(out)-1].Replace = s
				}
			}
		}
	}
	return out
}

// maskingLines are the lines every pipeline is checked on: every sample of p, embedded in
// realistic lines, the edge cases, and random splices of every sample.
func maskingLines(t *testing.T, p rulesets.SecretPattern) []string {
	return slices.Concat(secretsamples.Samples(p), secretsamples.EdgeLines, secretsamples.Random(patterns(t), 300))
}

func TestAlloyAndPromtailStagesMaskEveryPatternExactlyAsGo(t *testing.T) {
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
	// Every pattern of the embedded rule set, so that a new one is covered without a change here.
	for i, p := range ps {
		t.Run("The "+p.ID+" stage masks every sample as Go does.", func(t *testing.T) {
			promtail := stageReplace{Expression: doc.PipelineStages[i].Replace.Expression, Replace: doc.PipelineStages[i].Replace.Replace}
			if alloy[i] != promtail {
				t.Errorf("Alloy and Promtail differ:\n%+v\n%+v", alloy[i], promtail)
			}
			re := regexp.MustCompile(promtail.Expression)
			if re.NumSubexp() != 1 || slices.ContainsFunc(re.SubexpNames(), func(n string) bool { return n != "" }) {
				t.Errorf("%s: want one unnamed group", re)
			}
			for _, line := range maskingLines(t, p) {
				want := secrets.Mask(line, []rulesets.SecretPattern{p})
				if got := replaceStage(t, re, promtail.Replace, line); got != want {
					t.Errorf("%q\n became %q\n want   %q", line, got, want)
				}
			}
		})
	}
}

func TestALineRunThroughEveryAlloyStageHoldsNoSecret(t *testing.T) {
	ps := patterns(t)
	stages := alloyStages(t, file(t, generateFiles(t, nil, Options{Scope: ScopeAll}), AlloyPath))
	for _, line := range slices.Concat(secretsamples.Samples(ps...), secretsamples.EdgeLines) {
		out := line
		for _, st := range stages {
			out = replaceStage(t, regexp.MustCompile(st.Expression), st.Replace, out)
		}
		for _, m := range secrets.Scan(out, ps) {
			if m.End > m.Start {
				t.Errorf("%q still holds a %s secret: %q", line, m.Pattern, out[m.Start:m.End])
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
			for _, line := range maskingLines(t, p) {
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
		for _, line := range maskingLines(t, p) {
			checkMasked(t, p, line, re.ReplaceAllString(line, repl))
		}
	}
}

func TestHostileLabelValuesAreEscaped(t *testing.T) {
	labels := map[string]string{"job": "a\"b\\c\nd}", "env": "{{ $x }}"}
	inv := &analyze.Inventory{Logs: analyze.Logs{Secrets: []analyze.SecretHit{hit("jwt", labels)}}}
	files := generateFiles(t, inv, Options{})
	want, err := logql.StreamSelector(labels)
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

func TestAPatternAnAgentCannotCarryFailsGeneration(t *testing.T) {
	// No agent's file may leave a pattern out: a pattern whose secret cannot be placed (here it
	// repeats, so no fixed set of groups surrounds it) fails Files instead.
	p := rulesets.SecretPattern{ID: "repeated", Regex: regexp.MustCompile(`keys=(?:(\w+),)+`), Keywords: []string{"keys="}}
	ps := append(patterns(t), p)
	if files, err := Files(nil, ps, Options{Scope: ScopeAll}); err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Errorf("Files: %d files, error %v; want an error naming the pattern", len(files), err)
	}
	if _, err := replaceStageFor(p); err != nil {
		t.Errorf("Alloy and Promtail capture a repeated secret, one match at a time: %v", err)
	}
}

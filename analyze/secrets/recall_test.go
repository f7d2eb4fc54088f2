package secrets_test

import (
	"bufio"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// corpusDir holds gitleaks' rule set and test data, copied byte for byte (see
// shared/corpus/SOURCES.md); the test is skipped when the corpus is not beside the repository.
func corpusDir(t testing.TB) string { return testcorpus.Dir(t, "secrets") }

// corpusSecrets are the fake secrets of the corpus, by file and a piece of their line. The
// only literal keys in gitleaks.toml are the 16 Google API keys its gcp-api-key rule
// allowlists as known public ones; blindspot reports them like any other key (a log line is
// not a repository of sample code). The rest of gitleaks.toml is regular expressions, which
// TestGitleaksRecall samples instead.
var corpusSecrets = []struct {
	file, line, pattern string
}{
	{"main.go.txt", `awsToken := "AKIA`, "aws-access-key-id"},
	{".env.prod", "DB_PASSWORD=", "password-assignment"},
	{"id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----", "private-key"},
	{"json_simple.json", `"Secret": "a secret"`, "password-assignment"},
	{"gitleaks.toml", "'''AIza", "google-api-key"},
}

func TestCorpusRecall(t *testing.T) {
	t.Parallel()
	ps := patterns(t)

	t.Run("Every fake secret of the corpus is found by its pattern and masked.", func(t *testing.T) {
		total, found := 0, 0
		for _, want := range corpusSecrets {
			lines := readLines(t, filepath.Join(corpusDir(t), want.file))
			n := 0
			for _, line := range lines {
				if !strings.Contains(line, want.line) {
					continue
				}
				n++
				total++
				ms := secrets.Scan(line, ps)
				if !slices.ContainsFunc(ms, func(m secrets.Match) bool { return m.Pattern == want.pattern }) {
					t.Errorf("%s: %s does not find\n  %s", want.file, want.pattern, line)
					continue
				}
				found++
				masked := secrets.Mask(line, ps)
				for _, m := range ms {
					if s := line[m.Start:m.End]; s != "" && strings.Contains(masked, s) {
						t.Errorf("%s: masking leaves %s's secret in\n  %s", want.file, m.Pattern, masked)
					}
				}
			}
			if n == 0 {
				t.Errorf("%s: no line holds %q", want.file, want.line)
			}
		}
		t.Logf("corpus recall: %d of %d fake secrets found (main.go.txt 1, .env.prod 1, id_ed25519 1, json_simple.json 1, gitleaks.toml 16)", found, total)
		if total != 20 {
			t.Errorf("%d corpus secrets, want 20: did the corpus change?", total)
		}
	})

	t.Run("Every other line of the secrets corpus matches no pattern.", func(t *testing.T) {
		entries, err := os.ReadDir(corpusDir(t))
		if err != nil {
			t.Fatal(err)
		}
		lines, extra := 0, map[string]int{}
		for _, e := range entries {
			for _, line := range readLines(t, filepath.Join(corpusDir(t), e.Name())) {
				lines++
				if slices.ContainsFunc(corpusSecrets, func(c struct{ file, line, pattern string }) bool {
					return c.file == e.Name() && strings.Contains(line, c.line)
				}) {
					continue
				}
				for _, m := range secrets.Scan(line, ps) {
					extra[m.Pattern]++
					t.Logf("%s: %s matches\n  %s", e.Name(), m.Pattern, secrets.Mask(line, ps))
				}
			}
		}
		t.Logf("%d corpus lines, other matches: %v", lines, extra)
		if len(extra) > 0 {
			t.Errorf("unexpected matches in the corpus: %v", extra)
		}
	})
}

// confGoodSecrets are the credentials Prometheus' configuration-parser test file
// (scrape/conf.good.yml) is written with: the only secrets the rest of the corpus holds.
var confGoodSecrets = []string{
	"456", `multiline\nmysecret\ntest`, "mysecret", "abcdef", "testAppSecret", "hole",
	"11111111-1111-1111-1111-111111111111", "mysecret_private_key",
}

func TestCorpusFalsePositives(t *testing.T) {
	t.Parallel()
	ps := patterns(t)

	t.Run("The rest of the corpus (rules, dashboards, scrape and shipper configurations, API documentation) holds no secret but the credentials of Prometheus' configuration test file.", func(t *testing.T) {
		root := filepath.Dir(corpusDir(t))
		lines, keywordLines, files, found := 0, 0, 0, map[string]int{}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() {
				// The secrets are counted by TestCorpusRecall; licenses are not data.
				if rel == "secrets" || rel == "LICENSES" {
					return filepath.SkipDir
				}
				return nil
			}
			files++
			for _, line := range readLines(t, path) {
				lines++
				if hasKeyword(line, ps) {
					keywordLines++
				}
				for _, m := range secrets.Scan(line, ps) {
					found[m.Pattern]++
					if rel != filepath.Join("scrape", "conf.good.yml") || !slices.Contains(confGoodSecrets, line[m.Start:m.End]) {
						t.Errorf("%s: %s matches\n  %s", rel, m.Pattern, secrets.Mask(line, ps))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d lines of %d files scanned, %d of them with a keyword; matches (all in scrape/conf.good.yml): %v", lines, files, keywordLines, found)
	})
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading the corpus: %v", err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// gitleaksRules reads id and regex of every rule of gitleaks.toml. The file is generated: each
// rule has one id line and one regex line, a TOML literal string in triple quotes, which is
// all this needs of TOML.
func gitleaksRules(t testing.TB) map[string]string {
	t.Helper()
	rules := map[string]string{}
	id := ""
	for _, line := range readLines(t, filepath.Join(corpusDir(t), "gitleaks.toml")) {
		switch {
		case line == "[[rules]]":
			id = ""
		case strings.HasPrefix(line, `id = "`):
			id = strings.TrimSuffix(strings.TrimPrefix(line, `id = "`), `"`)
		case strings.HasPrefix(line, "regex = '''") && id != "":
			rules[id] = strings.TrimSuffix(strings.TrimPrefix(line, "regex = '''"), "'''")
		}
	}
	if len(rules) < 200 {
		t.Fatalf("only %d rules read from gitleaks.toml", len(rules))
	}
	return rules
}

// Where a pattern deliberately accepts less than the gitleaks rules it adapts.
var (
	// notComparable rules are not sampled: their random strings are not secrets of the kind.
	notComparable = map[string]string{
		"jwt": "gitleaks takes any ey… segments with / and \\; a JWT's header and payload are base64url JSON objects, eyJ…",
	}
	// outOfScope samples are left out of the recall of a rule.
	outOfScope = map[string]*regexp.Regexp{
		"stripe-access-token": regexp.MustCompile(`_test_`), // test-mode keys move no money
	}
)

// samplesPerRule strings are drawn from each upstream rule's regular expression.
const samplesPerRule = 200

// lineTemplates put a drawn secret where logs have them: a logfmt value, a JSON string, text.
var lineTemplates = []string{
	`level=info ts=2024-05-01T10:00:00Z caller=client.go:112 msg="calling upstream" credential=%s attempt=2`,
	`{"level":"info","msg":"calling upstream","credential":"%s","attempt":2}`,
	`2024-05-01 10:00:00 WARN upstream rejected %s (attempt 2)`,
}

func TestGitleaksRecall(t *testing.T) {
	t.Parallel()
	ps := patterns(t)
	rules := gitleaksRules(t)

	t.Run("Every upstream rule a pattern names exists in gitleaks.toml.", func(t *testing.T) {
		for _, p := range ps {
			for _, up := range p.Upstream {
				if _, ok := rules[up]; !ok {
					t.Errorf("%s: upstream %q is not a gitleaks rule", p.ID, up)
				}
			}
		}
	})

	t.Run("Strings drawn from the regular expressions of the adapted gitleaks rules are found by the pattern adapting them.", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		var report []string
		for _, p := range ps {
			for _, up := range p.Upstream {
				if why, ok := notComparable[up]; ok {
					report = append(report, fmt.Sprintf("%s ← %s: not sampled (%s)", p.ID, up, why))
					continue
				}
				re, err := syntax.Parse(rules[up], syntax.Perl)
				if err != nil {
					t.Errorf("%s: %v", up, err)
					continue
				}
				inScope, found, skipped := 0, 0, 0
				var missed []string
				for i := range samplesPerRule {
					var b strings.Builder
					draw(re, r, &b)
					secret := b.String()
					if oos := outOfScope[up]; oos != nil && oos.MatchString(secret) {
						skipped++
						continue
					}
					inScope++
					line := fmt.Sprintf(lineTemplates[i%len(lineTemplates)], secret)
					if slices.ContainsFunc(secrets.Scan(line, ps), func(m secrets.Match) bool { return m.Pattern == p.ID }) {
						found++
					} else if len(missed) < 3 {
						missed = append(missed, line)
					}
				}
				entry := fmt.Sprintf("%s ← %s: %d/%d", p.ID, up, found, inScope)
				if skipped > 0 {
					entry += fmt.Sprintf(" (%d out of scope)", skipped)
				}
				report = append(report, entry)
				// A Slack app token may be drawn shorter than any real one (xapp-0-o-8-d); all
				// else must match.
				if float64(found) < 0.98*float64(inScope) {
					t.Errorf("%s misses %d of %d strings of gitleaks' %s, e.g.\n  %s", p.ID, inScope-found, inScope, up, strings.Join(missed, "\n  "))
				}
			}
		}
		t.Logf("recall on %d strings drawn per gitleaks rule:\n  %s", samplesPerRule, strings.Join(report, "\n  "))
	})
}

// draw appends a random string matching re. Characters are printable ASCII so that the
// string fits in one log line, a dot stands for itself (gitleaks writes hooks.slack.com with
// bare dots), case-insensitive literals are lower case, and unbounded repetitions stay short.
func draw(re *syntax.Regexp, r *rand.Rand, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(foldCase(re, string(re.Rune)))
	case syntax.OpCharClass:
		var in []rune
		for c := rune(0x20); c <= 0x7e; c++ {
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= c && c <= re.Rune[i+1] {
					in = append(in, c)
					break
				}
			}
		}
		if len(in) > 0 {
			b.WriteString(foldCase(re, string(in[r.IntN(len(in))])))
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('.')
	case syntax.OpCapture:
		draw(re.Sub[0], r, b)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			draw(sub, r, b)
		}
	case syntax.OpAlternate:
		draw(re.Sub[r.IntN(len(re.Sub))], r, b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			lo, hi = 0, -1
		case syntax.OpPlus:
			lo, hi = 1, -1
		case syntax.OpQuest:
			lo, hi = 0, 1
		}
		if hi < 0 {
			hi = lo + 8
		}
		for range lo + r.IntN(hi-lo+1) {
			draw(re.Sub[0], r, b)
		}
	}
	// Anchors and word boundaries produce nothing; the templates surround the string with
	// separators.
}

// foldCase lowers s when re ignores case: gitleaks makes some rules case-insensitive
// ((?i)xapp-, (?i)xoxe.xox[bp]-), but the services issue these prefixes in lower case, and
// the parser would otherwise hand out upper-case literals.
func foldCase(re *syntax.Regexp, s string) string {
	if re.Flags&syntax.FoldCase != 0 {
		return strings.ToLower(s)
	}
	return s
}

package fluentbit

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/rulesets"
)

func TestEveryBuiltInPatternIsTranslated(t *testing.T) {
	// A pattern added to rulesets/secrets.yaml that the filter cannot carry fails here (and
	// makes Files, hence generate, fail), instead of being left out of masking.lua.
	all := secretPatterns(t)
	ts, err := Translate(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(all) {
		t.Fatalf("%d translations for %d patterns", len(ts), len(all))
	}
	for i, tr := range ts {
		if tr.ID != all[i].ID || tr.Find == nil || len(tr.Allow) != len(all[i].Allow) {
			t.Errorf("%s: translation %+v", all[i].ID, tr)
		}
		t.Logf("%s: %d instructions, %d allow programs, first bytes %q", tr.ID, len(tr.Find.Op), len(tr.Allow), tr.Find.First)
	}
}

func TestAPatternThatCannotBeTranslatedFailsTheFilter(t *testing.T) {
	huge := strings.Repeat(`[a-z]{1000}`, 11) // more instructions than the matcher accepts
	cases := []struct {
		name, regex, allow, reason string
	}{
		{"A regular expression too large for the matcher is an error.", `key=(` + huge + `)`, "", "instructions"},
		{"An allow expression too large for the matcher is an error.", `key=(\w+)`, huge, "allow"},
		{"A regular expression without a group for the secret is an error.", `key=\w+`, "", "no capture group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := rulesets.SecretPattern{ID: "test", Regex: regexp.MustCompile(c.regex), Keywords: []string{"key"}}
			if c.allow != "" {
				p.Allow = []*regexp.Regexp{regexp.MustCompile(c.allow)}
			}
			ps := append(secretPatterns(t), p)
			if _, err := Translate(ps); err == nil || !strings.Contains(err.Error(), c.reason) || !strings.Contains(err.Error(), "pattern test") {
				t.Errorf("Translate: %v, want an error naming the pattern and %q", err, c.reason)
			}
			if files, err := Files(ps); err == nil {
				t.Errorf("Files wrote %d files", len(files))
			}
		})
	}
}

func TestCompileRegex(t *testing.T) {
	t.Run("A case-insensitive letter matches every rune of its case-folding orbit, as Go's does.", func(t *testing.T) {
		p, err := compileRegex(`(?i)k`)
		if err != nil {
			t.Fatal(err)
		}
		want := []rune{'K', 'K', 'k', 'k', 0x212a, 0x212a}
		if !slices.ContainsFunc(p.Sets, func(s []rune) bool { return slices.Equal(s, want) }) {
			t.Errorf("sets %v, want one of %v", p.Sets, want)
		}
	})
	t.Run("The optional copies of a bounded repetition share one set.", func(t *testing.T) {
		p, err := compileRegex(`x([0-9a-f]{4,200})`)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Sets) != 2 || len(p.Op) < 200 {
			t.Errorf("%d sets for %d instructions", len(p.Sets), len(p.Op))
		}
	})
	cases := []struct {
		name, expr, first string
	}{
		{"A match's first bytes are a Lua set.", `\b(?:AKIA|ASIA)x`, "[A]"},
		{"Case folding adds the lead bytes of the other runes of the orbit.", `(?i)s`, "[Ss\\192-\\255]"},
		{"An expression that matches the empty string can start anywhere.", `a*`, ""},
		{"An expression whose first rune may be U+FFFD can start anywhere: Go reads an invalid byte as one.", `[^a]b`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := compileRegex(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.NewReplacer("\xc0", `\192`, "\xff", `\255`).Replace(p.First); got != c.first {
				t.Errorf("%s: first %q, want %q", c.expr, got, c.first)
			}
		})
	}
}

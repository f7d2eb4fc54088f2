package fluentbit

import (
	"slices"
	"strings"
	"testing"
)

func TestTranslateRegex(t *testing.T) {
	cases := []struct {
		name   string
		expr   string
		secret bool
		want   []string
		notes  int
	}{
		{"A literal keeps its letters and escapes Lua's magic characters.", `a\.b\(c\)-d%e`, false, []string{`a%.b%(c%)%-d%%e`}, 0},
		{"A class becomes a Lua set with ranges for letters and digits.", `[A-Z0-9_+/-]`, false, []string{`[%+%-%/0-9A-Z%_]`}, 0},
		{"A negated class becomes a negated set that lets non-ASCII bytes through.", `[^\s"']`, false, []string{`[^%	%
%` + "\f" + `%` + "\r" + `% %"%']`}, 0},
		{"Star, plus and question mark apply to a single item.", `a*b+c?`, false, []string{`a*b+c?`}, 0},
		{"A lazy star becomes Lua's minus.", `a.*?b`, false, []string{"a[^%\n]-b"}, 0},
		{"A small bounded repetition is spelled out with optional copies.", `x{2,4}`, false, []string{`xxx?x?`}, 0},
		{"A large bounded repetition is widened and noted.", `x{2,40}`, false, []string{`xxx*`}, 1},
		{"A top-level alternation becomes one pattern per alternative.", `foo|bar`, false, []string{`foo`, `bar`}, 0},
		{"An alternation inside a concatenation multiplies the patterns.", `(?:ab|c)-(?:d|ef)`, false, []string{`ab%-d`, `ab%-ef`, `c%-d`, `c%-ef`}, 0},
		{"An optional group becomes a pattern with it and one without.", `k(?:ey)?=`, false, []string{`key=`, `k=`}, 0},
		{"Case-insensitive letters become two-letter sets.", `(?i)ab1`, false, []string{`[Aa][Bb]1`}, 0},
		{"A case-insensitive class holds both cases and nothing non-ASCII.", `(?i)[a-c]`, false, []string{`[A-Ca-c]`}, 0},
		{"Anchors stay at the ends.", `^x$`, false, []string{`^x$`}, 0},
		{"An anchor inside an alternative at the start stays.", `(?:^|")k`, false, []string{`^k`, `"k`}, 0},
		{"The secret group becomes a pair of position captures.", `key=([0-9]+)`, true, []string{`key=()[0-9]+()`}, 0},
		{"Named secret groups in several alternatives each become one pattern.", `a=(?P<secret>x+)|b:(?P<secret>y+)`, true, []string{`a=()x+()`, `b:()y+()`}, 0},
		{"A word boundary before a word character becomes a frontier entering a word.", `\bAKIA([A-Z]{2})\b`, true, []string{`%f[%w_]AKIA()[A-Z][A-Z]()%f[^%w_]`}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := translateRegex(c.expr, c.secret)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.patterns, c.want) {
				t.Errorf("%s: got %q, want %q", c.expr, got.patterns, c.want)
			}
			if len(got.notes) != c.notes {
				t.Errorf("%s: notes %q, want %d", c.expr, got.notes, c.notes)
			}
		})
	}
}

func TestTranslateRegexRefuses(t *testing.T) {
	cases := []struct {
		name, expr, reason string
		secret             bool
	}{
		{"A repeated group has no Lua form.", `(?:ab|c)*`, "repetition of a group", false},
		{"A word boundary next to optional characters has no Lua form.", `x?\by?`, `\b between`, false},
		{"A multi-line anchor has no Lua form.", `(?m)^x`, "multi-line", false},
		{"An anchor in the middle has no Lua form.", `a(?:^|b)`, "^ after the start", false},
		{"A secret expression with a way around the secret group is refused.", `a(x)|b`, "without exactly one secret group", true},
		{"A class with some non-ASCII letters has no Lua form.", `[a-zé]`, "non-ASCII", false},
		{"Too many alternatives are refused.", strings.Repeat(`(?:ab|cd)`, 9), "more than 256", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := translateRegex(c.expr, c.secret)
			if err == nil {
				t.Fatalf("%s: translated to %q", c.expr, got.patterns)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("%s: %v, want a reason with %q", c.expr, err, c.reason)
			}
		})
	}
}

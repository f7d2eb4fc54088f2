// Package secrets finds and masks secrets in log lines with the patterns of
// rulesets/secrets.yaml.
//
// A line is only run through a pattern's regular expression when it holds one of the
// pattern's keywords; the same keywords make the LogQL line filter (LineFilter) that keeps
// Loki from sending lines that cannot match. Nothing here logs or keeps a line: callers get
// spans, masked lines and counts.
package secrets

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blindspot-dev/blindspot/rulesets"
)

// Match is one secret found in a line.
type Match struct {
	Pattern string // the pattern's id
	// Start and End are the byte offsets of the secret in the line. They are equal when the
	// pattern recognises a secret whose value is not on the line (a private key's header).
	Start, End int
}

// Scan returns the secrets of every pattern in line, ordered by position, then pattern id.
// Spans of different patterns may overlap (a GitHub token in a URL's password).
func Scan(line string, patterns []rulesets.SecretPattern) []Match {
	var out []Match
	// Keywords are lower case (rulesets checks), so one lowered copy serves every pattern.
	lower := strings.ToLower(line)
	for i := range patterns {
		out = scanPattern(out, line, lower, &patterns[i])
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), strings.Compare(a.Pattern, b.Pattern))
	})
	return out
}

func scanPattern(out []Match, line, lower string, p *rulesets.SecretPattern) []Match {
	if !slices.ContainsFunc(p.Keywords, func(k string) bool { return strings.Contains(lower, k) }) {
		return out
	}
	for _, loc := range p.Regex.FindAllStringSubmatchIndex(line, -1) {
		start, end, ok := secretSpan(loc)
		if !ok || allowed(line[start:end], p.Allow) {
			continue
		}
		out = append(out, Match{Pattern: p.ID, Start: start, End: end})
	}
	return out
}

// secretSpan is the span of the capture group that took part in the match: every group of a
// pattern holds the secret, and a match fills one.
func secretSpan(loc []int) (start, end int, ok bool) {
	for g := 2; g+1 < len(loc); g += 2 {
		if loc[g] >= 0 {
			return loc[g], loc[g+1], true
		}
	}
	return 0, 0, false
}

func allowed(secret string, allow []*regexp.Regexp) bool {
	return slices.ContainsFunc(allow, func(re *regexp.Regexp) bool { return re.MatchString(secret) })
}

// hiddenLength is how many asterisks replace a secret whose length is not to be shown.
const hiddenLength = 4

// Mask returns line with every secret of every pattern replaced by asterisks: one per
// character, or four for patterns that hide the length. Whatever a pattern matches outside
// its capture group (a key name, a known prefix such as AKIA) stays.
func Mask(line string, patterns []rulesets.SecretPattern) string {
	masked, _ := mask(line, Scan(line, patterns), hidesLength(patterns))
	return masked
}

func hidesLength(patterns []rulesets.SecretPattern) map[string]bool {
	hide := map[string]bool{}
	for _, p := range patterns {
		hide[p.ID] = p.HideLength
	}
	return hide
}

// mask replaces the spans of ms (sorted by Scan) in line. Overlapping spans are replaced as
// one, hiding the length if any of them does. It also returns where each match's
// replacement starts in the masked line.
func mask(line string, ms []Match, hide map[string]bool) (string, []int) {
	var b strings.Builder
	at := make([]int, len(ms))
	done := 0 // bytes of line written or replaced
	for i := 0; i < len(ms); {
		start, end, hidden := ms[i].Start, ms[i].End, hide[ms[i].Pattern]
		j := i + 1
		for ; j < len(ms) && ms[j].Start < end; j++ {
			end = max(end, ms[j].End)
			hidden = hidden || hide[ms[j].Pattern]
		}
		b.WriteString(line[done:start])
		for k := i; k < j; k++ {
			at[k] = b.Len()
		}
		if end > start {
			n := hiddenLength
			if !hidden {
				n = utf8.RuneCountInString(line[start:end])
			}
			b.WriteString(strings.Repeat("*", n))
		}
		done, i = end, j
	}
	b.WriteString(line[done:])
	return b.String(), at
}

// LineFilter is the LogQL line filter that passes the lines holding a keyword of any pattern,
// e.g. |~ "(?i)(akia)|(ghp_)|(password)"; "" when there are no patterns. LogQL strings follow
// Go's quoting, so strconv.Quote keeps the regular expression's backslashes intact.
//
// One group per keyword rather than (?i)(akia|ghp_|password): Go's parser factors common
// prefixes out of an alternation (secret|sk_live_ becomes s(?:ecret|k_live_)), and Loki 1.x,
// which turns such filters into substring tests, drops the case-insensitivity of factored
// branches and so loses lines. Each keyword in its own group stays a literal that every Loki
// version tests as a case-insensitive substring.
func LineFilter(patterns []rulesets.SecretPattern) string {
	var keywords []string
	for _, p := range patterns {
		for _, k := range p.Keywords {
			keywords = append(keywords, "("+regexp.QuoteMeta(k)+")")
		}
	}
	if len(keywords) == 0 {
		return ""
	}
	slices.Sort(keywords)
	keywords = slices.Compact(keywords)
	return "|~ " + strconv.Quote("(?i)"+strings.Join(keywords, "|"))
}

// PatternResult is what the lines given to Classify show of one pattern.
type PatternResult struct {
	// Count is the number of lines holding at least one secret of the pattern.
	Count int
	// Example is the first such line with every secret of every pattern masked, cut to about
	// MaxExample bytes around the pattern's first secret.
	Example string
}

// MaxExample bounds the length of an example line: a report needs the context of a secret,
// not a whole stack trace.
const MaxExample = 240

// exampleLead is how much of a long line an example shows before the secret.
const exampleLead = 80

// Classify reports, per pattern id, how many of lines hold a secret of the pattern, with a
// masked example. Patterns no line matches are absent.
func Classify(lines []string, patterns []rulesets.SecretPattern) map[string]PatternResult {
	out := map[string]PatternResult{}
	hide := hidesLength(patterns)
	for _, line := range lines {
		ms := Scan(line, patterns)
		if len(ms) == 0 {
			continue
		}
		var masked string
		var at []int
		seen := map[string]bool{}
		for i, m := range ms {
			if seen[m.Pattern] {
				continue
			}
			seen[m.Pattern] = true
			r := out[m.Pattern]
			r.Count++
			if r.Example == "" {
				if at == nil {
					masked, at = maskEveryOccurrence(line, ms, hide)
				}
				r.Example = excerpt(masked, at[i])
			}
			out[m.Pattern] = r
		}
	}
	return out
}

// maskEveryOccurrence masks a line for a report's example: the spans of ms, and every other
// occurrence of each secret value on the line ("password":"S3cret","password_confirmation":
// "S3cret" masks both, though the pattern matched the first). Mask, which the generated
// agent configurations reproduce byte for byte, masks the matched spans only; the example is
// stricter because it is shown to people. It returns where each match of ms starts in the
// masked line, as mask does.
func maskEveryOccurrence(line string, ms []Match, hide map[string]bool) (string, []int) {
	type indexed struct {
		Match
		orig int // index in ms, or -1 for an occurrence found here
	}
	all := make([]indexed, 0, len(ms))
	for i, m := range ms {
		all = append(all, indexed{m, i})
	}
	for _, m := range ms {
		value := line[m.Start:m.End]
		if value == "" {
			continue
		}
		for off := 0; ; {
			i := strings.Index(line[off:], value)
			if i < 0 {
				break
			}
			start := off + i
			all = append(all, indexed{Match{Pattern: m.Pattern, Start: start, End: start + len(value)}, -1})
			off = start + len(value)
		}
	}
	slices.SortStableFunc(all, func(a, b indexed) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), strings.Compare(a.Pattern, b.Pattern))
	})
	plain := make([]Match, len(all))
	for i, m := range all {
		plain[i] = m.Match
	}
	masked, at := mask(line, plain, hide)
	out := make([]int, len(ms))
	for i, m := range all {
		if m.orig >= 0 {
			out[m.orig] = at[i]
		}
	}
	return masked, out
}

// excerpt cuts a masked line to at most MaxExample bytes (plus ellipses) so that the
// replacement at pos is in view. Cutting a masked line cannot reveal anything.
func excerpt(masked string, pos int) string {
	if len(masked) <= MaxExample {
		return masked
	}
	start := max(0, min(pos-exampleLead, len(masked)-MaxExample))
	end := start + MaxExample
	for start > 0 && !utf8.RuneStart(masked[start]) {
		start++
	}
	for end < len(masked) && !utf8.RuneStart(masked[end]) {
		end--
	}
	out := masked[start:end]
	if start > 0 {
		out = "…" + out
	}
	if end < len(masked) {
		out += "…"
	}
	return out
}

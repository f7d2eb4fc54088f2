package loki

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ValidLabelName checks a label name against Loki's rule (Prometheus' legacy names):
// [a-zA-Z_][a-zA-Z0-9_]*. Only valid names are written into LogQL.
func ValidLabelName(name string) error {
	if name == "" {
		return fmt.Errorf("invalid label name %q: empty", name)
	}
	for i, r := range name {
		ok := r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9'
		if !ok {
			return fmt.Errorf("invalid label name %q", name)
		}
	}
	return nil
}

// matcher is one label matcher of a stream selector.
type matcher struct {
	name, op, value string
}

func (m matcher) String() string {
	// LogQL string literals are Go string literals, so strconv.Quote escapes any value.
	return m.name + m.op + strconv.Quote(m.value)
}

// selectorOf builds a stream selector. Names must have been validated.
func selectorOf(ms ...matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// StreamSelector is the exact selector of a stream, labels sorted by name:
// {env="prod", job="api"}. It fails on a label name that is not valid.
func StreamSelector(labels map[string]string) (string, error) {
	names := make([]string, 0, len(labels))
	for n := range labels {
		if err := ValidLabelName(n); err != nil {
			return "", err
		}
		names = append(names, n)
	}
	slices.Sort(names)
	ms := make([]matcher, len(names))
	for i, n := range names {
		ms[i] = matcher{n, "=", labels[n]}
	}
	return selectorOf(ms...), nil
}

// hasLabel selects every stream that carries the label: {name=~".+"}. Loki refuses selectors
// that match the empty string only, which this one does not.
func hasLabel(name string) string {
	return selectorOf(matcher{name, "=~", ".+"})
}

// lineFilterPrefix starts the line filters this package sends: a regular expression filter.
const lineFilterPrefix = "|~ "

// portableLineFilter rewrites a `|~ "<regexp>"` line filter so that no literal of the regular
// expression is case-insensitive: (?i)(passwd|password) becomes
// (?:[Pp][Aa][Ss][Ss][Ww](?:[Dd]|[Oo][Rr][Dd])). Loki before 2.8 or so (1.6.1 certainly)
// simplifies a case-insensitive alternation whose branches share a prefix into a
// case-sensitive "contains" of the upper-cased literal, and so misses password=… entirely;
// character classes are never simplified that way. A filter of another form is returned as it is.
func portableLineFilter(filter string) (string, error) {
	quoted, ok := strings.CutPrefix(filter, lineFilterPrefix)
	if !ok {
		return filter, nil
	}
	re, err := strconv.Unquote(quoted)
	if err != nil {
		return "", fmt.Errorf("line filter %s: %w", filter, err)
	}
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("line filter %s: %w", filter, err)
	}
	unfoldCase(parsed)
	return lineFilterPrefix + strconv.Quote(parsed.String()), nil
}

// unfoldCase replaces every case-insensitive literal of re by a sequence of character classes
// holding each rune's case variants.
func unfoldCase(re *syntax.Regexp) {
	for _, sub := range re.Sub {
		unfoldCase(sub)
	}
	if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase == 0 {
		return
	}
	flags := re.Flags &^ syntax.FoldCase
	subs := make([]*syntax.Regexp, len(re.Rune))
	for i, r := range re.Rune {
		variants := []rune{r}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			variants = append(variants, f)
		}
		if len(variants) == 1 {
			subs[i] = &syntax.Regexp{Op: syntax.OpLiteral, Flags: flags, Rune: []rune{r}}
			continue
		}
		slices.Sort(variants)
		class := make([]rune, 0, 2*len(variants))
		for _, v := range variants {
			class = append(class, v, v)
		}
		subs[i] = &syntax.Regexp{Op: syntax.OpCharClass, Flags: flags, Rune: class}
	}
	*re = syntax.Regexp{Op: syntax.OpConcat, Flags: flags, Sub: subs}
	if len(subs) == 1 {
		*re = *subs[0]
	}
}

// logQuery appends a line filter (`|~ "…"`, as built by secrets.LineFilter) to a selector.
func logQuery(selector, lineFilter string) string {
	if lineFilter == "" {
		return selector
	}
	return selector + " " + lineFilter
}

// countByStream counts the lines of the selected streams over the window, one series per
// stream: sum by (<every stream label>) (count_over_time(<log query> [<window>])). The sum
// keeps one series per stream where Loki 3 would split a stream by its structured metadata.
func countByStream(labelNames []string, logQuery string, window time.Duration) string {
	return fmt.Sprintf("sum by (%s) (count_over_time(%s [%s]))", strings.Join(labelNames, ", "), logQuery, rangeDuration(window))
}

// rangeDuration writes a window as whole seconds (at least 1s): Loki 1.x parses only single-
// unit durations, so 1h30m becomes 5400s.
func rangeDuration(d time.Duration) string {
	return strconv.FormatInt(max(int64(d/time.Second), 1), 10) + "s"
}

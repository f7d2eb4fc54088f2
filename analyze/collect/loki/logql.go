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

package fluentbit

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Lua patterns (what Fluent Bit's embedded LuaJIT matches with) have single-byte items with
// the quantifiers * + - ?, sets, captures, frontiers and anchors at either end, but no
// alternation and no quantified groups. A regular expression is translated into one Lua
// pattern per way through its alternations and optional groups; whatever has no Lua form is
// an error that names the construct.

// maxVariants bounds the number of Lua patterns one expression may expand into.
const maxVariants = 256

// maxOptional is the most optional copies a bounded repetition {n,m} is expanded into. LuaJIT
// nests one call per optional item and gives up beyond 200 ("pattern too complex"), so a
// larger upper bound is widened to {n,}: the Lua pattern then masks an over-long run the
// regular expression would leave alone, which errs on the side of masking.
const maxOptional = 12

// byteSet is the set of bytes one Lua item matches.
type byteSet [256]bool

type pieceKind int

const (
	pieceItem         pieceKind = iota // one byte of set, quantified by quant
	pieceCapOpen                       // start of the secret: a position capture
	pieceCapClose                      // end of the secret: a position capture
	pieceBegin                         // ^
	pieceEnd                           // $
	pieceWordBoundary                  // \b, resolved to a frontier once its neighbours are known
)

type piece struct {
	kind  pieceKind
	set   byteSet
	quant string // "", "*", "+", "-", "?"
}

type variant []piece

// translation is the Lua form of one regular expression.
type translation struct {
	patterns []string
	notes    []string // where the Lua patterns are looser than the expression
}

// translateRegex turns an RE2 expression into Lua patterns. With secret set, every pattern
// must hold exactly one capture (the secret), which becomes a pair of position captures.
func translateRegex(expr string, secret bool) (translation, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return translation{}, fmt.Errorf("parsing: %w", err)
	}
	tr := &translator{}
	vs, err := tr.node(re)
	if err != nil {
		return translation{}, err
	}
	var out translation
	seen := map[string]bool{}
	for _, v := range vs {
		p, err := render(v, secret)
		if err != nil {
			return translation{}, err
		}
		if !seen[p] {
			seen[p] = true
			out.patterns = append(out.patterns, p)
		}
	}
	out.notes = tr.notes
	return out, nil
}

type translator struct {
	notes []string
}

func (tr *translator) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	for _, m := range tr.notes {
		if m == n {
			return
		}
	}
	tr.notes = append(tr.notes, n)
}

func single(set byteSet) []variant { return []variant{{{kind: pieceItem, set: set}}} }

func (tr *translator) node(re *syntax.Regexp) ([]variant, error) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []variant{{}}, nil
	case syntax.OpLiteral:
		return literal(re)
	case syntax.OpCharClass:
		set, err := classSet(re.Rune)
		if err != nil {
			return nil, err
		}
		return single(set), nil
	case syntax.OpAnyCharNotNL:
		var set byteSet
		for i := range set {
			set[i] = i != '\n'
		}
		return single(set), nil
	case syntax.OpAnyChar:
		var set byteSet
		for i := range set {
			set[i] = true
		}
		return single(set), nil
	case syntax.OpBeginText:
		return []variant{{{kind: pieceBegin}}}, nil
	case syntax.OpEndText:
		return []variant{{{kind: pieceEnd}}}, nil
	case syntax.OpBeginLine, syntax.OpEndLine:
		return nil, errors.New("multi-line anchors (?m) have no Lua form")
	case syntax.OpWordBoundary:
		return []variant{{{kind: pieceWordBoundary}}}, nil
	case syntax.OpNoWordBoundary:
		return nil, errors.New(`\B has no Lua form`)
	case syntax.OpCapture:
		inner, err := tr.node(re.Sub[0])
		if err != nil {
			return nil, err
		}
		return product([]variant{{{kind: pieceCapOpen}}}, inner, []variant{{{kind: pieceCapClose}}})
	case syntax.OpConcat:
		out := []variant{{}}
		for _, sub := range re.Sub {
			vs, err := tr.node(sub)
			if err != nil {
				return nil, err
			}
			if out, err = product(out, vs); err != nil {
				return nil, err
			}
		}
		return out, nil
	case syntax.OpAlternate:
		var out []variant
		for _, sub := range re.Sub {
			vs, err := tr.node(sub)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		if len(out) > maxVariants {
			return nil, fmt.Errorf("more than %d alternatives", maxVariants)
		}
		return out, nil
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		min, max := 0, -1
		if re.Op == syntax.OpPlus {
			min = 1
		}
		if re.Op == syntax.OpQuest {
			max = 1
		}
		return tr.repeat(re, min, max)
	case syntax.OpRepeat:
		return tr.repeat(re, re.Min, re.Max)
	}
	return nil, fmt.Errorf("%s has no Lua form", re)
}

// repeat translates sub{min,max} (max -1: unbounded).
func (tr *translator) repeat(re *syntax.Regexp, min, max int) ([]variant, error) {
	inner, err := tr.node(re.Sub[0])
	if err != nil {
		return nil, err
	}
	lazy := re.Flags&syntax.NonGreedy != 0
	if len(inner) == 1 && len(inner[0]) == 1 && inner[0][0].kind == pieceItem && inner[0][0].quant == "" {
		item := inner[0][0]
		var v variant
		for range min {
			v = append(v, item)
		}
		switch {
		case max == -1 && min > 0 && !lazy:
			v[len(v)-1].quant = "+"
		case max == -1 || max-min > maxOptional:
			if max != -1 {
				tr.note("%s: upper bound widened to {%d,}", re, min)
			}
			item.quant = "*"
			if lazy {
				item.quant = "-"
			}
			v = append(v, item)
		case max > min && lazy:
			tr.note("%s: lazy bounded repetition widened to {%d,}", re, min)
			item.quant = "-"
			v = append(v, item)
		default:
			item.quant = "?"
			for range max - min {
				v = append(v, item)
			}
		}
		return []variant{v}, nil
	}
	// A group: only a fixed count or an optional group can be spelled out as variants.
	switch {
	case min == max:
		out := []variant{{}}
		for range min {
			if out, err = product(out, inner); err != nil {
				return nil, err
			}
		}
		return out, nil
	case min == 0 && max == 1:
		return append(inner, variant{}), nil
	}
	return nil, fmt.Errorf("repetition of a group %s has no Lua form", re)
}

// product concatenates every variant of each list with every variant of the next.
func product(lists ...[]variant) ([]variant, error) {
	out := []variant{{}}
	for _, l := range lists {
		if len(out)*len(l) > maxVariants {
			return nil, fmt.Errorf("more than %d alternatives", maxVariants)
		}
		next := make([]variant, 0, len(out)*len(l))
		for _, a := range out {
			for _, b := range l {
				v := make(variant, 0, len(a)+len(b))
				next = append(next, append(append(v, a...), b...))
			}
		}
		out = next
	}
	return out, nil
}

func literal(re *syntax.Regexp) ([]variant, error) {
	fold := re.Flags&syntax.FoldCase != 0
	var v variant
	for _, r := range re.Rune {
		if r < utf8.RuneSelf {
			var set byteSet
			set[r] = true
			if fold && 'a' <= r|0x20 && r|0x20 <= 'z' {
				set[r|0x20], set[r&^0x20] = true, true
			}
			v = append(v, piece{kind: pieceItem, set: set})
			continue
		}
		if fold && strings.ToUpper(string(r)) != strings.ToLower(string(r)) {
			return nil, fmt.Errorf("case-insensitive non-ASCII letter %q has no Lua form", r)
		}
		for _, b := range []byte(string(r)) {
			var set byteSet
			set[b] = true
			v = append(v, piece{kind: pieceItem, set: set})
		}
	}
	return []variant{v}, nil
}

// foldExtras are the non-ASCII runes (?i) adds to ASCII classes: ſ (s) and the Kelvin sign
// (k). A Lua set is bytewise, so they are left out.
var foldExtras = map[rune]bool{0x17f: true, 0x212a: true}

// classSet turns a class into bytes. A class holding every non-ASCII rune (a negated ASCII
// class) matches every byte of their encodings; any other non-ASCII content has no
// bytewise form.
func classSet(ranges []rune) (byteSet, error) {
	var set byteSet
	covered, extras := 0, 0
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
			set[r] = true
		}
		if hi >= utf8.RuneSelf {
			covered += int(hi - max(lo, utf8.RuneSelf) + 1)
			for x := range foldExtras {
				if lo <= x && x <= hi {
					extras++
				}
			}
		}
	}
	switch nonASCII := int(utf8.MaxRune - utf8.RuneSelf + 1); {
	case covered == extras:
	case covered+len(foldExtras)-extras >= nonASCII:
		for b := 0x80; b < 0x100; b++ {
			set[b] = true
		}
	default:
		return set, errors.New("a class with some non-ASCII characters has no Lua form")
	}
	return set, nil
}

func isWord(b int) bool {
	return '0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '_'
}

// side is which side of a word boundary a set lies on: every byte a word byte, none, or mixed.
type side int

const (
	sideMixed side = iota
	sideWord
	sideNonWord
)

func sideOf(s byteSet) side {
	word, nonWord := false, false
	for b, in := range s {
		if in {
			word = word || isWord(b)
			nonWord = nonWord || !isWord(b)
		}
	}
	switch {
	case word && !nonWord:
		return sideWord
	case nonWord && !word:
		return sideNonWord
	}
	return sideMixed
}

// neighbour is the side of the byte next to position i in direction d (+1, -1): the items
// up to the first one every match goes through, captures skipped, must agree. ok is false
// when they do not or there is no such item.
func neighbour(v variant, i, d int) (side, bool) {
	found := sideMixed
	for j := i + d; j >= 0 && j < len(v); j += d {
		switch v[j].kind {
		case pieceCapOpen, pieceCapClose:
			continue
		case pieceItem:
			s := sideOf(v[j].set)
			if s == sideMixed || found != sideMixed && s != found {
				return sideMixed, false
			}
			found = s
			if v[j].quant == "" || v[j].quant == "+" {
				return found, true
			}
			continue
		}
		return sideMixed, false
	}
	return sideMixed, false
}

// Frontiers for \b: entering a word, leaving one.
const (
	frontierWordStart = "%f[%w_]"
	frontierWordEnd   = "%f[^%w_]"
)

// render writes one variant as a Lua pattern.
func render(v variant, secret bool) (string, error) {
	var b strings.Builder
	caps := 0
	for i, p := range v {
		switch p.kind {
		case pieceItem:
			b.WriteString(setLua(p.set))
			b.WriteString(p.quant)
		case pieceCapOpen, pieceCapClose:
			if !secret {
				return "", errors.New("capture group outside the secret")
			}
			caps++
			b.WriteString("()")
		case pieceBegin:
			if i != 0 {
				return "", errors.New("^ after the start has no Lua form")
			}
			b.WriteString("^")
		case pieceEnd:
			if i != len(v)-1 {
				return "", errors.New("$ before the end has no Lua form")
			}
			b.WriteString("$")
		case pieceWordBoundary:
			// A frontier compares the previous and the current byte with a set; \b is one when
			// the side of a neighbour every match goes through is known.
			next, nextSure := neighbour(v, i, 1)
			prev, prevSure := neighbour(v, i, -1)
			switch {
			case nextSure && next == sideWord, prevSure && prev == sideNonWord:
				b.WriteString(frontierWordStart)
			case prevSure && prev == sideWord, nextSure && next == sideNonWord:
				b.WriteString(frontierWordEnd)
			default:
				return "", errors.New(`\b between characters that may or may not be word characters has no Lua form`)
			}
		}
	}
	if secret && caps != 2 {
		return "", errors.New("a way through the expression without exactly one secret group")
	}
	return b.String(), nil
}

// luaMagic are the bytes that must be escaped with % outside a set.
const luaMagic = "^$()%.[]*+-?"

func escapeByte(c int, inSet bool) string {
	switch {
	case c == 0:
		return "%z"
	case isWord(c) && c != '_':
		return string(rune(c))
	case !inSet && !strings.ContainsRune(luaMagic, rune(c)) && c < utf8.RuneSelf:
		return string(rune(c))
	}
	// Inside a set %x stands for x for any non-alphanumeric x; outside only magic bytes need
	// it, but escaping the rest is harmless.
	return "%" + string([]byte{byte(c)})
}

// setLua writes a set as a single byte, ".", or a bracketed set, negated when shorter.
func setLua(s byteSet) string {
	n := 0
	for _, in := range s {
		if in {
			n++
		}
	}
	switch n {
	case 256:
		return "."
	case 1:
		for c, in := range s {
			if in {
				return escapeByte(c, false)
			}
		}
	}
	var b strings.Builder
	b.WriteByte('[')
	members := s
	if n > 128 {
		b.WriteByte('^')
		for i := range members {
			members[i] = !members[i]
		}
	}
	for c := 0; c < 256; {
		if !members[c] {
			c++
			continue
		}
		// Runs of digits or letters of one case are written as ranges; escaped bytes
		// cannot be range ends in Lua.
		end := c
		for end+1 < 256 && members[end+1] && sameRangeClass(c, end+1) {
			end++
		}
		if end-c >= 2 {
			fmt.Fprintf(&b, "%c-%c", c, end)
		} else {
			for x := c; x <= end; x++ {
				b.WriteString(escapeByte(x, true))
			}
		}
		c = end + 1
	}
	b.WriteByte(']')
	return b.String()
}

func sameRangeClass(a, b int) bool {
	class := func(c int) int {
		switch {
		case '0' <= c && c <= '9':
			return 1
		case 'a' <= c && c <= 'z':
			return 2
		case 'A' <= c && c <= 'Z':
			return 3
		}
		return 0
	}
	return class(a) != 0 && class(a) == class(b)
}

package fluentbit

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lua patterns have no alternation, no quantified groups and no bounded repetition, so they
// cannot express every RE2 expression, and a set of Lua patterns run one after the other does
// not pick the matches RE2 picks (leftmost, then first alternative). The filter therefore
// carries the expressions themselves: each is compiled by Go's regexp/syntax into the very
// program Go's regexp runs, and masking.lua runs that program with a port of Go's
// backtracking matcher (regexp/backtrack.go). Every RE2 construct is an instruction of that
// program, so every expression is translated, and matched exactly as Go matches it.

// Operations of a program in masking.lua. Go's four rune instructions (a class, one rune,
// any rune, any rune but newline) are one: a set of rune ranges.
const (
	opAlt   = 0 // try out, then arg
	opCap   = 1 // record the position in capture slot arg
	opEmpty = 2 // zero-width assertion: arg holds syntax.EmptyOp bits
	opMatch = 3
	opFail  = 4
	opNop   = 5
	opRune  = 6 // one rune in set arg
)

// maxInstructions bounds a program: the matcher remembers which (instruction, position)
// pairs failed, so memory and time per line grow with it.
const maxInstructions = 10000

// program is a compiled expression as masking.lua reads it. Instruction indices and set
// indices are 1-based, as Lua arrays are.
type program struct {
	Start   int
	NumCap  int // capture slots, two per group and two for the whole match
	Op      []int
	Out     []int
	Arg     []int
	Sets    [][]rune // rune ranges, lo and hi inclusive, in pairs
	setKeys map[string]int
	// First is a Lua pattern set of the bytes a match can start with, "" when any can (the
	// expression may match the empty string, or its first rune may be an invalid byte), "^"
	// when every match starts at the start of the text.
	First string
}

// compileRegex compiles expr exactly as Go's regexp.Compile does.
func compileRegex(expr string) (*program, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("parsing: %w", err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("compiling: %w", err)
	}
	if len(prog.Inst) > maxInstructions {
		return nil, fmt.Errorf("%d instructions, more than the %d the Lua matcher accepts", len(prog.Inst), maxInstructions)
	}
	p := &program{Start: prog.Start + 1, NumCap: prog.NumCap, setKeys: map[string]int{}}
	for _, inst := range prog.Inst {
		op, arg := 0, 0
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			op, arg = opAlt, int(inst.Arg)+1
		case syntax.InstCapture:
			op, arg = opCap, int(inst.Arg)
		case syntax.InstEmptyWidth:
			op, arg = opEmpty, int(inst.Arg)
		case syntax.InstMatch:
			op = opMatch
		case syntax.InstFail:
			op = opFail
		case syntax.InstNop:
			op = opNop
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			op, arg = opRune, p.set(runeRanges(inst))
		default:
			return nil, fmt.Errorf("instruction %v has no Lua form", inst.Op)
		}
		p.Op = append(p.Op, op)
		p.Out = append(p.Out, int(inst.Out)+1)
		p.Arg = append(p.Arg, arg)
	}
	p.First = firstBytes(prog)
	return p, nil
}

// runeRanges is the set of runes a rune instruction matches, as inst.MatchRune decides it.
func runeRanges(inst syntax.Inst) []rune {
	switch inst.Op {
	case syntax.InstRuneAny:
		return []rune{0, unicode.MaxRune}
	case syntax.InstRuneAnyNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}
	case syntax.InstRune1:
		return []rune{inst.Rune[0], inst.Rune[0]}
	}
	if len(inst.Rune) != 1 {
		return slices.Clone(inst.Rune)
	}
	// A single rune, and with (?i) every rune of its case-folding orbit.
	r0 := inst.Rune[0]
	runes := []rune{r0}
	if syntax.Flags(inst.Arg)&syntax.FoldCase != 0 {
		for r := unicode.SimpleFold(r0); r != r0; r = unicode.SimpleFold(r) {
			runes = append(runes, r)
		}
	}
	slices.Sort(runes)
	var out []rune
	for _, r := range runes {
		if n := len(out); n > 0 && out[n-1]+1 == r {
			out[n-1] = r
			continue
		}
		out = append(out, r, r)
	}
	return out
}

// set returns the 1-based index of ranges in p.Sets, adding it when new: the optional copies
// of a bounded repetition share one.
func (p *program) set(ranges []rune) int {
	var b strings.Builder
	for _, r := range ranges {
		b.WriteString(strconv.Itoa(int(r)))
		b.WriteByte(',')
	}
	if i, ok := p.setKeys[b.String()]; ok {
		return i
	}
	p.Sets = append(p.Sets, ranges)
	p.setKeys[b.String()] = len(p.Sets)
	return len(p.Sets)
}

// firstBytes is the Lua set of the first bytes of the runes a match can start with, which lets
// masking.lua skip, with one string.find, the positions where no match can start. It is ""
// when the expression can match the empty string, or when a match can start with U+FFFD:
// Go reads an invalid byte as U+FFFD, and a byte that continues a character is a position
// of its own only after an invalid one, which a set of bytes cannot tell. Every other
// position it stops at starts a character, as Go steps through the line. A way through the
// expression that begins with \A or ^ adds nothing: masking.lua always tries the start.
func firstBytes(prog *syntax.Prog) string {
	var set byteSet
	seen := map[uint32]bool{}
	var walk func(pc uint32) bool
	walk = func(pc uint32) bool {
		if seen[pc] {
			return true
		}
		seen[pc] = true
		inst := prog.Inst[pc]
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			return walk(inst.Out) && walk(inst.Arg)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(inst.Arg)&syntax.EmptyBeginText != 0 {
				// Only at the start of the text, which exec always tries.
				return true
			}
			return walk(inst.Out)
		case syntax.InstCapture, syntax.InstNop:
			return walk(inst.Out)
		case syntax.InstMatch:
			return false
		case syntax.InstFail:
			return true
		}
		ranges := runeRanges(inst)
		for i := 0; i+1 < len(ranges); i += 2 {
			lo, hi := ranges[i], ranges[i+1]
			if lo <= utf8.RuneError && utf8.RuneError <= hi {
				return false
			}
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				set[r] = true
			}
			if hi >= utf8.RuneSelf {
				// Lead bytes of multi-byte characters.
				for b := 0xc0; b < 0x100; b++ {
					set[b] = true
				}
			}
		}
		return true
	}
	if !walk(uint32(prog.Start)) {
		return ""
	}
	if set == (byteSet{}) {
		// Every match starts at the start.
		return "^"
	}
	return setLua(set)
}

// byteSet is a set of bytes.
type byteSet [256]bool

func isWord(b int) bool {
	return '0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '_'
}

// escapeByte writes c as a member of a Lua pattern set.
func escapeByte(c int) string {
	switch {
	case c == 0:
		return "%z"
	case isWord(c) && c != '_':
		return string(rune(c))
	}
	// Inside a set %x stands for x for any non-alphanumeric x.
	return "%" + string([]byte{byte(c)})
}

// setLua writes a set as a Lua pattern set, negated when shorter.
func setLua(s byteSet) string {
	n := 0
	for _, in := range s {
		if in {
			n++
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
			b.Write([]byte{byte(c), '-', byte(end)})
		} else {
			for x := c; x <= end; x++ {
				b.WriteString(escapeByte(x))
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
		case c >= 0x80:
			return 4
		}
		return 0
	}
	return class(a) != 0 && class(a) == class(b)
}

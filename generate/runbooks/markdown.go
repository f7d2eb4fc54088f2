package runbooks

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/blindspot-dev/blindspot/internal/weblink"
)

// markdownSpecial are the characters escaped anywhere in text: those that start emphasis,
// code, links, images, HTML, headings, tables, strikethrough, math and entities, and the
// braces of the template languages static site generators run over Markdown ({{ … }}).
const markdownSpecial = "\\`*_{}[]#!|<>~$&"

// text escapes s for Markdown text: every character Markdown could read as syntax gets a
// backslash (CommonMark renders an escaped ASCII punctuation character as itself), line
// breaks and other control characters become spaces, and a start that would open a block (a
// list item, a heading underline, indented code) is defused, since a value may start a line
// (a quoted summary).
func text(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case strings.ContainsRune(markdownSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimLeft(b.String(), " ")
	if out != "" && strings.ContainsRune("-+=", rune(out[0])) {
		return "\\" + out
	}
	// An ordered list item: up to nine digits and a dot or parenthesis.
	digits := len(out) - len(strings.TrimLeft(out, "0123456789"))
	if digits > 0 && digits <= 9 && digits < len(out) && (out[digits] == '.' || out[digits] == ')') {
		return out[:digits] + "\\" + out[digits:]
	}
	return out
}

// code renders s as an inline code span whose delimiters are longer than any run of backticks
// in s, so that s cannot end it; line breaks become spaces (a code span cannot hold a blank
// line).
func code(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return `""`
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	// CommonMark strips one space on each side when both are there; padding a value that
	// starts or ends with a backtick or a space keeps it intact.
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// codeBlock is a fenced code block with a fence longer than any run of backticks in its
// content, so that no line of the content can close it.
type codeBlock struct {
	Lang    string
	Content string
}

func (c codeBlock) String() string {
	fence := strings.Repeat("`", max(3, longestRun(c.Content, '`')+1))
	return fence + c.Lang + "\n" + strings.TrimRight(c.Content, "\n") + "\n" + fence
}

func longestRun(s string, c rune) int {
	longest, n := 0, 0
	for _, r := range s {
		if r != c {
			n = 0
			continue
		}
		n++
		longest = max(longest, n)
	}
	return longest
}

// autolink renders u as a Markdown autolink, percent-encoding what an autolink cannot hold; a
// value that is not an absolute http or https URL (weblink.Absolute) is shown as code, not
// linked.
func autolink(u string) string {
	if weblink.Absolute(u) == "" {
		return code(u)
	}
	var b strings.Builder
	for _, c := range []byte(u) {
		if c <= ' ' || c == '<' || c == '>' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return "<" + b.String() + ">"
}

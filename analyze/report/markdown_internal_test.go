package report

import (
	"strings"
	"testing"
)

func TestMarkdownEscape(t *testing.T) {
	t.Run("Hostile values come out as the text they are, not as Markdown or HTML.", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{
			{"node-exporter 10.0.0.1:9100", "node-exporter 10.0.0.1:9100"},
			{"a|b", `a\|b`},
			{"`x`", "\\`x\\`"},
			{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
			{"line1\nline2", `line1\\nline2`},
			{"a\r\nb", `a\\r\\nb`},
			{`\|`, `\\\|`},
			{"\\`", "\\\\\\`"},
			{"[click](https://evil.example)", `\[click\](https://evil.example)`},
			{"![x](https://tracker.example/p.png)", `!\[x\](https://tracker.example/p.png)`},
			{"**bold** _em_ ~~gone~~", `\*\*bold\*\* \_em\_ \~\~gone\~\~`},
			{"$x^2$", `\$x^2\$`},
			{"&lt;b&gt; & co", "&amp;lt;b&amp;gt; &amp; co"},
			{"\x1b[31mred", `\\x1b\[31mred`},
			{"bad \x9b31m", "bad \uFFFD31m"},
		} {
			if got := mdEscape(tc.in); got != tc.want {
				t.Errorf("mdEscape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		}
	})

	t.Run("No escaped value holds a line break, an HTML bracket, or a pipe or backtick Markdown would read.", func(t *testing.T) {
		hostile := []string{
			"a|b", "a\\|b", "a\\\\|b", "`", "``code``", "\\`", "<", ">", "<img src=x onerror=alert(1)>",
			"x\ny", "x\ry", "x\u2028y", "|||", "\\", "\\\\\\", "", "\x00\x7f\u0085\u009b",
		}
		for _, in := range hostile {
			got := mdEscape(in)
			if strings.ContainsAny(got, "\n\r<>") {
				t.Errorf("mdEscape(%q) = %q holds a line break or an HTML bracket", in, got)
			}
			for i := range len(got) {
				if got[i] != '|' && got[i] != '`' {
					continue
				}
				slashes := 0
				for j := i - 1; j >= 0 && got[j] == '\\'; j-- {
					slashes++
				}
				if slashes%2 == 0 {
					t.Errorf("mdEscape(%q) = %q: %q at %d is not escaped", in, got, got[i], i)
				}
			}
		}
	})
}

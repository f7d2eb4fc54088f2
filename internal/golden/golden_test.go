package golden

import (
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	t.Run("Equal contents have no diff.", func(t *testing.T) {
		if d := Diff("a.txt", []byte("x\ny\n"), []byte("x\ny\n")); d != "" {
			t.Errorf("diff of equal contents = %q", d)
		}
	})

	t.Run("A one-line change in a long file shows that line and its context, not the whole file.", func(t *testing.T) {
		var want, got strings.Builder
		for i := range 200 {
			line := "line " + strings.Repeat("x", i%7) + "\n"
			want.WriteString(line)
			if i == 100 {
				line = "changed\n"
			}
			got.WriteString(line)
		}
		d := Diff("testdata/report.txt", []byte(want.String()), []byte(got.String()))
		for _, s := range []string{"--- testdata/report.txt (golden)", "+++ testdata/report.txt (got)", "\n-line xx\n", "\n+changed\n"} {
			if !strings.Contains(d, s) {
				t.Errorf("diff lacks %q:\n%s", s, d)
			}
		}
		if n := strings.Count(d, "\n"); n > 20 {
			t.Errorf("diff of a one-line change has %d lines:\n%s", n, d)
		}
	})
}

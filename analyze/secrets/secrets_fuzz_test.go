package secrets

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blindspot-dev/blindspot/rulesets"
)

// FuzzMask checks the masker on arbitrary lines. The invariant: no detected secret value is
// left in the masked line. Precisely, for every secret Scan finds whose value v holds no
// asterisk, v occurs in the masked line at most as often as it occurs in the parts of the
// line outside every detected secret (a value also written elsewhere on the line, not as a
// secret, may stay there; and a value holding no asterisk cannot straddle a mask). Masking
// also keeps a valid UTF-8 line valid and leaves a line without secrets as it was.
func FuzzMask(f *testing.F) {
	patterns, err := rulesets.SecretPatterns()
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range []string{
		"",
		"password=hunter2 user=bob",
		"key AKIAIOSFODNN7EXAMPLE used",
		"token ghp_abcdefghijklmnopqrstuvwxyz0123456789 pushed",
		"GET https://alice:s3cr3t-pass@example.com/x",
		"Authorization: Bearer abc.def.ghi",
		"-----BEGIN RSA PRIVATE KEY-----",
		`{"api_key":"sk_live_0123456789abcdefghijklmn","pwd":"é"}`,
	} {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ms := Scan(line, patterns)
		masked := Mask(line, patterns)
		if utf8.ValidString(line) && !utf8.ValidString(masked) {
			t.Fatalf("Mask(%q) = %q: not valid UTF-8", line, masked)
		}
		for _, m := range ms {
			if m.Start < 0 || m.End < m.Start || m.End > len(line) {
				t.Fatalf("Scan(%q): span %+v outside the line", line, m)
			}
		}
		outside := outsideSecrets(line, ms)
		for _, m := range ms {
			v := line[m.Start:m.End]
			if v == "" || strings.Contains(v, "*") {
				continue
			}
			left := 0
			for _, s := range outside {
				left += strings.Count(s, v)
			}
			if n := strings.Count(masked, v); n > left {
				t.Fatalf("Mask(%q) = %q still holds the %s secret %q (%d times, %d outside secrets)", line, masked, m.Pattern, v, n, left)
			}
		}
		if len(ms) == 0 && masked != line {
			t.Fatalf("Mask(%q) = %q changed a line without secrets", line, masked)
		}
	})
}

// outsideSecrets returns the parts of line that no match of ms (sorted by Scan) covers.
func outsideSecrets(line string, ms []Match) []string {
	var out []string
	done := 0
	for _, m := range ms {
		if m.Start > done {
			out = append(out, line[done:m.Start])
		}
		done = max(done, m.End)
	}
	return append(out, line[done:])
}

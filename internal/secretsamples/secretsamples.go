// Package secretsamples makes the log lines the masking tests run through every engine
// (Go, the Fluent Bit filter under LuaJIT, Promtail, the Alloy, Vector and OTTL
// replacements): the samples of rulesets/secrets.yaml embedded the way agents see lines, edge
// cases the samples do not show, and random splices of both.
package secretsamples

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/rulesets"
)

// Realistic embeds a sample the way shippers and applications hand lines to an agent: as
// is, after a CRI prefix, JSON-escaped in a Docker json-file record, quoted in a logfmt field,
// followed by more fields, and twice in one multi-line record.
func Realistic(line string) []string {
	j, _ := json.Marshal(line + "\n")
	return []string{
		line,
		"2024-05-01T10:00:00.123456789Z stdout F " + line,
		`{"log":` + string(j) + `,"stream":"stderr","time":"2024-05-01T10:00:00.123Z"}`,
		"level=info caller=main.go:12 msg=" + strconv.Quote(line) + " user=x",
		line + " user=x",
		line + "\n" + line,
	}
}

// Samples are every positive and negative sample of the patterns, each as Realistic makes it.
func Samples(ps ...rulesets.SecretPattern) []string {
	var out []string
	for _, p := range ps {
		for _, l := range append(slices.Clone(p.Positive), p.Negative...) {
			out = append(out, Realistic(l)...)
		}
	}
	return out
}

// EdgeLines are lines written for what the samples do not show: the leak masking exists for
// (DB_PASSWORD), characters Go lowers into ASCII or folds into ASCII letters, invalid UTF-8, multi-byte
// secrets, secrets at the very start and end, overlapping patterns.
var EdgeLines = []string{
	"DB_PASSWORD=S3cretPass!99 user=x",
	`{"password":"S3cretPass!99","user":"x"}`,
	`{"password": "S3cret \"quoted\" Pass", "user": "x"}`,
	"password=S3cretPass!99",
	"password=",
	"PASSWORD='S3cret Pass' DB_PASSWORD=other",
	"  password: S3cret Pass  ",
	"- api_key: FAKE0123456789",
	"pass\u212aword=x to\u212aen=FAKEkelvin1 \u017fecret_key=FAKEfold",
	"TO\u212aEN=FAKE-kelvin-in-key user=x",
	"\u0130 token=FAKEdotted",
	"password=p\u00e4ssw\u00f6rd\U0001F511 next=1",
	"password=ab\xffcd\xc3 token=\x80\x80x",
	"password=\xe2\x84 user=x",
	"password=a\xc0\xafb\xed\xa0\x80c\xf4\x90\x80\x80d AKIAZ7FAKE2KEY3ABCD\xc3\xa9",
	"url=https://user:p\u00e4ss\xff@host/x token=ghp_FAKEu8jzPde0IgxLd6GncfBAepfJBd0Kh8oO",
	"AKIAZ7FAKE2KEY3ABCDE",
	"xAKIAZ7FAKE2KEY3ABCDE AKIAZ7FAKE2KEY3ABCDEx \u00e9AKIAZ7FAKE2KEY3ABCDE\u00e9",
	"secret_key=" + strings.Repeat("A", 40) + " secret_key=" + strings.Repeat("x", 40) + " secret_key=" + strings.Repeat("B", 41),
	"token=ghp_" + strings.Repeat("a", 255) + " token=ghp_" + strings.Repeat("b", 256),
	"-----BEGIN RSA PRIVATE KEY-----abc-----BEGIN EC PRIVATE KEY----- def",
	"-----begin " + strings.Repeat("X", 101) + "PRIVATE KEY-----zzz",
	"Authorization: Bearer REDACTED Authorization: Bearer FAKEtoken12345",
	"authorization=basic dXNlcjpwYXNz== proxy-authorization: Basic Zm9vOmJhcg",
	"session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0. jwt=eyJ.eyJ.",
	"",
	"\n",
}

// Random splices pieces of the samples with separators and stray bytes: lines no one
// wrote, on which every engine must still agree with Go.
func Random(ps []rulesets.SecretPattern, n int) []string {
	var samples []string
	for _, p := range ps {
		samples = append(samples, p.Positive...)
		samples = append(samples, p.Negative...)
	}
	samples = append(samples, EdgeLines...)
	seps := []string{" ", "", "\"", "'", "=", ":", "\n", "\t", "\\\"", "\xff", "\u212a", "é", "@", "/"}
	r := rand.New(rand.NewPCG(14, uint64(n)))
	out := make([]string, 0, n)
	for range n {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			s := samples[r.IntN(len(samples))]
			i := r.IntN(len(s) + 1)
			j := i + r.IntN(len(s)-i+1)
			if r.IntN(3) == 0 {
				i = 0
			}
			b.WriteString(s[i:j])
			b.WriteString(seps[r.IntN(len(seps))])
		}
		out = append(out, b.String())
	}
	return out
}

// MaskEverySecret is what an agent that can only replace matches makes of line with p
// (Vector's VRL replace, OTTL's replace_pattern): the secret of every match becomes mask,
// whatever its length, allow-listed and empty secrets included.
func MaskEverySecret(line string, p rulesets.SecretPattern, mask string) string {
	var b strings.Builder
	prev := 0
	for _, m := range p.Regex.FindAllStringSubmatchIndex(line, -1) {
		for g := 2; g < len(m); g += 2 {
			if m[g] >= 0 {
				b.WriteString(line[prev:m[g]] + mask)
				prev = m[g+1]
			}
		}
	}
	return b.String() + line[prev:]
}

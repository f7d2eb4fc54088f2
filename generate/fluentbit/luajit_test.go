package fluentbit

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// luajit is Debian's LuaJIT, the Lua Fluent Bit embeds (scripts/test-deps.sh installs it).
func luajit(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("BLINDSPOT_TEST_LUAJIT")
	if bin == "" {
		bin = "/usr/bin/luajit"
	}
	if _, err := exec.LookPath(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("luajit: %v (run scripts/test-deps.sh)", err)
		}
		t.Skipf("luajit: %v (run scripts/test-deps.sh)", err)
	}
	return bin
}

// luaResult is what blindspot_mask did to one record.
type luaResult struct {
	code              int
	log, message, msg string
}

// runFilter writes the script generated from patterns and a driver that calls the filter
// on one record per line, the line in log, message and a nested msg, and reads back the
// return code and the three fields, hex-encoded so that any byte survives.
func runFilter(t *testing.T, bin string, patterns []rulesets.SecretPattern, lines []string) []luaResult {
	t.Helper()
	files, err := Files(patterns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "masking.lua")
	if err := os.WriteFile(script, files[1].Content, 0o644); err != nil {
		t.Fatal(err)
	}
	var d strings.Builder
	d.WriteString("dofile(" + luaQuote(script) + ")\n")
	d.WriteString(`local function hex(s) return (string.gsub(s, ".", function(c) return string.format("%02x", string.byte(c)) end)) end
local lines = {
`)
	for _, l := range lines {
		d.WriteString("  " + luaQuote(l) + ",\n")
	}
	d.WriteString(`}
for _, line in ipairs(lines) do
  local code, ts, r = blindspot_mask("app.log", 1714557600, {log = line, message = line, kubernetes = {labels = {msg = line}}, n = 3})
  assert(ts == 1714557600 and r.n == 3)
  print(code, hex(r.log) .. ".", hex(r.message) .. ".", hex(r.kubernetes.labels.msg) .. ".")
end
`)
	driver := filepath.Join(dir, "driver.lua")
	if err := os.WriteFile(driver, []byte(d.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, driver).CombinedOutput()
	if err != nil {
		t.Fatalf("luajit: %v\n%s", err, out)
	}
	var res []luaResult
	for _, row := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		f := strings.Fields(row)
		if len(f) != 4 {
			t.Fatalf("driver output %q", row)
		}
		code, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatal(err)
		}
		var v [3]string
		for i, h := range f[1:] {
			b, err := hex.DecodeString(strings.TrimSuffix(h, "."))
			if err != nil {
				t.Fatal(err)
			}
			v[i] = string(b)
		}
		res = append(res, luaResult{code: code, log: v[0], message: v[1], msg: v[2]})
	}
	if len(res) != len(lines) {
		t.Fatalf("%d results for %d lines", len(res), len(lines))
	}
	return res
}

// realistic embeds a sample the way shippers and applications hand lines to Fluent Bit: as
// is, after a CRI prefix, JSON-escaped in a Docker json-file record, quoted in a logfmt field,
// followed by more fields, and twice in one multi-line record.
func realistic(line string) []string {
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

// edgeLines are lines written for what the samples do not show: the leak this filter exists
// for, characters Go lowers into ASCII or folds into ASCII letters, invalid UTF-8, multi-byte
// secrets, secrets at the very start and end, overlapping patterns.
var edgeLines = []string{
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

// randomLines splices pieces of the samples with separators and stray bytes: lines no one
// wrote, on which the filter must still agree with Go.
func randomLines(ps []rulesets.SecretPattern, n int) []string {
	var samples []string
	for _, p := range ps {
		samples = append(samples, p.Positive...)
		samples = append(samples, p.Negative...)
	}
	samples = append(samples, edgeLines...)
	seps := []string{" ", "", "\"", "'", "=", ":", "\n", "\t", "\\\"", "\xff", "\u212a", "é", "@", "/"}
	r := rand.New(rand.NewPCG(14, 5))
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

// checkFilter runs lines through the filter generated from patterns and compares every
// field with Go's masking, byte for byte.
func checkFilter(t *testing.T, bin string, patterns []rulesets.SecretPattern, lines []string) {
	t.Helper()
	failures := 0
	for i, r := range runFilter(t, bin, patterns, lines) {
		line := lines[i]
		want := secrets.Mask(line, patterns)
		wantCode := 0
		if want != line {
			wantCode = 1
		}
		if r.code != wantCode || r.log != want || r.message != want || r.msg != want {
			t.Errorf("%q:\n  lua  code %d %q (message %q, nested %q)\n  go   code %d %q", line, r.code, r.log, r.message, r.msg, wantCode, want)
			if failures++; failures == 10 {
				t.Fatal("too many differences")
			}
		}
	}
}

func TestLuaJIT(t *testing.T) {
	bin := luajit(t)
	all := secretPatterns(t)

	// Every pattern of the embedded rule set, so that a new one is covered without a change here.
	for _, p := range all {
		t.Run("The filter masks the "+p.ID+" samples, alone and embedded in realistic lines, exactly as Go does.", func(t *testing.T) {
			var lines []string
			for _, l := range append(slices.Clone(p.Positive), p.Negative...) {
				lines = append(lines, realistic(l)...)
			}
			checkFilter(t, bin, []rulesets.SecretPattern{p}, lines)
			for _, l := range p.Positive {
				if len(secrets.Scan(l, []rulesets.SecretPattern{p})) == 0 {
					t.Errorf("positive sample %q has no %s secret", l, p.ID)
				}
			}
		})
	}

	t.Run("The filter with every pattern masks every sample of every pattern exactly as Go does.", func(t *testing.T) {
		var lines []string
		for _, p := range all {
			for _, l := range append(slices.Clone(p.Positive), p.Negative...) {
				lines = append(lines, realistic(l)...)
			}
		}
		checkFilter(t, bin, all, lines)
	})

	t.Run("The filter masks the edge cases exactly as Go does.", func(t *testing.T) {
		checkFilter(t, bin, all, edgeLines)
		if got := secrets.Mask(edgeLines[0], all); got != "DB_PASSWORD=**** user=x" {
			t.Errorf("Go masks the DB_PASSWORD leak as %q", got)
		}
	})

	t.Run("The filter masks spliced random lines exactly as Go does.", func(t *testing.T) {
		checkFilter(t, bin, all, randomLines(all, 3000))
	})
}

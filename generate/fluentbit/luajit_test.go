package fluentbit

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
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

func TestLuaJIT(t *testing.T) {
	bin := luajit(t)
	all := secretPatterns(t)
	var translated []rulesets.SecretPattern
	for i, tr := range Translate(all) {
		if !tr.Translated() {
			t.Logf("%s: NOT TRANSLATED: %s", tr.ID, tr.NotTranslated)
			continue
		}
		t.Logf("%s: translated into %d Lua patterns (%d allow)%s", tr.ID, len(tr.Find), len(tr.Allow), strings.Join(append([]string{""}, tr.Notes...), "; "))
		translated = append(translated, all[i])
	}

	for _, p := range translated {
		t.Run("The filter masks the secrets of the "+p.ID+" samples in every field and leaves the rest of the line.", func(t *testing.T) {
			one := []rulesets.SecretPattern{p}
			for i, r := range runFilter(t, bin, one, p.Positive) {
				line := p.Positive[i]
				want := secrets.Mask(line, one)
				if r.code != 1 {
					t.Errorf("%q: return code %d, want 1", line, r.code)
				}
				for field, got := range map[string]string{"log": r.log, "message": r.message, "kubernetes.labels.msg": r.msg} {
					if got != want {
						t.Errorf("%s of %q:\n got %q\nwant %q", field, line, got, want)
					}
					for _, m := range secrets.Scan(line, one) {
						if s := line[m.Start:m.End]; s != "" && strings.Contains(got, s) {
							t.Errorf("%s: the secret %q is still there", field, s)
						}
					}
				}
			}
		})
	}

	t.Run("The filter with every translated pattern leaves negative samples alone and returns 0.", func(t *testing.T) {
		var negatives []string
		for _, p := range all {
			negatives = append(negatives, p.Negative...)
		}
		for i, r := range runFilter(t, bin, translated, negatives) {
			line := negatives[i]
			if r.code != 0 || r.log != line || r.message != line || r.msg != line {
				t.Errorf("%q: code %d, log %q, message %q, msg %q", line, r.code, r.log, r.message, r.msg)
			}
		}
	})
}

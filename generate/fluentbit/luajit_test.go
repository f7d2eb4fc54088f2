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
	"github.com/blindspot-dev/blindspot/internal/secretsamples"
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
			checkFilter(t, bin, []rulesets.SecretPattern{p}, secretsamples.Samples(p))
			for _, l := range p.Positive {
				if len(secrets.Scan(l, []rulesets.SecretPattern{p})) == 0 {
					t.Errorf("positive sample %q has no %s secret", l, p.ID)
				}
			}
		})
	}

	t.Run("The filter with every pattern masks every sample of every pattern exactly as Go does.", func(t *testing.T) {
		checkFilter(t, bin, all, secretsamples.Samples(all...))
	})

	t.Run("The filter masks the edge cases exactly as Go does.", func(t *testing.T) {
		checkFilter(t, bin, all, secretsamples.EdgeLines)
		if got := secrets.Mask(secretsamples.EdgeLines[0], all); got != "DB_PASSWORD=**** user=x" {
			t.Errorf("Go masks the DB_PASSWORD leak as %q", got)
		}
	})

	t.Run("The filter masks spliced random lines exactly as Go does.", func(t *testing.T) {
		checkFilter(t, bin, all, secretsamples.Random(all, 3000))
	})
}

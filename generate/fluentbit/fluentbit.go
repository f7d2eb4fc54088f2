// Package fluentbit generates a Fluent Bit pipeline that masks secrets before logs leave the
// node: pipelines/fluent-bit/masking.yaml, a `lua` filter, and masking.lua, the script it
// calls. The script masks every string field of a record, nested ones included, since the
// field holding the line depends on the parser (log, message, msg, …).
//
// Fluent Bit's Lua patterns are not RE2, so masking.lua does not use them for the secrets:
// every pattern of rulesets/secrets.yaml is compiled into the program Go's regexp runs
// (Translate) and matched by a port of Go's matcher, so that the filter masks exactly what
// analyze/secrets masks. A pattern that cannot be compiled is an error, never a pattern
// silently left out.
package fluentbit

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Paths of the generated files in the output directory.
const (
	ConfigPath = "pipelines/fluent-bit/masking.yaml"
	ScriptPath = "pipelines/fluent-bit/masking.lua"
)

// Function is the Lua function the filter calls.
const Function = "blindspot_mask"

// Translation is the Lua form of one secret pattern: the programs masking.lua runs.
type Translation struct {
	ID       string
	Find     *program   // the pattern's regular expression
	Allow    []*program // its allow list: a secret one matches stays
	Hide     bool       // hide_length
	Keywords []string
}

// Translate compiles every pattern, in order, and fails on the first that cannot be.
func Translate(patterns []rulesets.SecretPattern) ([]Translation, error) {
	out := make([]Translation, 0, len(patterns))
	for _, p := range patterns {
		t := Translation{ID: p.ID, Hide: p.HideLength, Keywords: p.Keywords}
		var err error
		if t.Find, err = compileRegex(p.Regex.String()); err != nil {
			return nil, fmt.Errorf("pattern %s: regex: %w", p.ID, err)
		}
		if t.Find.NumCap < 4 {
			return nil, fmt.Errorf("pattern %s: regex: no capture group holds the secret", p.ID)
		}
		for _, a := range p.Allow {
			prog, err := compileRegex(a.String())
			if err != nil {
				return nil, fmt.Errorf("pattern %s: allow %s: %w", p.ID, a, err)
			}
			t.Allow = append(t.Allow, prog)
		}
		out = append(out, t)
	}
	return out, nil
}

// Files returns masking.yaml and masking.lua for patterns. A pattern that cannot be
// translated fails the whole: a filter that leaves one kind of secret in clear is not
// written.
func Files(patterns []rulesets.SecretPattern) ([]generate.File, error) {
	if len(patterns) == 0 {
		return nil, errors.New("generating the Fluent Bit masking filter: no secret patterns")
	}
	config, err := configYAML()
	if err != nil {
		return nil, fmt.Errorf("generating %s: %w", ConfigPath, err)
	}
	ts, err := Translate(patterns)
	if err != nil {
		return nil, fmt.Errorf("generating %s: %w", ScriptPath, err)
	}
	script, err := scriptLua(ts)
	if err != nil {
		return nil, fmt.Errorf("generating %s: %w", ScriptPath, err)
	}
	return []generate.File{
		{Path: ConfigPath, Content: config},
		{Path: ScriptPath, Content: script},
	}, nil
}

type pipelineConfig struct {
	Pipeline struct {
		Filters []luaFilter `yaml:"filters"`
	} `yaml:"pipeline"`
}

type luaFilter struct {
	Name   string `yaml:"name"`
	Match  string `yaml:"match"`
	Script string `yaml:"script"`
	Call   string `yaml:"call"`
}

func configYAML() ([]byte, error) {
	var c pipelineConfig
	c.Pipeline.Filters = []luaFilter{{Name: "lua", Match: "*", Script: "masking.lua", Call: Function}}
	var node yaml.Node
	if err := node.Encode(c); err != nil {
		return nil, err
	}
	node.HeadComment = generate.Header + `

Fluent Bit (YAML configuration): masks secrets in every string field of every record with
masking.lua, before any output. Include this file from the main configuration (includes:)
or copy the filter into its pipeline, ahead of other filters that forward records.`
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// luaQuote writes s as a Lua string literal: printable ASCII as is, the rest as decimal
// escapes, which every Lua reads the same way.
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaInts writes numbers for a Lua table constructor, a few dozen per line.
func luaInts(xs []int, indent string) string {
	var b strings.Builder
	for i, x := range xs {
		switch {
		case i == 0:
		case i%32 == 0:
			b.WriteString(",\n" + indent)
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

// luaProgram writes a program as a Lua table constructor whose closing brace is at indent.
func luaProgram(p *program, indent string) string {
	in, in2 := indent+"  ", indent+"    "
	var b strings.Builder
	first := "nil"
	if p.First != "" {
		first = luaQuote(p.First)
	}
	fmt.Fprintf(&b, "{\n%sstart = %d, ncap = %d, first = %s,\n", in, p.Start, p.NumCap, first)
	for _, f := range []struct {
		name string
		xs   []int
	}{{"op", p.Op}, {"out", p.Out}, {"arg", p.Arg}} {
		fmt.Fprintf(&b, "%s%s = {\n%s%s\n%s},\n", in, f.name, in2, luaInts(f.xs, in2), in)
	}
	fmt.Fprintf(&b, "%ssets = {\n", in)
	for _, set := range p.Sets {
		xs := make([]int, len(set))
		for i, r := range set {
			xs[i] = int(r)
		}
		fmt.Fprintf(&b, "%s{%s},\n", in2, luaInts(xs, in2))
	}
	fmt.Fprintf(&b, "%s},\n%s}", in, indent)
	return b.String()
}

// lowerToASCII are the characters beyond ASCII that Go's strings.ToLower turns into ASCII
// letters (İ into i, the Kelvin sign into k): the keyword test lowers them as Go does.
func lowerToASCII() [][2]string {
	var out [][2]string
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l < utf8.RuneSelf {
			out = append(out, [2]string{string(r), string(l)})
		}
	}
	return out
}

var scriptTemplate = template.Must(template.New("masking.lua").Funcs(template.FuncMap{
	"quote": luaQuote,
	"ints":  luaInts,
	"prog":  luaProgram,
}).Parse(`-- {{.Header}}
--
-- Fluent Bit filter (masking.yaml): {{.Function}} masks secrets in every string field of a
-- record, nested ones included, and returns 1 with the record when it changed something, 0
-- otherwise. It masks exactly what blindspot masks: every pattern of rulesets/secrets.yaml
-- ({{len .Patterns}} patterns) is the program Go's regexp compiles its regular expression into, run by
-- a port of Go's backtracking matcher; Lua patterns cannot express them.
--
-- Cost: a field holding none of a pattern's keywords costs one plain string.find per keyword;
-- otherwise the matcher tries the positions a match can start at, in time proportional to
-- the field's length times the program's size at worst.

local band, bnot = bit.band, bit.bnot
local byte, find, sub, rep, gsub, lower = string.byte, string.find, string.sub, string.rep, string.gsub, string.lower

local ALT, CAP, EMPTY, MATCH, FAIL, NOP, RUNE = 0, 1, 2, 3, 4, 5, 6

local patterns = {
{{- range .Patterns}}
  {
    id = {{quote .ID}},
    hide_length = {{.Hide}},
    keywords = { {{- range $i, $k := .Keywords}}{{if $i}}, {{end}}{{quote $k}}{{end -}} },
    find = {{prog .Find "    "}},
    allow = {
{{- range .Allow}}
      {{prog . "      "}},
{{- end}}
    },
  },
{{- end}}
}


-- Characters Go lowers into ASCII, for the keyword test.
local lower_to_ascii = {
{{- range .LowerToASCII}}
  { {{- quote (index . 0)}}, {{quote (index . 1)}}},
{{- end}}
}

-- decode reads the character at pos (0-based) of s as Go's utf8.DecodeRuneInString does: an
-- invalid byte is U+FFFD, one byte wide; -1, 0 at the end.
local function decode(s, pos, n)
  if pos >= n then
    return -1, 0
  end
  local c = byte(s, pos + 1)
  if c < 0x80 then
    return c, 1
  end
  if c < 0xC2 or c > 0xF4 then
    return 0xFFFD, 1
  end
  local c1 = byte(s, pos + 2)
  if c < 0xE0 then
    if c1 and c1 >= 0x80 and c1 <= 0xBF then
      return (c - 0xC0) * 64 + c1 - 0x80, 2
    end
    return 0xFFFD, 1
  end
  local lo, hi = 0x80, 0xBF
  if c == 0xE0 then
    lo = 0xA0
  elseif c == 0xED then
    hi = 0x9F
  elseif c == 0xF0 then
    lo = 0x90
  elseif c == 0xF4 then
    hi = 0x8F
  end
  if not c1 or c1 < lo or c1 > hi then
    return 0xFFFD, 1
  end
  local c2 = byte(s, pos + 3)
  if not c2 or c2 < 0x80 or c2 > 0xBF then
    return 0xFFFD, 1
  end
  if c < 0xF0 then
    return (c - 0xE0) * 4096 + (c1 - 0x80) * 64 + c2 - 0x80, 3
  end
  local c3 = byte(s, pos + 4)
  if not c3 or c3 < 0x80 or c3 > 0xBF then
    return 0xFFFD, 1
  end
  return (c - 0xF0) * 262144 + (c1 - 0x80) * 4096 + (c2 - 0x80) * 64 + c3 - 0x80, 4
end

local function is_word(c)
  return c ~= nil and (c >= 48 and c <= 57 or c >= 65 and c <= 90 or c >= 97 and c <= 122 or c == 95)
end

-- context is Go's syntax.EmptyOpContext at pos: which zero-width assertions hold there. Word
-- characters and newlines are ASCII, so the bytes next to pos decide.
local function context(s, pos, n)
  local op, boundary = 32, false -- no word boundary
  if pos == 0 then
    op = op + 4 + 1 -- beginning of text, of line
  else
    local c = byte(s, pos)
    if is_word(c) then
      boundary = true
    elseif c == 10 then
      op = op + 1
    end
  end
  if pos >= n then
    op = op + 8 + 2 -- end of text, of line
  else
    local c = byte(s, pos + 1)
    if is_word(c) then
      boundary = not boundary
    elseif c == 10 then
      op = op + 2
    end
  end
  if boundary then
    op = op - 32 + 16 -- word boundary
  end
  return op
end

local function prepare(prog)
  for i, ranges in ipairs(prog.sets) do
    local ascii, wide = {}, {}
    for k = 1, #ranges, 2 do
      local lo, hi = ranges[k], ranges[k + 1]
      for r = lo, math.min(hi, 127) do
        ascii[r] = true
      end
      if hi >= 128 then
        wide[#wide + 1] = math.max(lo, 128)
        wide[#wide + 1] = hi
      end
    end
    prog.sets[i] = { ascii = ascii, wide = wide }
  end
end

for _, p in ipairs(patterns) do
  prepare(p.find)
  for _, a in ipairs(p.allow) do
    prepare(a)
  end
end

-- exec is Go's backtracking matcher (regexp/backtrack.go): the leftmost match at or after pos,
-- and among those the first in the order of the expression's alternatives. It returns the
-- capture slots (0-based, -1 for a group that took no part), or nil.
local function exec(prog, s, n, pos)
  local op, out, arg, sets, ncap, start, first = prog.op, prog.out, prog.arg, prog.sets, prog.ncap, prog.start, prog.first
  local stride = n + 1
  local visited, cap = {}, {}
  for i = 0, ncap - 1 do
    cap[i] = -1
  end
  local jpc, jpos, jarg = {}, {}, {}
  while pos <= n do
    if first == "^" and pos > 0 then
      return nil
    elseif first and pos > 0 then
      local at = find(s, first, pos + 1)
      if not at then
        return nil
      end
      pos = at - 1
    end
    do
      if ncap > 0 then
        cap[0] = pos
      end
      local top = 1
      jpc[1], jpos[1], jarg[1] = start, pos, false
      while top > 0 do
        local pc, p, a = jpc[top], jpos[top], jarg[top]
        top = top - 1
        local check = false
        while true do
          local o = op[pc]
          -- A state seen before failed then (the search would have stopped at a match), and
          -- fails again. Go remembers every state; remembering those where paths branch
          -- prunes the same searches, with fewer entries.
          if check and o == ALT then
            local key = pc * stride + p
            if visited[key] then
              break
            end
            visited[key] = true
          end
          check = true
          if o == RUNE then
            local r, w = decode(s, p, n)
            if r < 0 then
              break
            end
            local set = sets[arg[pc]]
            if r < 128 then
              if not set.ascii[r] then
                break
              end
            else
              local wide, hit = set.wide, false
              for k = 1, #wide, 2 do
                if r >= wide[k] and r <= wide[k + 1] then
                  hit = true
                  break
                end
              end
              if not hit then
                break
              end
            end
            p, pc = p + w, out[pc]
          elseif o == ALT then
            if a then
              a, pc = false, arg[pc]
            else
              top = top + 1
              jpc[top], jpos[top], jarg[top] = pc, p, true
              pc = out[pc]
            end
          elseif o == CAP then
            local slot = arg[pc]
            if a then
              cap[slot] = p -- p is the slot's value to restore
              break
            end
            if slot < ncap then
              top = top + 1
              jpc[top], jpos[top], jarg[top] = pc, cap[slot], true
              cap[slot] = p
            end
            pc = out[pc]
          elseif o == EMPTY then
            if band(arg[pc], bnot(context(s, p, n))) ~= 0 then
              break
            end
            pc = out[pc]
          elseif o == NOP then
            pc = out[pc]
          elseif o == MATCH then
            if ncap > 1 then
              cap[1] = p
            end
            return cap
          else
            break
          end
        end
      end
    end
    if pos >= n then
      break
    end
    local _, w = decode(s, pos, n)
    pos = pos + w
  end
  return nil
end

local function allowed(secret, allow)
  for _, a in ipairs(allow) do
    if exec(a, secret, #secret, 0) then
      return true
    end
  end
  return false
end

-- scan_pattern adds the secrets of p in s to ms, as Go's FindAllStringSubmatchIndex finds
-- them: after a match, the next search starts at its end; an empty match right after the
-- previous one does not count.
local function scan_pattern(p, s, n, ms)
  local prog = p.find
  local pos, prev_end = 0, -1
  while pos <= n do
    local cap = exec(prog, s, n, pos)
    if not cap then
      return
    end
    local accept = true
    if cap[1] == pos then
      accept = cap[0] ~= prev_end
      if pos < n then
        local _, w = decode(s, pos, n)
        pos = pos + w
      else
        pos = n + 1
      end
    else
      pos = cap[1]
    end
    prev_end = cap[1]
    if accept then
      -- Every group holds the secret; a match fills one.
      for g = 2, prog.ncap - 2, 2 do
        if cap[g] >= 0 then
          if not allowed(sub(s, cap[g] + 1, cap[g + 1]), p.allow) then
            ms[#ms + 1] = { cap[g], cap[g + 1], p.hide_length }
          end
          break
        end
      end
    end
  end
end

local function rune_count(s, i, j)
  local count = 0
  while i < j do
    local _, w = decode(s, i, j)
    i, count = i + w, count + 1
  end
  return count
end

-- Secrets at the same place are replaced as one whatever their order, so position decides.
local function by_position(a, b)
  if a[1] ~= b[1] then
    return a[1] < b[1]
  end
  return a[2] < b[2]
end

-- mask_string replaces the secrets of every pattern in s, as analyze/secrets does:
-- overlapping secrets are replaced as one, by 4 asterisks if any of their patterns hides the
-- length, else by one per character.
local function mask_string(s)
  local n, low = #s, lower(s)
  if find(low, "[\128-\255]") then
    for _, f in ipairs(lower_to_ascii) do
      low = gsub(low, f[1], f[2])
    end
  end
  local ms = {}
  for _, p in ipairs(patterns) do
    for _, k in ipairs(p.keywords) do
      if find(low, k, 1, true) then
        scan_pattern(p, s, n, ms)
        break
      end
    end
  end
  if #ms == 0 then
    return s, false
  end
  table.sort(ms, by_position)
  local out, done, i = {}, 0, 1
  while i <= #ms do
    local start, stop, hidden = ms[i][1], ms[i][2], ms[i][3]
    local j = i + 1
    while j <= #ms and ms[j][1] < stop do
      stop = math.max(stop, ms[j][2])
      hidden = hidden or ms[j][3]
      j = j + 1
    end
    out[#out + 1] = sub(s, done + 1, start)
    if stop > start then
      out[#out + 1] = rep("*", hidden and 4 or rune_count(s, start, stop))
    end
    done, i = stop, j
  end
  out[#out + 1] = sub(s, done + 1)
  local masked = table.concat(out)
  return masked, masked ~= s
end

local function mask_value(v)
  if type(v) == "string" then
    return mask_string(v)
  end
  if type(v) ~= "table" then
    return v, false
  end
  local changed = false
  for k, x in pairs(v) do
    local masked, c = mask_value(x)
    if c then
      v[k], changed = masked, true
    end
  end
  return v, changed
end

function {{.Function}}(tag, timestamp, record)
  local masked, changed = mask_value(record)
  if changed then
    return 1, timestamp, masked
  end
  return 0, timestamp, record
end
`))

func scriptLua(ts []Translation) ([]byte, error) {
	data := struct {
		Header, Function string
		Patterns         []Translation
		LowerToASCII     [][2]string
	}{Header: generate.Header, Function: Function, Patterns: ts, LowerToASCII: lowerToASCII()}
	var b bytes.Buffer
	if err := scriptTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

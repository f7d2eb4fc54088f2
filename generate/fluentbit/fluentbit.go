// Package fluentbit generates a Fluent Bit pipeline that masks secrets before logs leave the
// node: pipelines/fluent-bit/masking.yaml, a `lua` filter, and masking.lua, the script it
// calls. The script masks every string field of a record, nested ones included, since the
// field holding the line depends on the parser (log, message, msg, …).
//
// Fluent Bit's Lua patterns are not RE2: each pattern of rulesets/secrets.yaml is translated
// (Translate), and one that cannot be is listed in masking.lua as NOT TRANSLATED, never
// dropped silently.
package fluentbit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"

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

// Translation is the Lua form of one secret pattern, or why there is none.
type Translation struct {
	ID string
	// Find are Lua patterns, one per way through the expression's alternations, each with
	// the secret between two position captures. Empty when the pattern is not translated.
	Find []string
	// Allow are Lua patterns of the pattern's allow list: a secret one matches stays.
	Allow []string
	// Notes say where Find matches more than the expression (widened repetition bounds).
	Notes []string
	// NotTranslated is why there is no Lua form ("" when there is one).
	NotTranslated string
}

// Translated tells whether the filter masks the pattern's secrets.
func (t Translation) Translated() bool { return t.NotTranslated == "" }

// Translate translates every pattern, in order. A pattern is translated whole or not at
// all: its expression and every allow expression.
func Translate(patterns []rulesets.SecretPattern) []Translation {
	out := make([]Translation, 0, len(patterns))
	for _, p := range patterns {
		out = append(out, translatePattern(p))
	}
	return out
}

func translatePattern(p rulesets.SecretPattern) Translation {
	t := Translation{ID: p.ID}
	find, err := translateRegex(p.Regex.String(), true)
	if err != nil {
		t.NotTranslated = fmt.Sprintf("regex: %v", err)
		return t
	}
	t.Notes = find.notes
	var allow []string
	for _, a := range p.Allow {
		tr, err := translateRegex(a.String(), false)
		if err != nil {
			t.NotTranslated = fmt.Sprintf("allow %s: %v", a, err)
			return t
		}
		allow = append(allow, tr.patterns...)
		// A looser allow pattern would leave secrets unmasked.
		if len(tr.notes) > 0 {
			t.NotTranslated = fmt.Sprintf("allow %s: %s", a, strings.Join(tr.notes, "; "))
			return t
		}
	}
	t.Find, t.Allow = find.patterns, allow
	return t
}

// Files returns masking.yaml and masking.lua for patterns. Patterns without a Lua form are
// listed in masking.lua; Translate tells the caller which.
func Files(patterns []rulesets.SecretPattern) ([]generate.File, error) {
	if len(patterns) == 0 {
		return nil, errors.New("generating the Fluent Bit masking filter: no secret patterns")
	}
	config, err := configYAML()
	if err != nil {
		return nil, fmt.Errorf("generating %s: %w", ConfigPath, err)
	}
	script, err := scriptLua(patterns, Translate(patterns))
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

// luaComment keeps text on one comment line.
func luaComment(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

type scriptPattern struct {
	Translation
	Keywords   []string
	HideLength bool
}

var scriptTemplate = template.Must(template.New("masking.lua").Funcs(template.FuncMap{
	"quote":   luaQuote,
	"comment": luaComment,
}).Parse(`-- {{.Header}}
--
-- Fluent Bit filter (masking.yaml): {{.Function}} masks secrets in every string field of a
-- record, nested ones included, and returns 1 with the record when it changed something, 0
-- otherwise. Translated from rulesets/secrets.yaml: {{.Translated}} of {{.Total}} patterns.
{{- if .Skipped}}
--
-- NOT TRANSLATED: the filter does not mask these secrets; mask them elsewhere.
{{- range .Skipped}}
--   {{.ID}}: {{comment .NotTranslated}}
{{- end}}
{{- end}}
{{- if .Noted}}
--
-- Looser than the regular expression (more is masked, not less):
{{- range .Noted}}{{$id := .ID}}{{range .Notes}}
--   {{$id}}: {{comment .}}
{{- end}}{{end}}
{{- end}}

local patterns = {
{{- range .Patterns}}
  {
    id = {{quote .ID}},
    hide_length = {{.HideLength}},
    keywords = { {{- range $i, $k := .Keywords}}{{if $i}}, {{end}}{{quote $k}}{{end -}} },
    find = {
{{- range .Find}}
      {{quote .}},
{{- end}}
    },
    allow = {
{{- range .Allow}}
      {{quote .}},
{{- end}}
    },
  },
{{- end}}
}

local function char_count(s)
  -- UTF-8: every byte that does not continue a character starts one.
  local _, n = string.gsub(s, "[^\128-\191]", "")
  return n
end

local function allowed(secret, allow)
  for _, a in ipairs(allow) do
    if string.find(secret, a) then
      return true
    end
  end
  return false
end

-- mask_pattern replaces the secrets one Lua pattern finds in s.
local function mask_pattern(s, find, p)
  local out, done, init, changed = {}, 1, 1, false
  local anchored = string.sub(find, 1, 1) == "^"
  while init <= #s + 1 do
    local ms, me, cs, ce = string.find(s, find, init)
    if not ms then
      break
    end
    if ce > cs then
      local secret = string.sub(s, cs, ce - 1)
      if not allowed(secret, p.allow) then
        out[#out + 1] = string.sub(s, done, cs - 1)
        out[#out + 1] = string.rep("*", p.hide_length and 4 or char_count(secret))
        done, changed = ce, true
      end
    end
    -- A pattern anchored with ^ matches at init, not at the start, when init > 1.
    if anchored then
      break
    end
    init = me >= ms and me + 1 or ms + 1
  end
  if not changed then
    return s, false
  end
  out[#out + 1] = string.sub(s, done)
  return table.concat(out), true
end

local function mask_string(s)
  local lower, changed = string.lower(s), false
  for _, p in ipairs(patterns) do
    local hit = false
    for _, k in ipairs(p.keywords) do
      if string.find(lower, k, 1, true) then
        hit = true
        break
      end
    end
    if hit then
      for _, find in ipairs(p.find) do
        local c
        s, c = mask_pattern(s, find, p)
        changed = changed or c
      end
    end
  end
  return s, changed
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

func scriptLua(patterns []rulesets.SecretPattern, ts []Translation) ([]byte, error) {
	data := struct {
		Header, Function  string
		Translated, Total int
		Skipped, Noted    []Translation
		Patterns          []scriptPattern
	}{Header: generate.Header, Function: Function, Total: len(ts)}
	for i, t := range ts {
		if !t.Translated() {
			data.Skipped = append(data.Skipped, t)
			continue
		}
		data.Translated++
		if len(t.Notes) > 0 {
			data.Noted = append(data.Noted, t)
		}
		data.Patterns = append(data.Patterns, scriptPattern{Translation: t, Keywords: patterns[i].Keywords, HideLength: patterns[i].HideLength})
	}
	var b bytes.Buffer
	if err := scriptTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

package rulesets

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed secrets.yaml
var secretsYAML []byte

// SecretPattern is one kind of secret that must not appear in logs (secrets.yaml). Matching
// and masking are analyze/secrets' business; this is the validated data.
type SecretPattern struct {
	// ID is kebab-case and stable: findings and generated masking stages name it.
	ID          string
	Description string
	// Origin is the public work the pattern was adapted from and Upstream the names of the
	// rules there; both are empty for a pattern written for blindspot.
	Origin   Origin
	Upstream []string
	// Regex captures the secret and nothing else. It has one capture group, or several all
	// named "secret" of which a match fills exactly one.
	Regex *regexp.Regexp
	// Keywords are lower-case ASCII literals; a line holding none of them (compared without
	// case) cannot match Regex.
	Keywords []string
	// Allow are matched against a captured secret: a match is a placeholder (REDACTED, null),
	// not a secret.
	Allow []*regexp.Regexp
	// HideLength masks the secret with a fixed number of asterisks instead of one per
	// character.
	HideLength bool
	// Positive are log lines that hold a secret of this kind; Negative hold none of any kind.
	Positive, Negative []string
}

var loadedSecretPatterns = sync.OnceValues(func() ([]SecretPattern, error) {
	ps, err := parseSecretPatterns(secretsYAML)
	if err != nil {
		return nil, fmt.Errorf("rulesets/secrets.yaml: %w", err)
	}
	return ps, nil
})

// SecretPatterns returns the embedded secret patterns in file order (specific vendors first,
// generic assignments last). The slices are the caller's to keep; the compiled expressions
// are shared, which regexp allows.
func SecretPatterns() ([]SecretPattern, error) {
	ps, err := loadedSecretPatterns()
	if err != nil {
		return nil, err
	}
	out := make([]SecretPattern, len(ps))
	for i, p := range ps {
		p.Upstream = slices.Clone(p.Upstream)
		p.Keywords = slices.Clone(p.Keywords)
		p.Allow = slices.Clone(p.Allow)
		p.Positive = slices.Clone(p.Positive)
		p.Negative = slices.Clone(p.Negative)
		out[i] = p
	}
	return out, nil
}

// The YAML form of secrets.yaml.
type secretsFile struct {
	Origins  []originDoc  `yaml:"origins"`
	Patterns []patternDoc `yaml:"patterns"`
}

type patternDoc struct {
	ID          string     `yaml:"id"`
	Description string     `yaml:"description"`
	Origin      string     `yaml:"origin"`
	Upstream    []string   `yaml:"upstream"`
	Regex       string     `yaml:"regex"`
	Keywords    []string   `yaml:"keywords"`
	Allow       []string   `yaml:"allow"`
	HideLength  bool       `yaml:"hide_length"`
	Samples     samplesDoc `yaml:"samples"`
}

type samplesDoc struct {
	Positive []string `yaml:"positive"`
	Negative []string `yaml:"negative"`
}

// secretGroup is the name a regex gives its capture groups when it has several.
const secretGroup = "secret"

// parseSecretPatterns reads and validates the patterns: whatever the matcher relies on (one
// secret per match, keywords it can compare cheaply) is checked here. That every sample
// behaves is a matter for the tests, which run the matcher.
func parseSecretPatterns(data []byte) ([]SecretPattern, error) {
	var doc secretsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var origins []Origin
	for _, o := range doc.Origins {
		if err := checkOrigin(o, origins); err != nil {
			return nil, err
		}
		origins = append(origins, Origin(o))
	}
	if len(doc.Patterns) == 0 {
		return nil, errors.New("no patterns")
	}
	used := map[string]bool{}
	var out []SecretPattern
	for _, d := range doc.Patterns {
		p, err := parseSecretPattern(d, origins)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", d.ID, err)
		}
		if slices.ContainsFunc(out, func(q SecretPattern) bool { return q.ID == p.ID }) {
			return nil, fmt.Errorf("pattern %q is listed twice", p.ID)
		}
		used[p.Origin.Name] = true
		out = append(out, p)
	}
	for _, o := range origins {
		if !used[o.Name] {
			return nil, fmt.Errorf("origin %q is named by no pattern", o.Name)
		}
	}
	return out, nil
}

func parseSecretPattern(d patternDoc, origins []Origin) (SecretPattern, error) {
	p := SecretPattern{
		ID: d.ID, Description: strings.TrimSpace(d.Description), Upstream: d.Upstream,
		Keywords: d.Keywords, HideLength: d.HideLength,
		Positive: d.Samples.Positive, Negative: d.Samples.Negative,
	}
	if !packName.MatchString(p.ID) {
		return p, errors.New("the id is not lower-case words joined by dashes")
	}
	if p.Description == "" {
		return p, errors.New("no description")
	}
	if d.Origin != "" {
		i := slices.IndexFunc(origins, func(o Origin) bool { return o.Name == d.Origin })
		if i < 0 {
			return p, fmt.Errorf("origin %q is not listed in origins", d.Origin)
		}
		p.Origin = origins[i]
	}
	if (d.Origin == "") != (len(d.Upstream) == 0) {
		return p, errors.New("origin and upstream go together")
	}
	var err error
	if p.Regex, err = regexp.Compile(d.Regex); err != nil {
		return p, fmt.Errorf("regex: %w", err)
	}
	if err := checkSecretGroups(p.Regex); err != nil {
		return p, err
	}
	if err := checkKeywords(p.Keywords); err != nil {
		return p, err
	}
	for _, a := range d.Allow {
		re, err := regexp.Compile(a)
		if err != nil {
			return p, fmt.Errorf("allow: %w", err)
		}
		p.Allow = append(p.Allow, re)
	}
	if len(p.Positive) == 0 || len(p.Negative) == 0 {
		return p, errors.New("samples need positive and negative lines")
	}
	return p, nil
}

// checkSecretGroups enforces the one rule every consumer of the patterns depends on: each
// capture group holds the secret. With several groups the names say so.
func checkSecretGroups(re *regexp.Regexp) error {
	names := re.SubexpNames()[1:]
	if len(names) == 0 {
		return errors.New("regex: no capture group holds the secret")
	}
	for _, n := range names {
		if n != "" && n != secretGroup {
			return fmt.Errorf("regex: capture group %q: the only name allowed is %q", n, secretGroup)
		}
		if n == "" && len(names) > 1 {
			return fmt.Errorf("regex: %d capture groups: with more than one, every group must be named %q (use (?:…) for the others)", len(names), secretGroup)
		}
	}
	return nil
}

// checkKeywords requires lower-case printable ASCII, which lets the matcher compare lines
// without case byte by byte.
func checkKeywords(keywords []string) error {
	if len(keywords) == 0 {
		return errors.New("no keywords")
	}
	for i, k := range keywords {
		if k == "" {
			return errors.New("an empty keyword")
		}
		for _, c := range []byte(k) {
			if c < 0x20 || c > 0x7e || 'A' <= c && c <= 'Z' {
				return fmt.Errorf("keyword %q is not lower-case printable ASCII", k)
			}
		}
		if slices.Contains(keywords[:i], k) {
			return fmt.Errorf("keyword %q is listed twice", k)
		}
	}
	return nil
}

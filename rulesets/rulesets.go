// Package rulesets holds the data blindspot ships with, embedded so that the binary is
// self-contained: which metrics count as business output (business_exclude.yaml), and the
// rule packs `blindspot generate` instantiates (packs/, packs.go). The data is YAML a
// reviewer can read without Go.
package rulesets

import (
	"bytes"
	_ "embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed business_exclude.yaml
var businessYAML []byte

// Business is the default selection of business metrics (business_exclude.yaml).
type Business struct {
	// Exclude are globs naming exporter and runtime internals, never business output.
	Exclude []string `yaml:"exclude"`
	// Staleness are globs naming gauges that hold the time a batch job last succeeded.
	Staleness []string `yaml:"staleness"`
}

// The file is parsed on first use rather than in init, so that a broken file is an error a
// caller reports, not a crash at start-up.
var defaultBusiness = sync.OnceValues(func() (Business, error) { return parseBusiness(businessYAML) })

// DefaultBusiness returns the embedded defaults. The slices are the caller's to keep.
func DefaultBusiness() (Business, error) {
	b, err := defaultBusiness()
	return Business{Exclude: slices.Clone(b.Exclude), Staleness: slices.Clone(b.Staleness)}, err
}

func parseBusiness(data []byte) (Business, error) {
	var b Business
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil {
		return Business{}, fmt.Errorf("rulesets/business_exclude.yaml: %w", err)
	}
	if err := CheckGlobs(b.Exclude); err != nil {
		return Business{}, fmt.Errorf("rulesets/business_exclude.yaml: exclude: %w", err)
	}
	if err := CheckGlobs(b.Staleness); err != nil {
		return Business{}, fmt.Errorf("rulesets/business_exclude.yaml: staleness: %w", err)
	}
	return b, nil
}

// CheckGlobs reports the first glob that is not valid path.Match syntax, for validating
// configuration before it reaches Globs (which treats an invalid glob as matching nothing).
func CheckGlobs(globs []string) error {
	for _, g := range globs {
		if g == "" {
			return fmt.Errorf("empty glob")
		}
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return nil
}

// Globs matches names against globs, exactly as path.Match would. Literal names, "prefix*"
// and "*suffix" (nearly every glob in practice) are matched without path.Match, because a
// large Prometheus has a hundred thousand names to test against every glob.
type Globs struct {
	exact                       map[string]bool
	prefixes, suffixes, infixes []string
	patterns                    []string
}

// NewGlobs compiles one or more lists of globs into one matcher.
func NewGlobs(lists ...[]string) Globs {
	g := Globs{exact: map[string]bool{}}
	for _, list := range lists {
		for _, glob := range list {
			if CheckGlobs([]string{glob}) != nil {
				continue
			}
			switch {
			case !hasMeta(glob):
				g.exact[glob] = true
			case strings.HasSuffix(glob, "*") && !hasMeta(glob[:len(glob)-1]):
				g.prefixes = append(g.prefixes, glob[:len(glob)-1])
			case strings.HasPrefix(glob, "*") && !hasMeta(glob[1:]):
				g.suffixes = append(g.suffixes, glob[1:])
			case len(glob) > 2 && strings.HasPrefix(glob, "*") && strings.HasSuffix(glob, "*") && !strings.ContainsAny(glob[1:len(glob)-1], `*?[\/`):
				g.infixes = append(g.infixes, glob[1:len(glob)-1])
			default:
				g.patterns = append(g.patterns, glob)
			}
		}
	}
	return g
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// Empty reports whether no glob was given.
func (g Globs) Empty() bool {
	return len(g.exact) == 0 && len(g.prefixes) == 0 && len(g.suffixes) == 0 && len(g.patterns) == 0
}

// Match reports whether any glob matches name.
func (g Globs) Match(name string) bool {
	if g.exact[name] {
		return true
	}
	for _, p := range g.prefixes {
		// path.Match's * stops at a slash, which UTF-8 metric names and job names may hold.
		if strings.HasPrefix(name, p) && !strings.Contains(name[len(p):], "/") {
			return true
		}
	}
	for _, s := range g.suffixes {
		if strings.HasSuffix(name, s) && !strings.Contains(name[:len(name)-len(s)], "/") {
			return true
		}
	}
	// *x*, with no slash in x: neither star crosses one, so the name holds none.
	for _, s := range g.infixes {
		if strings.Contains(name, s) && !strings.Contains(name, "/") {
			return true
		}
	}
	for _, p := range g.patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

package checks_test

import (
	"go/build"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// runOne runs one check on inv, with the value Derive computes from inv with default options.
func runOne(c checks.Check, inv *analyze.Inventory) []analyze.Finding {
	return c.Run(inv, checks.Derive(inv, checks.Options{}))
}

// withDashboards is inv holding the dashboards ds.
func withDashboards(inv *analyze.Inventory, ds []analyze.Dashboard) *analyze.Inventory {
	out := *inv
	out.Dashboards = ds
	return &out
}

func TestImportsNoCollector(t *testing.T) {
	t.Run("Package checks depends on no package under analyze/collect, directly or not.", func(t *testing.T) {
		const module = "github.com/blindspot-dev/blindspot/"
		seen := map[string]bool{}
		var visit func(path, from string)
		visit = func(path, from string) {
			if seen[path] || !strings.HasPrefix(path, module) {
				return
			}
			seen[path] = true
			if strings.HasPrefix(path, module+"analyze/collect") {
				t.Errorf("%s imports %s", from, path)
				return
			}
			pkg, err := build.Import(path, ".", 0)
			if err != nil {
				t.Fatalf("reading %s: %v", path, err)
			}
			for _, imp := range pkg.Imports {
				visit(imp, path)
			}
		}
		visit(module+"analyze/checks", "")
		if !seen[module+"analyze"] {
			t.Fatalf("the walk did not reach package analyze: %v", slices.Sorted(maps.Keys(seen)))
		}
	})
}

package checks_test

import (
	"os/exec"
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
		goTool, err := exec.LookPath("go")
		if err != nil {
			t.Skip("no go command to list the dependencies with")
		}
		const module = "github.com/blindspot-dev/blindspot/"
		out, err := exec.Command(goTool, "list", "-deps", module+"analyze/checks").Output()
		if err != nil {
			t.Fatalf("go list -deps: %v", err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, module+"analyze") {
			t.Fatalf("the dependencies do not hold package analyze: %q", deps)
		}
		for _, dep := range deps {
			if strings.HasPrefix(dep, module+"analyze/collect") {
				t.Errorf("analyze/checks depends on %s", dep)
			}
		}
	})
}

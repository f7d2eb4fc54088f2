package bundle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
)

func TestPlan(t *testing.T) {
	inv := &analyze.Inventory{}
	findings := []analyze.Finding{
		analyze.NewFinding(checks.AlertsMissingUpName, analyze.Critical, map[string]string{"job": "shop"}, "no up alert", nil),
		analyze.NewFinding(checks.AlertsMissingAbsentName, analyze.Warning, map[string]string{"job": "shop"}, "no absence alert", nil),
	}
	alertsOf := func(files []generate.RuleFile) []string {
		var out []string
		for _, f := range files {
			for _, a := range f.Alerts {
				out = append(out, a.Name)
			}
		}
		return out
	}
	t.Run("Plan returns the rule files Generate writes, and the runbooks of exactly their alerts are written.", func(t *testing.T) {
		planned, err := Plan(inv, findings, nil, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Generate(inv, findings, nil, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var runbooks []string
		for _, f := range r.Files {
			if name, ok := strings.CutPrefix(f.Path, "runbooks/"); ok {
				runbooks = append(runbooks, strings.TrimSuffix(name, ".md"))
			}
		}
		got := alertsOf(planned)
		slices.Sort(got)
		if !slices.Equal(got, runbooks) || len(got) != 2 {
			t.Errorf("planned %v, runbooks written %v", got, runbooks)
		}
	})
	t.Run("An alert the backtest found too noisy is planned by neither Plan nor Generate.", func(t *testing.T) {
		o := generate.Options{Backtest: &generate.Backtest{Lookback: 24 * time.Hour, Noisy: map[string]generate.BacktestResult{"ShopTargetDown": {Episodes: 30}}}}
		planned, err := Plan(inv, findings, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(alertsOf(planned), "ShopTargetDown") || !slices.Contains(alertsOf(planned), "ShopAbsent") {
			t.Errorf("planned %v", alertsOf(planned))
		}
		r, err := Generate(inv, findings, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Files {
			if strings.Contains(string(f.Content), "ShopTargetDown") {
				t.Errorf("%s names the noisy alert", f.Path)
			}
		}
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, "left out ShopTargetDown: too noisy to generate") }) {
			t.Errorf("notes %q", r.Notes)
		}
	})
}

package unittests_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

func TestWatchdog(t *testing.T) {
	t.Run("Without an alertmanager/no-watchdog finding no heartbeat is generated.", func(t *testing.T) {
		if got := rules.Watchdog(nil, generate.Options{}); got != nil {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("The generated Watchdog fires at every evaluation, and promtool 2 and 3 agree.", func(t *testing.T) {
		finding := analyze.NewFinding(checks.AlertmanagerNoWatchdogName, analyze.Warning, map[string]string{"alertmanager": "http://am:9093"}, "no watchdog", nil)
		files := rules.Watchdog([]analyze.Finding{finding}, generate.Options{})
		if len(files) != 1 || len(files[0].Alerts) != 1 || files[0].Alerts[0].Name != "Watchdog" || files[0].Alerts[0].Expr.String() != "vector(1)" {
			t.Fatalf("files %+v", files)
		}
		f := files[0]
		tests, err := unittests.Render(f, generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(tests), "Watchdog fires at every evaluation") || strings.Contains(string(tests), "stays silent") {
			t.Errorf("tests:\n%s", tests)
		}
		servers.ForEachPromtool(t, func(t *testing.T, bin string) {
			dir := t.TempDir()
			writeRuleFile(t, dir, f)
			write(t, filepath.Join(dir, "rules", "tests", f.Name+".test.yaml"), tests)
			checkAndTest(t, bin, dir)
		})
	})
}

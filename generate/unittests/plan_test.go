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

// hostileJob is a job name that breaks any PromQL or YAML built by concatenation.
const hostileJob = `a"} or vector(1) #`

// auditFindings are the gaps an audit reports for two jobs: every alert the rules generator
// writes from findings, for an ordinary job and for a hostile one.
func auditFindings() []analyze.Finding {
	var fs []analyze.Finding
	for _, job := range []string{"checkout", hostileJob} {
		fs = append(fs,
			analyze.NewFinding(checks.AlertsMissingUpName, analyze.Warning, map[string]string{"job": job}, "no up alert", nil),
			analyze.NewFinding(checks.AlertsMissingAbsentName, analyze.Warning, map[string]string{"job": job}, "no absence alert", nil),
			analyze.NewFinding(checks.AlertsMissingBusinessName, analyze.Warning,
				map[string]string{"job": job, "metric": "orders_created_total"}, "no rate alert", map[string]string{"kind": "counter"}),
			analyze.NewFinding(checks.AlertsMissingBusinessName, analyze.Warning,
				map[string]string{"job": job, "metric": "billing_last_success_timestamp_seconds"}, "no staleness alert", map[string]string{"kind": "staleness"}),
		)
	}
	return fs
}

func TestGeneratedRuleFilesPassPromtool(t *testing.T) {
	owners := []generate.Owner{
		{Jobs: "checkout", Team: "payments"},
		// Label values are templates to Prometheus; this one must come out verbatim.
		{Jobs: hostileJob, Team: "{{ $value }} team"},
	}
	for _, tc := range []struct {
		name, golden string
		options      generate.Options
	}{
		{
			"Alerts on stopped counters get tests that promtool passes.", "absolute",
			generate.Options{Owners: owners},
		},
		{
			"Alerts on counters below a threshold, with runbook and dashboard links, get tests that promtool passes.", "threshold",
			generate.Options{
				Owners:         owners,
				Business:       generate.BusinessOptions{Mode: rules.ModeAbsolute, Threshold: 0.3},
				RunbookBaseURL: "https://runbooks.example/{team}/",
				GrafanaURL:     "https://grafana.example/",
			},
		},
		{
			"Alerts on counters that dropped against last week get tests that promtool passes.", "relative",
			generate.Options{Owners: owners, Business: generate.BusinessOptions{Mode: rules.ModeRelative}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := rules.Plan(auditFindings(), tc.options)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 2 {
				t.Fatalf("Plan returned %d rule files, want one per job", len(files))
			}
			dir := t.TempDir()
			for _, f := range files {
				ruleFile, err := rules.Render(f, tc.options)
				if err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(dir, "rules", f.Name+".yaml"), ruleFile)
				tests, err := unittests.Render(f, tc.options)
				if err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(dir, "rules", "tests", f.Name+".test.yaml"), tests)
				golden(t, filepath.Join(tc.golden, f.Name+".test.yaml"), tests)
			}
			if testing.Short() && tc.options.Business.Mode == rules.ModeRelative {
				t.Skip("promtool evaluates the relative alerts' tests over a week, minute by minute")
			}
			servers.ForEachPromtool(t, func(t *testing.T, bin string) { checkAndTest(t, bin, dir) })
		})
	}
}

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

package selfwatch_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
	"github.com/blindspot-dev/blindspot/generate/selfwatch"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// write renders the rule file, its unit tests and runbooks into dir, as generate does.
func write(t *testing.T, dir string, o generate.Options) generate.RuleFile {
	t.Helper()
	rf := selfwatch.RuleFile(o)
	content, err := rules.Render(rf, o)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := unittests.Render(rf, o)
	if err != nil {
		t.Fatal(err)
	}
	files := []generate.File{
		{Path: "rules/" + rf.Name + ".yaml", Content: content},
		{Path: "rules/tests/" + rf.Name + ".test.yaml", Content: tests},
	}
	for _, a := range rf.Alerts {
		rb, err := runbooks.Render(a, o)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rb)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rf
}

func TestSelfWatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stale time.Duration
		want  string
	}{
		{"The default: a check that has not succeeded for 36h.", 0, "> 129600"},
		{"A configured threshold: 8h for a check that runs every hour.", 8 * time.Hour, "> 28800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rf := write(t, dir, generate.Options{CheckStaleAfter: tc.stale})
			rulesFile := filepath.Join(dir, "rules", selfwatch.FileName+".yaml")
			data, err := os.ReadFile(rulesFile)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				"alert: " + selfwatch.AlertCheckStale,
				"time() - max(blindspot_last_success_timestamp_seconds) " + tc.want + " or absent(blindspot_last_success_timestamp_seconds)",
				"alert: " + selfwatch.AlertNewGaps,
				"sum by (check) (blindspot_new_findings) > 0",
				"runbook_url: runbooks/BlindspotCheckStale.md",
			} {
				if !strings.Contains(string(data), want) {
					t.Errorf("%s lacks %q:\n%s", rulesFile, want, data)
				}
			}
			if len(rf.Alerts) != 2 {
				t.Fatalf("%d alerts, want 2", len(rf.Alerts))
			}

			t.Run("Both promtools accept the rules and pass their unit tests: stale, absent, new gaps fire; healthy worlds stay silent.", func(t *testing.T) {
				servers.ForEachPromtool(t, func(t *testing.T, promtool string) {
					for _, args := range [][]string{
						{"check", "rules", rulesFile},
						{"test", "rules", filepath.Join(dir, "rules", "tests", selfwatch.FileName+".test.yaml")},
					} {
						if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
							t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
						}
					}
				})
			})
		})
	}

	t.Run("The unit tests feed the absent world too.", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, generate.Options{})
		data, err := os.ReadFile(filepath.Join(dir, "rules", "tests", selfwatch.FileName+".test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "BlindspotCheckStale fires in failing world 2") {
			t.Errorf("no absent world:\n%s", data)
		}
	})

	t.Run("The runbooks say what the alert means and what to do, with the series it reads.", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, generate.Options{})
		for _, name := range []string{selfwatch.AlertCheckStale, selfwatch.AlertNewGaps} {
			data, err := os.ReadFile(filepath.Join(dir, "runbooks", name+".md"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(data)
			for _, want := range []string{"# " + name + "\n", "An alert on `blindspot check` itself", "## Impact\n\nThe monitoring", "## Diagnosis\n\nThe gap metrics", "- [ ] "} {
				if name == selfwatch.AlertCheckStale && want == "## Impact\n\nThe monitoring" {
					want = "## Impact\n\nNobody learns"
				}
				if !strings.Contains(page, want) {
					t.Errorf("runbook of %s lacks %q:\n%s", name, want, page)
				}
			}
			if strings.Contains(page, "The job's logs") || strings.Contains(page, "<no value>") {
				t.Errorf("runbook of %s has job-centric or missing text:\n%s", name, page)
			}
		}
	})
}

func TestExported(t *testing.T) {
	withNames := func(names ...string) *analyze.Inventory {
		return &analyze.Inventory{Parts: []analyze.Part{analyze.PartMetricNames}, MetricNames: names}
	}
	for _, tc := range []struct {
		name string
		inv  *analyze.Inventory
		o    generate.Options
		want bool
	}{
		{"Nobody exports the gap metrics: the alerts would read metrics that never come.", withNames("up"), generate.Options{}, false},
		{"The configuration says check exports them (Pushgateway or textfile).", withNames("up"), generate.Options{GapMetrics: true}, true},
		{"The server already has them: a check exports them, however it was configured.", withNames(gapmetrics.LastRun, "up"), generate.Options{}, true},
		{"Offline, without the server's metric names, only the configuration says so.", &analyze.Inventory{}, generate.Options{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := selfwatch.Exported(tc.inv, tc.o); got != tc.want {
				t.Errorf("Exported = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSelfWatchOwner(t *testing.T) {
	t.Run("An owner of job blindspot owns the alerts on blindspot, in their labels and their tests.", func(t *testing.T) {
		rf := selfwatch.RuleFile(generate.Options{Owners: []generate.Owner{{Jobs: "payments-*", Team: "payments"}, {Jobs: "blindspot", Team: "sre"}}})
		for _, a := range rf.Alerts {
			if a.Labels["team"] != "sre" || a.Test.FiringLabels["team"] != "sre" {
				t.Errorf("%s: labels %v, firing labels %v, want team sre in both", a.Name, a.Labels, a.Test.FiringLabels)
			}
		}
	})
	t.Run("Without such an owner the alerts carry no owner label.", func(t *testing.T) {
		for _, a := range selfwatch.RuleFile(generate.Options{Owners: []generate.Owner{{Jobs: "payments-*", Team: "payments"}}}).Alerts {
			if _, ok := a.Labels["team"]; ok {
				t.Errorf("%s: labels %v", a.Name, a.Labels)
			}
		}
	})
}

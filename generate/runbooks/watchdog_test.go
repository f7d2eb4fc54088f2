package runbooks_test

import (
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/runbooks"
)

func TestWatchdogRunbook(t *testing.T) {
	t.Run("The heartbeat's runbook explains the dead man's switch and names no job.", func(t *testing.T) {
		finding := analyze.NewFinding(checks.AlertmanagerNoWatchdogName, analyze.Warning, nil, "no watchdog", nil)
		f := rules.Watchdog([]analyze.Finding{finding}, generate.Options{Owners: []generate.Owner{{Jobs: "*", Team: "sre"}}})
		rb, err := runbooks.Render(f[0].Alerts[0], generate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := string(rb.Content)
		if rb.Path != "runbooks/Watchdog.md" || !strings.HasPrefix(got, "<!-- "+generate.Header+" -->") {
			t.Errorf("path %s, content:\n%s", rb.Path, got)
		}
		for _, want := range []string{"# Watchdog", "dead\nman's switch", "prometheus_notifications_dropped_total", "Do not silence this alert"} {
			if !strings.Contains(got, want) {
				t.Errorf("runbook lacks %q:\n%s", want, got)
			}
		}
		for _, unwanted := range []string{"job ``", "{job=", "## Source"} {
			if strings.Contains(got, unwanted) {
				t.Errorf("runbook has %q:\n%s", unwanted, got)
			}
		}
	})
}

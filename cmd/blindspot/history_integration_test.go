package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestIntegrationHistory audits a real Prometheus 3 that keeps five days, holding the up
// series of a job that stopped three days ago, with the lookback set from the environment.
func TestIntegrationHistory(t *testing.T) {
	bins := servers.Find(t)
	end := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var om strings.Builder
	om.WriteString("# TYPE up gauge\n")
	for at := end.Add(-5 * 24 * time.Hour); !at.After(end.Add(-3 * 24 * time.Hour)); at = at.Add(5 * time.Minute) {
		fmt.Fprintf(&om, "up{job=\"legacy\",instance=\"legacy-1\"} 1 %d\n", at.Unix())
	}
	om.WriteString("# EOF\n")
	prom := servers.StartPrometheusWithHistory(t, bins.Prometheus3, servers.HistoryPrometheusOptions{OpenMetrics: om.String(), Retention: "5d"})

	t.Run("With BLINDSPOT_HISTORY_ENABLED=false the history is not read and its checks say so.", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("BLINDSPOT_HISTORY_ENABLED", "false")
		_, out, stderr := cli(t, "audit", "--prometheus-url", prom.URL)
		if !strings.Contains(out, "check jobs/vanished did not run: no history") || strings.Contains(out, "legacy") {
			t.Errorf("report:\n%s\n%s", out, stderr)
		}
	})
	t.Run("With history.enabled: false in the file the history is not read either.", func(t *testing.T) {
		cleanEnv(t)
		path := writeConfig(t, "history:\n  enabled: false\n")
		_, out, stderr := cli(t, "--config", path, "audit", "--prometheus-url", prom.URL)
		if !strings.Contains(out, "check jobs/vanished did not run: no history") || strings.Contains(out, "legacy") {
			t.Errorf("report:\n%s\n%s", out, stderr)
		}
	})
	t.Run("Without a history section the history is read over the default week, clipped to the five days kept, and the vanished job is reported.", func(t *testing.T) {
		cleanEnv(t)
		_, out, stderr := cli(t, "audit", "--prometheus-url", prom.URL)
		if !strings.Contains(out, "    history: the lookback of 7d is clipped to the server's retention of 5d\n") || !strings.Contains(out, "(3d ago) and has none now") {
			t.Errorf("report:\n%s\n%s", out, stderr)
		}
	})
	t.Run("BLINDSPOT_HISTORY_LOOKBACK reads a week, clipped to the five days kept, and the vanished job is reported.", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("BLINDSPOT_HISTORY_LOOKBACK", "168h")
		code, out, stderr := cli(t, "audit", "--prometheus-url", prom.URL)
		if code != exitOK {
			t.Errorf("exit code %d: %s", code, stderr)
		}
		for _, want := range []string{
			"    history: the lookback of 7d is clipped to the server's retention of 5d\n",
			`CRITICAL jobs/vanished  job "legacy" had up series until `,
			"(3d ago) and has none now",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the report lacks %q:\n%s", want, out)
			}
		}
	})
}

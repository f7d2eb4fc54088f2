package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// findingRules returns the sorted rule subjects of the findings of check.
func findingRules(r report.Report, check string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Check == check {
			out = append(out, f.Subject["rule"])
		}
	}
	slices.Sort(out)
	return out
}

// TestRoutingClosedLoop makes real alerts fire through a real Alertmanager and checks that
// what its receivers got matches blindspot's classification of every rule exactly.
func TestRoutingClosedLoop(t *testing.T) {
	am := servers.FindAlertmanager(t)
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		closedLoop(t, servers.StartAlertingScenario(t, binary, am))
	})
}

func closedLoop(t *testing.T, sc *servers.AlertingScenario) {

	// Every alert reaches the Alertmanager; then the routed ones reach their endpoints, and
	// the heartbeat repeating twice more says Alertmanager flushed its groups after that.
	sc.WaitForAlerts(t, sc.Rules...)
	servers.WaitFor(t, "the pager, chat and heartbeat endpoints got their notifications", func() bool {
		return slices.Contains(sc.Webhooks.AlertNames(servers.PathPager), servers.AlertPaymentsDown) &&
			len(sc.Webhooks.Deliveries(servers.PathChat)) >= 2 &&
			len(sc.Webhooks.Deliveries(servers.PathHeartbeat)) >= 1
	})
	seen := len(sc.Webhooks.Deliveries(servers.PathHeartbeat))
	servers.WaitFor(t, "two more heartbeats", func() bool {
		return len(sc.Webhooks.Deliveries(servers.PathHeartbeat)) >= seen+2
	})

	rep := auditJSON(t, exitOK, "--prometheus-url", sc.PrometheusURL)
	if len(rep.Sources) != 2 || rep.Sources[1].Name != "alertmanager" || !rep.Sources[1].OK || rep.Sources[1].URL != sc.Alertmanager.URL {
		t.Fatalf("sources %+v, want the Alertmanager Prometheus sends to, read completely", rep.Sources)
	}
	// Debian's Alertmanager says its version in /api/v2/status.
	if v := rep.Sources[1].Version; !regexp.MustCompile(`^0\.\d+\.\d+`).MatchString(v) {
		t.Errorf("Alertmanager version %q, want 0.x.y", v)
	}

	unrouted := findingRules(rep, "alerts/unrouted")
	if want := []string{servers.AlertBatchDown, servers.AlertOrphanDown}; !slices.Equal(unrouted, want) {
		t.Errorf("alerts/unrouted %v, want %v", unrouted, want)
	}
	silenced := findingRules(rep, "alerts/silenced")
	if want := []string{servers.AlertSilencedDown}; !slices.Equal(silenced, want) {
		t.Errorf("alerts/silenced %v, want %v", silenced, want)
	}
	if got, want := findingRules(rep, "alerts/no-owner"), []string{servers.AlertOrphanDown}; !slices.Equal(got, want) {
		t.Errorf("alerts/no-owner %v, want %v", got, want)
	}
	for _, f := range rep.Findings {
		if f.Check == "alertmanager/no-watchdog" || f.Check == "alertmanager/not-connected" {
			t.Errorf("unexpected %s: %s", f.Check, f.Message)
		}
	}

	// The closed loop: a critical alert blindspot calls routed and not silenced reached the
	// pager; one it calls unrouted or silenced did not. Nothing else reached the pager.
	paged := sc.Webhooks.AlertNames(servers.PathPager)
	var wantPaged []string
	for _, name := range []string{servers.AlertPaymentsDown, servers.AlertOrphanDown, servers.AlertBatchDown, servers.AlertSilencedDown} {
		if !slices.Contains(unrouted, name) && !slices.Contains(silenced, name) {
			wantPaged = append(wantPaged, name)
		}
	}
	if !slices.Equal(paged, wantPaged) {
		t.Errorf("the pager got %v, blindspot says %v page", paged, wantPaged)
	}
	// The alert routed to the null receiver reached no endpoint at all, nor did the silenced one.
	for _, path := range []string{servers.PathPager, servers.PathChat, servers.PathHeartbeat} {
		for _, d := range sc.Webhooks.Deliveries(path) {
			for _, name := range []string{servers.AlertOrphanDown, servers.AlertSilencedDown} {
				if slices.ContainsFunc(d.Alerts, func(a map[string]string) bool { return a["alertname"] == name }) || containsWord(d.Text, name) {
					t.Errorf("%s reached %s", name, path)
				}
			}
		}
	}
	if got := sc.Webhooks.AlertNames(servers.PathHeartbeat); !slices.Equal(got, []string{servers.AlertWatchdog}) {
		t.Errorf("the heartbeat endpoint got %v", got)
	}

	// The coverage matrix: payments-api pages the pager, batch pages nobody.
	for _, row := range rep.Coverage {
		want := map[string][]string{servers.AlertingJobPayments: {"pager"}, servers.AlertingJobBatch: {}}[row.Job]
		if !slices.Equal(row.Pages, want) {
			t.Errorf("job %s pages %v, want %v", row.Job, row.Pages, want)
		}
	}

	// A snapshot holds the Alertmanager's answers: the offline audit finds the same.
	snap := filepath.Join(t.TempDir(), "snap")
	if code, _, stderr := cli(t, "snapshot", "--prometheus-url", sc.PrometheusURL, "--out", snap); code != exitOK {
		t.Fatalf("snapshot exited %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(snap, "alertmanager", "alertmanager_config.json")); err != nil {
		t.Errorf("snapshot lacks the Alertmanager's status: %v", err)
	}
	offline := auditJSON(t, exitOK, "--from", snap)
	if !slices.Equal(findingRules(offline, "alerts/unrouted"), unrouted) || !slices.Equal(findingRules(offline, "alerts/silenced"), silenced) {
		t.Errorf("offline unrouted %v silenced %v, live %v %v", findingRules(offline, "alerts/unrouted"), findingRules(offline, "alerts/silenced"), unrouted, silenced)
	}

	// generate writes a routing tree for the unrouted alerts, and no Watchdog: one is routed.
	gen := filepath.Join(t.TempDir(), "gen")
	if code, _, stderr := cli(t, "generate", "--prometheus-url", sc.PrometheusURL, "--out", gen); code != exitOK {
		t.Fatalf("generate exited %d: %s", code, stderr)
	}
	routes, err := os.ReadFile(filepath.Join(gen, "alertmanager", "routes.yaml"))
	if err != nil || !strings.HasPrefix(string(routes), "# Code generated by blindspot. DO NOT EDIT.\n") {
		t.Errorf("alertmanager/routes.yaml: %v\n%s", err, routes)
	}
	if _, err := os.Stat(filepath.Join(gen, "runbooks", "Watchdog.md")); err == nil {
		t.Error("a Watchdog was generated although one is routed")
	}

	// The Alertmanager going away makes the report partial.
	sc.Alertmanager.Process.Stop()
	code, out, _ := cli(t, "audit", "--prometheus-url", sc.PrometheusURL, "--format", "json")
	if code != exitSource {
		t.Errorf("audit with the Alertmanager down exited %d, want %d", code, exitSource)
	}
	if down := decodeReport(t, []byte(out)); len(down.Sources) != 2 || down.Sources[1].OK {
		t.Errorf("sources %+v, want the Alertmanager not read", down.Sources)
	}
}

func containsWord(text, word string) bool {
	return slices.Contains(strings.Fields(text), word)
}

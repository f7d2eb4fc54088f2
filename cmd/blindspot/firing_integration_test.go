package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// firingRules read up or a business counter, but cannot page for what they seem to watch: a
// join with node_uname_info (only the node exporter's job exposes it), an alert on the rate of
// billing's counter going above a threshold, an alert whose evaluation fails (one-to-one
// matching with several series on the right: many-to-many), and an alert on the recording
// rule the scenario breaks on purpose.
const firingRules = `groups:
  - name: firing
    rules:
      - alert: NodeJoinDown
        expr: (up == 0) * on(instance) group_left(nodename) node_uname_info
        labels: {severity: critical}
        annotations: {runbook_url: "https://runbooks.example/NodeJoinDown"}
      - alert: InvoicesSpike
        expr: rate(invoices_created_total[5m]) > 100
        labels: {severity: warning}
        annotations: {runbook_url: "https://runbooks.example/InvoicesSpike"}
      - alert: PaymentsAPIDownEverywhere
        expr: (up{job="payments-api"} == 0) * on() up
        labels: {severity: critical}
        annotations: {runbook_url: "https://runbooks.example/PaymentsAPIDownEverywhere"}
      - alert: CollapsedDown
        expr: broken:up:collapsed == 0
        labels: {severity: critical}
        annotations: {runbook_url: "https://runbooks.example/CollapsedDown"}
`

// TestRulesThatCannotFire loads rules that read what they seem to watch without being able to
// page for it into a real Prometheus of each major: the audit, live and from a snapshot,
// reports the same gaps as without them, plus the failing rule.
func TestRulesThatCannotFire(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		sc := servers.StartScenario(t, binary, servers.WithHostileJob())
		dir := t.TempDir()
		sc.AddRuleFiles(t, writeFile(t, dir, "firing.yml", firingRules))

		want := append(expectedFindings(sc), keyOf("rules/broken", map[string]string{"rule": "PaymentsAPIDownEverywhere"}))
		assertAudit := func(t *testing.T, args ...string) report.Report {
			t.Helper()
			r := auditJSON(t, exitOK, args...)
			wantExactly(t, r, want)
			rows := map[string]report.CoverageRow{}
			for _, row := range r.Coverage {
				rows[row.Job] = row
			}
			if up := rows[servers.JobNode].UpAlerts; !slices.Contains(up, "NodeJoinDown") {
				t.Errorf("node's up alerts %q lack the join with node_uname_info, which node exposes", up)
			}
			for _, job := range []string{servers.JobPaymentsAPI, servers.HostileJob} {
				if up := rows[job].UpAlerts; len(up) != 0 {
					t.Errorf("%s's up alerts %q, want none", job, up)
				}
			}
			for _, f := range r.Findings {
				if f.Check == "alerts/missing-business" && f.Subject["metric"] == "invoices_created_total" && f.Details["read_by"] != `"InvoicesSpike"` {
					t.Errorf("billing's counter: details %v, want read_by InvoicesSpike", f.Details)
				}
			}
			return r
		}

		t.Run("Live, the join covers only the job exposing the joined metric, the rate-above alert no counter, and failing rules nothing.", func(t *testing.T) {
			assertAudit(t, "--prometheus-url", sc.PrometheusURL)
		})

		t.Run("A snapshot records which jobs expose the joined metric and replays the same verdicts.", func(t *testing.T) {
			snap := filepath.Join(t.TempDir(), "snap")
			if code, _, stderr := cli(t, "snapshot", "--prometheus-url", sc.PrometheusURL, "--out", snap); code != exitOK {
				t.Fatalf("snapshot exited %d: %s", code, stderr)
			}
			assertAudit(t, "--from", snap)
		})
	})
}

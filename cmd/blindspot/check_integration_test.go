package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/internal/sariftest"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestCheckStories runs the baseline stories of `blindspot check` against a real Prometheus of
// each major with the scenario's gaps: the same gaps pass, a fixed gap passes and is reported
// as resolved, a new gap fails, an expired exception is reported and fails, a source that is
// down is exit 3 and resolves nothing; the gap metrics reach the scenario's real Pushgateway.
func TestCheckStories(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		sc := servers.StartScenario(t, binary, servers.WithHostileJob())
		dir := t.TempDir()
		base := filepath.Join(dir, "blindspot-baseline.json")
		check := func(want int, args ...string) string {
			t.Helper()
			args = append([]string{"check", "--prometheus-url", sc.PrometheusURL, "--baseline", base}, args...)
			code, out, stderr := cli(t, args...)
			if code != want {
				t.Fatalf("blindspot %s exited %d, want %d:\n%s%s", strings.Join(args, " "), code, want, out, stderr)
			}
			return out
		}

		check(exitOK, "--update-baseline")
		b, err := baseline.Read(base)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Findings) != len(expectedFindings(sc)) {
			t.Errorf("the baseline holds %d findings, want the scenario's %d", len(b.Findings), len(expectedFindings(sc)))
		}

		t.Run("The same gaps: exit 0, nothing new.", func(t *testing.T) {
			out := check(exitOK)
			if !strings.Contains(out, "no new gaps (warning or worse)") {
				t.Errorf("output:\n%s", out)
			}
		})

		t.Run("A fixed gap: exit 0 and reported as resolved.", func(t *testing.T) {
			sc.AddRuleFiles(t, writeFile(t, dir, "fix.yml", `groups:
  - name: payments
    rules:
      - alert: PaymentsAPIDown
        expr: up{job="payments-api"} == 0
        for: 2m
        labels: {severity: critical}
        annotations: {runbook_url: "https://runbooks.example/PaymentsAPIDown"}
`))
			out := check(exitOK)
			if !strings.Contains(out, "Resolved:\n  alerts/missing-up job=\""+servers.JobPaymentsAPI+"\"") {
				t.Errorf("alerts/missing-up of %s not reported as resolved:\n%s", servers.JobPaymentsAPI, out)
			}
		})

		t.Run("A new gap: exit 1, naming it.", func(t *testing.T) {
			sc.AddRuleFiles(t, writeFile(t, dir, "new.yml", `groups:
  - name: queue
    rules:
      - alert: QueueStuck
        expr: up{job="node"} == 0
        labels: {severity: warning}
`))
			out := check(exitFindings)
			if !strings.Contains(out, `WARNING  alerts/no-runbook rule="QueueStuck"`) {
				t.Errorf("the new gap is not named:\n%s", out)
			}
		})

		t.Run("The check as SARIF is valid against the SARIF 2.1.0 schema and as JUnit is XML Jenkins reads.", func(t *testing.T) {
			validateSARIF(t, []byte(check(exitFindings, "--format", "sarif")))
			junit := check(exitFindings, "--format", "junit")
			if !strings.Contains(junit, `<testsuite name="alerts/no-runbook"`) || !strings.Contains(junit, `<failure message="alert &#34;QueueStuck&#34; has no runbook_url annotation" type="warning">`) {
				t.Errorf("JUnit output lacks the failing new gap:\n%s", junit)
			}
		})

		t.Run("An expired exception is reported and fails the check.", func(t *testing.T) {
			check(exitOK, "--update-baseline")
			cfg := writeFile(t, dir, "blindspot.yaml", `ignore:
  - check: targets/down
    subject: {job: "payments-*"}
    reason: payments-api is being retired
    expires: 2020-01-31
`)
			code, out, stderr := cli(t, "--config", cfg, "check", "--prometheus-url", sc.PrometheusURL, "--baseline", base, "--format", "markdown")
			if code != exitFindings {
				t.Fatalf("exit %d, want 1: %s%s", code, out, stderr)
			}
			if !strings.Contains(out, "| `targets/down` | job=\"payments-\\*\" | payments-api is being retired | 2020-01-31 | 1 |") {
				t.Errorf("the expired exception is not reported:\n%s", out)
			}
		})

		t.Run("The gap metrics reach the Pushgateway and pass promtool check metrics.", func(t *testing.T) {
			check(exitOK, "--pushgateway", sc.PushgatewayURL)
			_, data := servers.Get(t, sc.PushgatewayURL+"/metrics")
			var families bytes.Buffer
			for _, line := range strings.SplitAfter(string(data), "\n") {
				if strings.HasPrefix(line, "blindspot_") || strings.HasPrefix(line, "# HELP blindspot_") || strings.HasPrefix(line, "# TYPE blindspot_") {
					families.WriteString(line)
				}
			}
			for _, want := range []string{
				// The down targets of payments-api and of the hostile job.
				`blindspot_findings{check="targets/down",instance="",job="blindspot",severity="critical"} 2`,
				`blindspot_new_findings{check="targets/down",instance="",job="blindspot",severity="critical"} 0`,
				`blindspot_source_up{instance="",job="blindspot",source="prometheus"} 1`,
				"blindspot_last_success_timestamp_seconds{",
			} {
				if !strings.Contains(families.String(), want) {
					t.Errorf("the Pushgateway serves no %s:\n%s", want, families.String())
				}
			}
			servers.ForEachPromtool(t, func(t *testing.T, promtool string) {
				cmd := exec.Command(promtool, "check", "metrics")
				cmd.Stdin = bytes.NewReader(families.Bytes())
				if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
					t.Errorf("promtool check metrics: %v\n%s", err, out)
				}
			})
		})

		t.Run("A source that is down: exit 3, and updating the baseline resolves nothing.", func(t *testing.T) {
			before, err := os.ReadFile(base)
			if err != nil {
				t.Fatal(err)
			}
			sc.Prometheus.Stop()
			out := check(exitSource, "--update-baseline")
			if !strings.Contains(out, "Source not read completely: prometheus") {
				t.Errorf("output does not say the source was not read:\n%s", out)
			}
			after, err := os.ReadFile(base)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("a run that read nothing changed the baseline:\n%s\nwas\n%s", after, before)
			}
		})
	})
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// validateSARIF validates a SARIF log against the SARIF 2.1.0 schema.
func validateSARIF(t *testing.T, data []byte) {
	t.Helper()
	if err := sariftest.Validate(data); err != nil {
		t.Errorf("invalid SARIF: %v\n%s", err, data)
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestClosedLoop is the acceptance test of generate: audit a real Prometheus of each major,
// generate, load the generated rules into that Prometheus, audit again, and the coverage gaps
// are gone; the generated up alerts fire for exactly the down targets, and the alerts on
// blindspot check itself fire on the gap metrics it pushes.
func TestClosedLoop(t *testing.T) {
	bins := servers.Find(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		sc := servers.StartScenario(t, binary, servers.WithHostileJob())
		coverageChecks := []string{"alerts/missing-up", "alerts/missing-absent", "alerts/missing-business"}

		code, out, stderr := cli(t, "audit", "--prometheus-url", sc.PrometheusURL, "--format", "json")
		if code != exitOK {
			t.Fatalf("audit exited %d: %s", code, stderr)
		}
		var before []findingKey
		for _, f := range decodeReport(t, []byte(out)).Findings {
			if slices.Contains(coverageChecks, f.Check) {
				before = append(before, keyOf(f.Check, f.Subject))
			}
		}
		if len(before) == 0 {
			t.Fatal("the scenario has no coverage gap to close")
		}

		dir := t.TempDir()
		if code, out, stderr := cli(t, "generate", "--prometheus-url", sc.PrometheusURL, "--out", dir); code != exitOK {
			t.Fatalf("generate exited %d: %s%s", code, out, stderr)
		}
		if code, out, stderr := cli(t, "generate", "--prometheus-url", sc.PrometheusURL, "--out", dir, "--check"); code != exitOK {
			t.Errorf("generate --check right after generate exited %d: %s%s", code, out, stderr)
		}
		files, err := filepath.Glob(filepath.Join(dir, "rules", "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no rule files generated (%v)", err)
		}
		sc.AddRuleFiles(t, files...)
		// The generated self-watch rules read the gap metrics of blindspot check: push them
		// to the scenario's Pushgateway (exit 1: the scenario has gaps and no baseline) and
		// wait until Prometheus has scraped them.
		if code, out, stderr := cli(t, "check", "--prometheus-url", sc.PrometheusURL, "--pushgateway", sc.PushgatewayURL); code != exitFindings {
			t.Fatalf("check exited %d: %s%s", code, out, stderr)
		}
		waitForAlert(t, sc.PrometheusURL, "BlindspotNewGaps", "firing")

		code, out, stderr = cli(t, "audit", "--prometheus-url", sc.PrometheusURL, "--format", "json")
		if code != exitOK {
			t.Fatalf("second audit exited %d: %s", code, stderr)
		}
		for _, f := range decodeReport(t, []byte(out)).Findings {
			if k := keyOf(f.Check, f.Subject); slices.Contains(before, k) {
				t.Errorf("still reported after loading the generated rules: %s", k)
			}
			if f.Check == "rules/broken" && f.Subject["rule"] != servers.RecordBroken {
				t.Errorf("a generated rule fails: %s", f.Message)
			}
			// Generated rules (ruleset packs included) read only metrics that exist.
			if f.Check == "rules/unknown-metric" && strings.HasPrefix(f.File, dir) {
				t.Errorf("a generated rule can never fire: %s", f.Message)
			}
		}

		// The generated up alerts are pending or firing for exactly the down targets.
		want := []string{servers.HostileJob, servers.JobPaymentsAPI}
		slices.Sort(want)
		var got []string
		deadline := time.Now().Add(servers.ReadyTimeout)
		for {
			got = generatedUpAlertJobs(t, sc.PrometheusURL)
			if slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !slices.Equal(got, want) {
			t.Errorf("generated up alerts active for jobs %q, want %q", got, want)
		}
		// The check just succeeded: the staleness alert on it is silent.
		for _, a := range activeAlerts(t, sc.PrometheusURL) {
			if a.Labels["alertname"] == "BlindspotCheckStale" {
				t.Errorf("BlindspotCheckStale is %s right after a successful check", a.State)
			}
		}
	})
}

// generatedUpAlertJobs lists the jobs of active generated up alerts (their names end in
// TargetDown and they carry generated_by: blindspot).
func generatedUpAlertJobs(t *testing.T, base string) []string {
	t.Helper()
	var jobs []string
	for _, a := range activeAlerts(t, base) {
		if a.Labels["generated_by"] == "blindspot" && strings.HasSuffix(a.Labels["alertname"], "TargetDown") &&
			(a.State == "pending" || a.State == "firing") {
			jobs = append(jobs, a.Labels["job"])
		}
	}
	slices.Sort(jobs)
	return jobs
}

// waitForAlert waits until Prometheus has an alert of the name in the state.
func waitForAlert(t *testing.T, base, name, state string) {
	t.Helper()
	deadline := time.Now().Add(servers.ReadyTimeout)
	for {
		for _, a := range activeAlerts(t, base) {
			if a.Labels["alertname"] == name && a.State == state {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s alert %s within %s", state, name, servers.ReadyTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type activeAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func activeAlerts(t *testing.T, base string) []activeAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []activeAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Data.Alerts
}

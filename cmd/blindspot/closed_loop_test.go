package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/rulefiles"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// thirdPartyRules is a real third-party rule file: its PrometheusRuleEvaluationFailures is
// the alert the Prometheus pack would generate for job prometheus, under the same name.
var thirdPartyRules = testcorpus.Copied("rules/awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml")

// thirdPartyWithoutUp writes the alerts of thirdPartyRules that do not read up, verbatim, to a
// temporary file: its up == 0 and absent(up) alerts would cover every job of the scenario,
// leaving no gap for the generated up and absence alerts to close.
func thirdPartyWithoutUp(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(thirdPartyRules)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string           `yaml:"name"`
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for i, g := range doc.Groups {
		doc.Groups[i].Rules = slices.DeleteFunc(g.Rules, func(r map[string]any) bool {
			e, err := analyze.ParseExpr(fmt.Sprint(r["expr"]))
			if err != nil {
				t.Fatalf("%s: %v", thirdPartyRules, err)
			}
			return slices.ContainsFunc(parser.ExtractSelectors(e), func(ms []*labels.Matcher) bool {
				return slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return m.Name == labels.MetricName && m.Matches("up") })
			})
		})
		kept += len(doc.Groups[i].Rules)
	}
	if kept < 20 {
		t.Fatalf("only %d alerts of %s kept", kept, thirdPartyRules)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), filepath.Base(thirdPartyRules), string(out))
}

// TestClosedLoop is the acceptance test of generate: audit a real Prometheus of each major
// (with third-party rules loaded and a real Alertmanager), generate, load the generated rules
// into that Prometheus and the generated routes into that Alertmanager, audit again: the
// coverage gaps are gone and no finding is new but the one that says the generated alerts
// need owners; the generated up alerts fire for exactly the down targets, and the alerts on
// blindspot check itself fire on the gap metrics it pushes.
func TestClosedLoop(t *testing.T) {
	bins := servers.Find(t)
	amBins := servers.FindAlertmanager(t)
	hooks := servers.StartWebhookRecorder(t)
	bins.ForEachPrometheus(t, func(t *testing.T, binary string) {
		// Before: every alert goes to one webhook, the way a small setup starts.
		am := servers.StartAlertmanager(t, amBins.Alertmanager, servers.AMConfig{
			Route:     servers.AMRoute{Receiver: "ops", GroupBy: []string{"alertname"}},
			Receivers: []servers.AMReceiver{{Name: "ops", WebhookConfigs: []servers.AMWebhook{{URL: hooks.URL + "/ops"}}}},
		})
		sc := servers.StartScenario(t, binary, servers.WithHostileJob(), servers.WithAlertmanager(am.URL))
		sc.AddRuleFiles(t, thirdPartyWithoutUp(t))
		coverageChecks := []string{"alerts/missing-up", "alerts/missing-absent", "alerts/missing-business"}

		// The history checks judge what the server stored up to the last whole minute: both
		// audits must see the live series there, or the second would report what the first
		// could not see yet.
		waitForHistoryEnd()
		first := auditJSON(t, exitOK, "--prometheus-url", sc.PrometheusURL)
		var before []findingKey
		for _, f := range first.Findings {
			if slices.Contains(coverageChecks, f.Check) {
				before = append(before, keyOf(f.Check, f.Subject))
			}
		}
		if len(before) == 0 {
			t.Fatal("the scenario has no coverage gap to close")
		}
		firstKeys := keys(first)

		// The configuration says where check pushes its gap metrics: the alerts on them are
		// generated.
		dir := t.TempDir()
		config := writeFile(t, t.TempDir(), "blindspot.yaml", "pushgateway:\n  url: "+sc.PushgatewayURL+"\n")
		code, out, stderr := cli(t, "--config", config, "generate", "--prometheus-url", sc.PrometheusURL, "--out", dir)
		if code != exitOK {
			t.Fatalf("generate exited %d: %s%s", code, out, stderr)
		}
		// The pack alert the third-party file has already is left out, and generate says so.
		if !strings.Contains(out, `note: left out PrometheusRuleEvaluationFailures of ruleset prometheus for job "prometheus": an alert of that name is already loaded (group "EmbeddedExporter", file "`) {
			t.Errorf("generate does not say it left out PrometheusRuleEvaluationFailures:\n%s", out)
		}
		if code, out, stderr := cli(t, "--config", config, "generate", "--prometheus-url", sc.PrometheusURL, "--out", dir, "--check"); code != exitOK {
			t.Errorf("generate --check right after generate exited %d: %s%s", code, out, stderr)
		}
		files, err := filepath.Glob(filepath.Join(dir, "rules", "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no rule files generated (%v)", err)
		}
		generated := generatedAlertNames(t, files)
		if slices.Contains(generated, "PrometheusRuleEvaluationFailures") {
			t.Error("PrometheusRuleEvaluationFailures generated although the third-party rules have it")
		}
		sc.AddRuleFiles(t, files...)
		am.Reload(t, filledRoutes(t, filepath.Join(dir, "alertmanager", "routes.yaml"), hooks.URL))

		// The generated self-watch rules read the gap metrics of blindspot check: push them
		// to the scenario's Pushgateway (exit 1: the scenario has gaps and no baseline) and
		// wait until Prometheus has scraped them.
		if code, out, stderr := cli(t, "--config", config, "check", "--prometheus-url", sc.PrometheusURL); code != exitFindings {
			t.Fatalf("check exited %d: %s%s", code, out, stderr)
		}
		waitForAlert(t, sc.PrometheusURL, "BlindspotNewGaps", "firing")

		ownersOnce := 0
		for _, f := range auditJSON(t, exitOK, "--prometheus-url", sc.PrometheusURL).Findings {
			k := keyOf(f.Check, f.Subject)
			if slices.Contains(before, k) {
				t.Errorf("still reported after loading the generated rules: %s", k)
			}
			if f.Check == "rules/broken" && f.Subject["rule"] != servers.RecordBroken {
				t.Errorf("a generated rule fails: %s", f.Message)
			}
			if strings.HasPrefix(f.File, dir) || slices.Contains(generated, f.Subject["rule"]) {
				t.Errorf("a generated rule adds a finding: %s %s: %s", k, f.File, f.Message)
				continue
			}
			if _, old := firstKeys[k]; old {
				continue
			}
			// The one new finding allowed: the generated alerts have no owner (the
			// configuration has no generate.owners), said once, with the fix.
			if f.Check == "alerts/no-owner" && f.Subject["generated_by"] == "blindspot" && len(f.Subject) == 1 && strings.Contains(f.Fix, "generate.owners") {
				ownersOnce++
				continue
			}
			t.Errorf("new finding after loading what generate wrote: %s: %s", k, f.Message)
		}
		if ownersOnce != 1 {
			t.Errorf("%d findings say the generated alerts have no owner, want 1\n%s", ownersOnce, out)
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

// generatedAlertNames reads the alert names of the generated rule files.
func generatedAlertNames(t *testing.T, files []string) []string {
	t.Helper()
	res, err := rulefiles.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			if r.Kind == analyze.RuleAlerting {
				names = append(names, r.Name)
			}
		}
	}
	return names
}

// filledRoutes reads the generated alertmanager/routes.yaml and gives every placeholder
// receiver a webhook, as its comment asks the user to.
func filledRoutes(t *testing.T, path, hooksURL string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	receivers, _ := cfg["receivers"].([]any)
	if len(receivers) == 0 {
		t.Fatalf("%s has no receivers:\n%s", path, data)
	}
	for _, r := range receivers {
		rm := r.(map[string]any)
		rm["webhook_configs"] = []any{map[string]any{"url": hooksURL + "/" + url.PathEscape(rm["name"].(string))}}
	}
	return cfg
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

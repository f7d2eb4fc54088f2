package servers

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScenario(t *testing.T) {
	bins := Find(t)
	for _, tc := range []struct {
		name   string
		binary string
		// droppedTargetCounts appeared after 2.42: older servers only list droppedTargets.
		droppedTargetCounts bool
	}{
		{"Prometheus 2 runs the scenario and reports every gap.", bins.Prometheus2, false},
		{"Prometheus 3 runs the scenario and reports every gap.", bins.Prometheus3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s := StartScenario(t, tc.binary, WithHostileJob())
			t.Logf("%s: scenario settled in %s", tc.binary, time.Since(start).Round(time.Millisecond))

			client := &http.Client{Timeout: 5 * time.Second}
			assertTargets(t, client, s, tc.droppedTargetCounts)
			assertPushedMetrics(t, client, s)
			assertRules(t, client, s)
		})
	}
}

func assertTargets(t *testing.T, client *http.Client, s *Scenario, droppedTargetCounts bool) {
	t.Helper()
	var targets targetsData
	if err := getAPI(client, s.PrometheusURL, "/api/v1/targets?state=any", &targets); err != nil {
		t.Fatal(err)
	}
	byJob := map[string][]activeTarget{}
	for _, tg := range targets.ActiveTargets {
		byJob[tg.ScrapePool] = append(byJob[tg.ScrapePool], tg)
	}
	want := map[string]string{}
	for _, j := range s.UpJobs {
		want[j] = "up"
	}
	for _, j := range s.DownJobs {
		want[j] = "down"
	}
	for job, health := range want {
		got := byJob[job]
		if len(got) != 1 {
			t.Errorf("job %q: %d active targets, want 1", job, len(got))
			continue
		}
		tg := got[0]
		if tg.Health != health {
			t.Errorf("job %q: health %q (last error %q), want %q", job, tg.Health, tg.LastError, health)
		}
		if tg.Labels["job"] != job || tg.Labels["instance"] != s.Instances[job] {
			t.Errorf("job %q: labels %v, want job=%q instance=%q", job, tg.Labels, job, s.Instances[job])
		}
		if health == "down" && tg.LastError == "" {
			t.Errorf("job %q is down without a lastError", job)
		}
	}
	for _, job := range slices.Concat(s.EmptyDiscoveryJobs, s.DroppedJobs) {
		if n := len(byJob[job]); n != 0 {
			t.Errorf("job %q: %d active targets, want none", job, n)
		}
	}
	if s.Instances[JobPaymentsAPI] != s.DownInstance {
		t.Errorf("DownInstance %q is not the payments-api target %q", s.DownInstance, s.Instances[JobPaymentsAPI])
	}
	if !slices.Contains(s.DownJobs, HostileJob) || s.HostileJob != HostileJob {
		t.Errorf("hostile job %q missing from DownJobs %q", HostileJob, s.DownJobs)
	}

	dropped := map[string]int{}
	for _, tg := range targets.DroppedTargets {
		dropped[tg.DiscoveredLabels["job"]]++
	}
	for _, job := range s.DroppedJobs {
		if dropped[job] == 0 {
			t.Errorf("job %q has no entry in droppedTargets", job)
		}
	}
	for _, job := range s.EmptyDiscoveryJobs {
		if dropped[job] != 0 {
			t.Errorf("job %q has %d droppedTargets, want none", job, dropped[job])
		}
	}

	if !droppedTargetCounts {
		if targets.DroppedTargetCounts != nil {
			t.Errorf("droppedTargetCounts %v present on a server assumed not to have it", targets.DroppedTargetCounts)
		}
		return
	}
	if targets.DroppedTargetCounts == nil {
		t.Fatal("/api/v1/targets has no droppedTargetCounts")
	}
	for _, job := range s.DroppedJobs {
		if targets.DroppedTargetCounts[job] <= 0 {
			t.Errorf("droppedTargetCounts[%q] = %d, want > 0 (all: %v)", job, targets.DroppedTargetCounts[job], targets.DroppedTargetCounts)
		}
	}
	for _, job := range s.EmptyDiscoveryJobs {
		if n := targets.DroppedTargetCounts[job]; n != 0 {
			t.Errorf("droppedTargetCounts[%q] = %d, want 0", job, n)
		}
	}
}

// assertPushedMetrics checks that honor_labels kept the job label each group was pushed with.
func assertPushedMetrics(t *testing.T, client *http.Client, s *Scenario) {
	t.Helper()
	for _, g := range s.Pushed {
		for _, metric := range g.Metrics {
			var series []map[string]string
			path := "/api/v1/series?" + url.Values{"match[]": {metric}}.Encode()
			if err := getAPI(client, s.PrometheusURL, path, &series); err != nil {
				t.Fatal(err)
			}
			if len(series) != 1 || series[0]["job"] != g.Job {
				t.Errorf("series of %s: %v, want one with job=%q", metric, series, g.Job)
			}
		}
	}
}

func assertRules(t *testing.T, client *http.Client, s *Scenario) {
	t.Helper()
	var rules rulesData
	if err := getAPI(client, s.PrometheusURL, "/api/v1/rules", &rules); err != nil {
		t.Fatal(err)
	}
	var groups, alerts, noRunbook, records []string
	for _, g := range rules.Groups {
		groups = append(groups, g.Name)
		for _, r := range g.Rules {
			wantHealth := "ok"
			if slices.Contains(s.BrokenRules, r.Name) {
				wantHealth = "err"
			}
			if r.Health != wantHealth {
				t.Errorf("rule %q has health %q, want %q", r.Name, r.Health, wantHealth)
			}
			switch r.Type {
			case "alerting":
				alerts = append(alerts, r.Name)
				if r.Annotations["runbook_url"] == "" {
					noRunbook = append(noRunbook, r.Name)
				}
			case "recording":
				records = append(records, r.Name)
			}
		}
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"rule groups", groups, s.RuleGroups},
		{"alerts", alerts, s.Alerts},
		{"alerts without runbook", noRunbook, s.AlertsWithoutRunbook},
		{"recording rules", records, s.RecordingRules},
	} {
		// Prometheus lists groups and rules in its own order (by group name), not the file's.
		if !slices.Equal(slices.Sorted(slices.Values(c.got)), slices.Sorted(slices.Values(c.want))) {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestDefaultPrometheus3FollowsGoMod(t *testing.T) {
	version, err := pinnedVersion(prometheusModule)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "v0.") {
		t.Errorf("pinned %s version %q, want a v0.x module version", prometheusModule, version)
	}
	t.Setenv("BLINDSPOT_CACHE", "/cache")
	if got, want := defaultPrometheus3(), "/cache/prometheus-"+version+"/prometheus"; got != want {
		t.Errorf("defaultPrometheus3() = %q, want %q", got, want)
	}
}

// fatalRecorder stands in for the test in helpers expected to fail: it records the message and
// stops the helper's goroutine like t.Fatal does.
type fatalRecorder struct {
	testing.TB
	message string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.message = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestServerExitingBeforeReadyFailsWithItsLog(t *testing.T) {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p := StartProcess(r, "crashing", "/bin/sh", "-c", "echo 'bad flag --nope'; exit 3")
		p.WaitReady(r, "http://"+FreeAddress(t)+"/-/ready")
	}()
	<-done
	for _, want := range []string{"crashing exited before", "exit status 3", "bad flag --nope"} {
		if !strings.Contains(r.message, want) {
			t.Errorf("failure message %q does not contain %q", r.message, want)
		}
	}
}

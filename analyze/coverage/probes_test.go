package coverage

import (
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
)

// probeWorld has the probe jobs web (two probes) and dns (one) whose series carry
// probe_success, and the scraped job api, under rules.
func probeWorld(rules ...analyze.Rule) world {
	return world{
		targets: []analyze.Target{
			target("web", "https://a.example"), target("web", "https://b.example"),
			target("dns", "8.8.8.8", "module", "dns"), target("api", "api-1:8080"),
		},
		jobMetrics: map[string][]string{"web": {ProbeSuccess}, "dns": {ProbeSuccess}, "api": {"http_requests_total"}},
		rules:      rules,
	}
}

func TestProbeCoverage(t *testing.T) {
	for _, tt := range []struct {
		name string
		w    world
		want []string
	}{
		{"probe_success == 0 covers every probe job.", probeWorld(alert("ProbeFailed", `probe_success == 0`)), []string{"dns", "web"}},
		{"probe_success{job=\"web\"} < 1 covers web alone.", probeWorld(alert("WebProbeFailed", `probe_success{job="web"} < 1`)), []string{"web"}},
		{"An average over a window by job covers every probe job.", probeWorld(alert("Flaky", `avg by (job) (avg_over_time(probe_success[5m])) < 0.5`)), []string{"dns", "web"}},
		{"A matcher on the probe's module covers the jobs whose probes carry it.", probeWorld(alert("DNSFailed", `probe_success{module="dns"} == 0`)), []string{"dns"}},
		{"A recording rule of probe_success read by an alert covers through it.",
			probeWorld(record("job:probe_success:avg", `avg by (job) (probe_success)`), alert("ProbesDown", `job:probe_success:avg < 0.5`)), []string{"dns", "web"}},
		{"probe_success == 1, an alert on up, or no alert covers none.",
			probeWorld(alert("Succeeds", `probe_success == 1`), alert("Down", `up == 0`)), []string{}},
		{"count(probe_success) < 1 does not change when probes fail and covers none.", probeWorld(alert("Few", `count(probe_success) < 1`)), []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := Analyze(tt.w.build(), Options{})
			if jobs := a.ProbeJobs(); !slices.Equal(jobs, []string{"dns", "web"}) {
				t.Fatalf("probe jobs %q", jobs)
			}
			got := []string{}
			for _, job := range a.ProbeJobs() {
				if len(a.ProbeAlerts(job)) > 0 {
					got = append(got, job)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("covered = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("A job with a target scraped at /probe is a probe job without job_metrics; one scraped at /metrics is not.", func(t *testing.T) {
		probe, scraped := target("edge", "https://edge.example"), target("api", "api-1:8080")
		probe.ScrapeURL = "http://127.0.0.1:9115/probe?module=http_2xx&target=https%3A%2F%2Fedge.example"
		scraped.ScrapeURL = "http://api-1:8080/metrics"
		a := Analyze(world{targets: []analyze.Target{probe, scraped}}.build(), Options{})
		if jobs := a.ProbeJobs(); !slices.Equal(jobs, []string{"edge"}) {
			t.Errorf("probe jobs %q", jobs)
		}
	})
}

package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckProbesFailing(t *testing.T) {
	id := checks.ProbesFailingName
	probes := func(ps ...analyze.ProbeHistory) func(*testing.T) *analyze.Inventory {
		h := week(nil, nil)
		h.Probes = ps
		return withHistory(func(*testing.T) *analyze.Inventory { return newBuilder(analyze.PartRules).Build() }, h)
	}
	runTests(t, id, []checkTest{
		{description: "Every part a Prometheus gives without its history: the check runs, and finds no probe job to judge.",
			inv: func(*testing.T) *analyze.Inventory { return newBuilder(analyze.AllPrometheusParts...).Build() }},
		{description: "Every part read and empty, the history too: nothing is reported.", inv: withHistory(hollowInventory, analyze.History{})},
		{description: "Probes without a job or an instance: nothing is reported.",
			inv: probes(analyze.ProbeHistory{Instance: "https://shop.example"}, analyze.ProbeHistory{Job: "blackbox"})},
		{description: "A probe failing for two hours is reported with since when; one failing throughout the lookback says so.",
			inv: probes(
				analyze.ProbeHistory{Job: "blackbox", Instance: "https://shop.example", Since: collectedAt.Add(-2 * time.Hour)},
				analyze.ProbeHistory{Job: "blackbox", Instance: "https://old.example"},
			),
			want: []string{
				`instance=https://old.example job=blackbox: probe "https://old.example" of job "blackbox" fails (probe_success 0) and has failed throughout the lookback of 7d: what it probes is down or unreachable`,
				`instance=https://shop.example job=blackbox: probe "https://shop.example" of job "blackbox" fails (probe_success 0) since 2026-11-26 01:00 UTC (2h): what it probes is down or unreachable`,
			}},
	})
}

func TestCheckProbesFailingUncovered(t *testing.T) {
	id := checks.ProbesFailingName
	// probeJobs holds the probe job blackbox (its series carry probe_success) with two probes,
	// the job web scraped at /probe without job_metrics, and the scraped job api, under the
	// alerts given; withHistory says whether the history part was read.
	probeJobs := func(history bool, alerts ...analyze.Rule) func(*testing.T) *analyze.Inventory {
		return func(*testing.T) *analyze.Inventory {
			parts := []analyze.Part{analyze.PartRules, analyze.PartTargets, analyze.PartJobMetrics}
			if history {
				parts = append(parts, analyze.PartHistory)
			}
			b := newBuilder(parts...)
			for _, instance := range []string{"https://shop.example", "https://old.example"} {
				tg := target("blackbox", "blackbox", instance, analyze.HealthUp, "")
				tg.ScrapeURL = "http://127.0.0.1:9115/probe?module=http_2xx&target=" + instance
				b.AddTarget(tg)
			}
			b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
			b.AddJobMetric("blackbox", "probe_success")
			b.AddJobMetric("blackbox", "probe_duration_seconds")
			b.AddJobMetric("api", "http_requests_total")
			if len(alerts) > 0 {
				b.AddRuleGroup(ruleGroup("probes", alerts...))
			}
			if history {
				h := week(nil, nil)
				h.Probes = []analyze.ProbeHistory{{Job: "blackbox", Instance: "https://shop.example", Since: collectedAt.Add(-2 * time.Hour)}}
				b.SetHistory(h)
			}
			return b.Build()
		}
	}
	uncovered := `job=blackbox: no alert fires when the probes of job "blackbox" fail: its probe_success is to what it probes what up is to a scraped target, and an alert on up only says the prober answers`
	failing := `instance=https://shop.example job=blackbox: probe "https://shop.example" of job "blackbox" fails (probe_success 0) since 2026-11-26 01:00 UTC (2h): what it probes is down or unreachable`
	runTests(t, id, []checkTest{
		{description: "A probe job no alert reads is reported without the history, with the probes it has.",
			inv: probeJobs(false), want: []string{uncovered}},
		{description: "With the history, a failing probe of an uncovered job is reported beside the job, each under its own subject.",
			inv: probeJobs(true), want: []string{failing, uncovered}},
		{description: "An alert on probe_success == 0, or on its average over a window, covers the probe job.",
			inv: probeJobs(false, alerting("probes", "ProbeFailed", `probe_success == 0`))},
		{description: "An alert averaging probe_success by job over a window covers it too.",
			inv: probeJobs(false, alerting("probes", "ProbesFlaky", `avg by (job) (avg_over_time(probe_success{job=~"black.*"}[5m])) < 0.5`))},
		{description: "An alert on the probe job's up, on another job's probe_success, or on probe_success being 1 does not cover it.",
			inv: probeJobs(false,
				alerting("probes", "BlackboxDown", `up{job="blackbox"} == 0`),
				alerting("probes", "OtherProbeFailed", `probe_success{job="other"} == 0`),
				alerting("probes", "ProbeSucceeds", `probe_success == 1`),
			),
			want: []string{uncovered}},
		{description: "A job scraped at a /probe path is a probe job even when job_metrics did not find probe_success on it.",
			inv: func(*testing.T) *analyze.Inventory {
				b := newBuilder(analyze.PartRules, analyze.PartTargets)
				tg := target("web", "web", "https://web.example", analyze.HealthUp, "")
				tg.ScrapeURL = "http://127.0.0.1:9115/probe?target=https://web.example"
				b.AddTarget(tg)
				return b.Build()
			},
			want: []string{`job=web: no alert fires when the probes of job "web" fail: its probe_success is to what it probes what up is to a scraped target, and an alert on up only says the prober answers`}},
	})
}

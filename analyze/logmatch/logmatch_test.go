package logmatch_test

import (
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
)

func inventory(targets []analyze.Target, streams ...map[string]string) *analyze.Inventory {
	b := analyze.NewBuilder(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	for _, t := range targets {
		b.AddTarget(t)
	}
	var ls []analyze.LogStream
	for _, s := range streams {
		ls = append(ls, analyze.LogStream{Labels: s, Selector: selector(s), Entries: -1})
	}
	b.SetLogs(analyze.Logs{Window: time.Hour, Streams: ls})
	return b.Build()
}

// selector is good enough for tests: the keys used here are fixed.
func selector(s map[string]string) string {
	out := "{"
	for _, k := range []string{"app", "container", "job", "namespace", "pod", "service_name"} {
		if v, ok := s[k]; ok {
			if len(out) > 1 {
				out += ", "
			}
			out += k + "=\"" + v + "\""
		}
	}
	return out + "}"
}

func target(job string, labels ...string) analyze.Target {
	ls := map[string]string{"job": job, "instance": job + ":80"}
	for i := 0; i+1 < len(labels); i += 2 {
		ls[labels[i]] = labels[i+1]
	}
	return analyze.Target{Job: job, ScrapePool: job, Instance: job + ":80", Health: analyze.HealthUp, Labels: ls}
}

func TestJob(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inv     *analyze.Inventory
		job     string
		pair    string
		streams []string
	}{
		{"A stream with the same job label holds the job's logs.",
			inventory([]analyze.Target{target("api")}, map[string]string{"job": "api"}, map[string]string{"job": "worker"}),
			"api", "job→job", []string{`{job="api"}`}},
		{"Loki 3's service_name label matches the job when no job label does.",
			inventory([]analyze.Target{target("api")}, map[string]string{"service_name": "api"}),
			"api", "job→service_name", []string{`{service_name="api"}`}},
		{"The job pair wins over later pairs.",
			inventory([]analyze.Target{target("api")}, map[string]string{"job": "api"}, map[string]string{"app": "api"}),
			"api", "job→job", []string{`{job="api"}`}},
		{"Promtail's namespace/app job label matches the app's job.",
			inventory([]analyze.Target{target("api")}, map[string]string{"job": "prod/api"}),
			"api", "job→job", []string{`{job="prod/api"}`}},
		{"Kubernetes targets match pod logs by namespace and pod.",
			inventory([]analyze.Target{target("kubernetes-pods", "namespace", "prod", "pod", "api-7d9f")},
				map[string]string{"namespace": "prod", "pod": "api-7d9f", "container": "api"}),
			"kubernetes-pods", "namespace+pod→namespace+pod", []string{`{container="api", namespace="prod", pod="api-7d9f"}`}},
		{"A job whose streams are missing matches nothing.",
			inventory([]analyze.Target{target("api")}, map[string]string{"job": "worker"}),
			"api", "", nil},
		{"A job name that is only a prefix of a stream's does not match.",
			inventory([]analyze.Target{target("api")}, map[string]string{"job": "api-gateway"}),
			"api", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := logmatch.Job(tc.inv, tc.job, nil)
			pair := ""
			if m.Matched() {
				pair = m.Pair.String()
			}
			if pair != tc.pair || !slices.Equal(m.Streams, tc.streams) {
				t.Errorf("match = %s %v, want %s %v", pair, m.Streams, tc.pair, tc.streams)
			}
		})
	}
}

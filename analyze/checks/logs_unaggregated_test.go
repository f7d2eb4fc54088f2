package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckLogsUnaggregated(t *testing.T) {
	id := checks.LogsUnaggregatedName
	runTests(t, id, []checkTest{
		{description: "A job with healthy targets and no Loki stream is reported; a job whose logs are shipped is not.", inv: func(*testing.T) *analyze.Inventory {
			b := jobsUp(analyze.PartTargets, analyze.PartLogStreams)
			b.SetLogs(analyze.Logs{Window: time.Hour, Streams: []analyze.LogStream{{Labels: map[string]string{"job": "api"}, Selector: `{job="api"}`, Entries: 10}}})
			return b.Build()
		}, want: []string{
			`job=node: job "node" has 1 healthy targets but no Loki stream in the last 1h: its logs are not shipped`,
		}},
	})
}

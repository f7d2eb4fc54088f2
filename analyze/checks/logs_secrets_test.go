package checks_test

import (
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckLogsSecrets(t *testing.T) {
	id := checks.LogsSecretsName
	runTests(t, id, []checkTest{
		onHoled(`pattern=aws-access-token stream={}: 1 log lines of {} in the last 1h hold a secret (aws-access-token)`),
		{description: "A secret found in a stream of a job is reported with the job.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets, analyze.PartLogSecrets)
			b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
			b.SetLogs(analyze.Logs{Window: time.Hour,
				Streams: []analyze.LogStream{{Labels: map[string]string{"job": "api"}, Selector: `{job="api"}`, Entries: 10}},
				Secrets: []analyze.SecretHit{{Stream: `{job="api"}`, Labels: map[string]string{"job": "api"}, Pattern: "aws-access-token", Count: 2, Example: "key=****"}}})
			return b.Build()
		}, want: []string{
			`job=api pattern=aws-access-token stream={job="api"}: 2 log lines of {job="api"} in the last 1h hold a secret (aws-access-token)`,
		}},
	})
}

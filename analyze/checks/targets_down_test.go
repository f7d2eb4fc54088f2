package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckTargetsDown(t *testing.T) {
	id := checks.TargetsDownName
	runTests(t, id, []checkTest{
		{description: "Only the down targets are reported, each with its scrape error.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets)
			b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
			b.AddTarget(target("node", "node", "10.0.0.2:9100", analyze.HealthUnknown, ""))
			b.AddTarget(target("node", "node", "10.0.0.3:9100", analyze.HealthDown, "context deadline exceeded"))
			b.AddTarget(target("api", "api", "10.0.0.9:80", analyze.HealthDown, "connection refused"))
			return b.Build()
		}, want: []string{
			`instance=10.0.0.9:80 job=api: target 10.0.0.9:80 of job "api" is down: connection refused`,
			`instance=10.0.0.3:9100 job=node: target 10.0.0.3:9100 of job "node" is down: context deadline exceeded`,
		}},
	})
}

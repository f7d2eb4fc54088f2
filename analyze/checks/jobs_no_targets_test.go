package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckJobsNoTargets(t *testing.T) {
	id := checks.JobsNoTargetsName
	runTests(t, id, []checkTest{
		{description: "A configured scrape pool without targets is reported; one with targets is not.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets, analyze.PartConfig)
			b.AddConfiguredJob("blackbox", []string{"file"}, 0)
			b.AddConfiguredJob("node", []string{"static"}, 0)
			b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthUp, ""))
			return b.Build()
		}, want: []string{
			`scrape_pool=blackbox: scrape pool "blackbox" has no targets: service discovery (file) returned nothing`,
		}},
	})
}

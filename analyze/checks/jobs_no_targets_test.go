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
		{description: "A configured job with targets is not reported, even when they are all down.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets, analyze.PartConfig)
			b.AddConfiguredJob("node", []string{"static"}, 0)
			b.SetDropped("node", 7)
			b.AddTarget(target("node", "node", "10.0.0.1:9100", analyze.HealthDown, "connection refused"))
			return b.Build()
		}},
		{description: "A job seen only in targets is not reported.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets, analyze.PartConfig)
			b.AddTarget(target("federate", "federate", "prom-b:9090", analyze.HealthUp, ""))
			b.SetDropped("orphan-pool", 3)
			return b.Build()
		}},
		{description: "An operator pool whose targets relabeling gave two other job labels is not reported.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets, analyze.PartConfig)
			b.AddScrapeConfig("podMonitor/monitoring/workers/0", "", []string{"kubernetes"}, 9)
			b.AddTarget(target("worker-a", "podMonitor/monitoring/workers/0", "10.1.0.7:8080", analyze.HealthUp, ""))
			b.AddTarget(target("worker-b", "podMonitor/monitoring/workers/0", "10.1.0.8:8080", analyze.HealthUp, ""))
			return b.Build()
		}},
		{description: "A pool whose targets relabeling gave another job label is not reported.", inv: func(*testing.T) *analyze.Inventory {
			b := newBuilder(analyze.PartTargets, analyze.PartConfig)
			b.AddConfiguredJob("kubernetes-pods", []string{"kubernetes"}, 3)
			b.SetDropped("kubernetes-pods", 40)
			b.AddTarget(target("payments-api", "kubernetes-pods", "10.1.0.7:8080", analyze.HealthUp, ""))
			return b.Build()
		}},
	})
}

package prometheus

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// TestCollectUpChangesLive reads a week of up series on real Prometheus 2 and 3 servers in the
// two passes and in a single one-minute pass over every job, and finds the same stopped jobs
// and the same jobs that lost targets: changes in the middle of an hour, in the last hour, and
// a target gone for twenty minutes and back.
func TestCollectUpChangesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	end := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	start := end.Add(-7 * 24 * time.Hour)
	minutes := int(end.Sub(start) / time.Minute)
	var b strings.Builder
	b.WriteString("# TYPE up gauge\n")
	// series writes one up series a minute from the start to the end, but for the minutes
	// between gone and back (before the end).
	series := func(job, instance string, gone, back time.Duration) {
		for i := 0; i <= minutes; i++ {
			at := start.Add(time.Duration(i) * time.Minute)
			if gone > 0 && !at.Before(end.Add(-gone)) && at.Before(end.Add(-back)) {
				continue
			}
			fmt.Fprintf(&b, "up{job=%q,instance=%q} 1 %d\n", job, instance, at.Unix())
		}
	}
	for i := range 3 {
		series("steady", fmt.Sprint("steady-", i), 0, 0)
	}
	series("legacy", "legacy-1", 50*time.Hour+17*time.Minute, -time.Hour)
	series("legacy", "legacy-2", 50*time.Hour+17*time.Minute, -time.Hour)
	series("web", "web-1", 0, 0)
	for i := 2; i <= 4; i++ {
		series("web", fmt.Sprint("web-", i), 48*time.Hour+23*time.Minute, -time.Hour)
	}
	series("blip", "blip-1", 0, 0)
	series("blip", "blip-2", 30*time.Hour+10*time.Minute, 29*time.Hour+50*time.Minute)
	series("shrink", "shrink-1", 0, 0)
	series("shrink", "shrink-2", 0, 0)
	series("shrink", "shrink-3", 7*time.Minute, -time.Hour)
	series("late", "late-1", 25*time.Minute, -time.Hour)
	b.WriteString("# EOF\n")

	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name+": the two passes read the same stopped jobs and lost targets as one pass over every job.", func(t *testing.T) {
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{OpenMetrics: b.String()})
			client, err := api.NewClient(api.Config{Address: prom.URL})
			if err != nil {
				t.Fatal(err)
			}
			v1 := promv1.NewAPI(client)
			r := promv1.Range{Start: start, End: end, Step: time.Minute}
			twoJobs, twoTargets, what, err := collectUpChanges(t.Context(), v1, r, 5*time.Minute)
			if err != nil {
				t.Fatal(what, err)
			}
			oneJobs, oneTargets, what, err := fineUpChanges(t.Context(), v1, r, []*labels.Matcher{nil})
			if err != nil {
				t.Fatal(what, err)
			}
			sorted := func(h []analyze.JobHistory) []analyze.JobHistory {
				slices.SortFunc(h, func(a, b analyze.JobHistory) int { return cmp.Compare(a.Name, b.Name) })
				return h
			}
			two, one := sorted(jobHistories(twoJobs, r.Step)), sorted(jobHistories(oneJobs, r.Step))
			// Seen last within the staleness delta after its last sample (a minute more or less on
			// Prometheus 2, whose lookback includes its start).
			seen := func(h analyze.JobHistory, gone time.Duration) bool {
				last := end.Add(-gone - time.Minute)
				return !h.LastSeen.Before(last) && !h.LastSeen.After(last.Add(5*time.Minute))
			}
			if !reflect.DeepEqual(two, one) || len(one) != 2 || one[0].Name != "late" || !seen(one[0], 25*time.Minute) ||
				one[1].Name != "legacy" || !seen(one[1], 50*time.Hour+17*time.Minute) {
				t.Errorf("stopped jobs: two passes %+v, one pass %+v, want late and legacy", two, one)
			}
			twoCounts, oneCounts := targetCounts(twoTargets, r.Step), targetCounts(oneTargets, r.Step)
			if !reflect.DeepEqual(twoCounts, oneCounts) || len(oneCounts) != 2 || oneCounts[0].Job != "shrink" || oneCounts[1].Job != "web" {
				t.Errorf("lost targets: two passes %+v, one pass %+v", twoCounts, oneCounts)
			}
		})
	}
}

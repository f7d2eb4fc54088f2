package prometheus_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/audit"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

// dataHistory is an OpenMetrics history of a week, one sample a minute, ending at end: the
// last-success gauge of a backup that succeeded every six hours until 51 hours before the
// end, that of an export that succeeded every hour up to the end, and the up series of job
// web, four targets for five days and then only the one at live (the address the live
// Prometheus scrapes it at, so that its series carries on). It returns the backup's last
// success.
func dataHistory(end time.Time, live string) (om string, backupLast time.Time) {
	var b strings.Builder
	start := end.Add(-7 * 24 * time.Hour)
	minutes := int(end.Sub(start) / time.Minute)
	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Minute) }
	// lastOf is the last success, every interval back from last, at or before t.
	lastOf := func(t, last time.Time, interval time.Duration) time.Time {
		if !t.Before(last) {
			return last
		}
		back := (last.Sub(t) + interval - 1) / interval
		return last.Add(-back * interval)
	}
	backupLast = end.Add(-51 * time.Hour)
	b.WriteString("# TYPE backup_last_success_timestamp_seconds gauge\n")
	for i := 0; i <= minutes; i++ {
		fmt.Fprintf(&b, "backup_last_success_timestamp_seconds{job=\"backup\",instance=\"backup-1\"} %d %d\n", lastOf(at(i), backupLast, 6*time.Hour).Unix(), at(i).Unix())
	}
	b.WriteString("# TYPE export_last_success_timestamp_seconds gauge\n")
	for i := 0; i <= minutes; i++ {
		fmt.Fprintf(&b, "export_last_success_timestamp_seconds{job=\"export\",instance=\"export-1\"} %d %d\n", lastOf(at(i), end, time.Hour).Unix(), at(i).Unix())
	}
	b.WriteString("# TYPE up gauge\n")
	for _, instance := range []string{live, "web-2", "web-3", "web-4"} {
		last := minutes
		if instance != live {
			last = minutes - 2*24*60
		}
		for i := 0; i <= last; i++ {
			fmt.Fprintf(&b, "up{job=\"web\",instance=%q} 1 %d\n", instance, at(i).Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.String(), backupLast
}

// TestHistoryDataLive runs the history on real Prometheus 2 and 3 servers: a last-success
// gauge 51 hours old that advanced every six hours is stale and one that advances hourly is
// not; a job that lost three of its four targets two days ago is reported; of two blackbox
// probe jobs, the one no loaded alert covers is reported. The same findings come from the
// snapshot.
func TestHistoryDataLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	blackbox := servers.StartBlackboxExporter(t, servers.FindBlackboxExporter(t))
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(healthy.Close)
	rules := filepath.Join(t.TempDir(), "probes.yml")
	if err := os.WriteFile(rules, []byte("groups:\n  - name: probes\n    rules:\n      - alert: CoveredProbeFailed\n        expr: probe_success{job=\"blackbox-covered\"} == 0\n        for: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name+": a stale last-success gauge, a job that lost most of its targets and a probe job no alert covers are reported, from the snapshot too.", func(t *testing.T) {
			// The live target carries the gauges on at their last values and is web's remaining
			// target. The history ends two minutes before now, so that its series are still
			// current (within the five-minute lookback) when the live scrapes take over.
			var backupLast, exportLast time.Time
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds{job=\"backup\",instance=\"backup-1\"} %d\n", backupLast.Unix())
				fmt.Fprintf(w, "# TYPE export_last_success_timestamp_seconds gauge\nexport_last_success_timestamp_seconds{job=\"export\",instance=\"export-1\"} %d\n", exportLast.Unix())
			}))
			t.Cleanup(target.Close)
			live := strings.TrimPrefix(target.URL, "http://")
			end := time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Minute)
			om, last := dataHistory(end, live)
			backupLast, exportLast = last, end
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{
				OpenMetrics: om,
				Jobs:        map[string][]string{"web": {live}},
				Probes:      map[string][]string{"blackbox": {healthy.URL}, "blackbox-covered": {healthy.URL}},
				Blackbox:    blackbox,
				RuleFiles:   []string{rules},
			})
			rec, err := audit.Record(t.Context(), audit.Request{
				Servers: []collect.FleetSource{{Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: prom.URL}}},
				Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour}},
			})
			if err != nil {
				t.Fatal(err)
			}
			inv := rec.Collected.Inventory
			if !inv.Has(analyze.PartHistory) || len(inv.Sources[0].Errors) != 0 {
				t.Fatalf("parts %v, source %+v", inv.Parts, inv.Sources[0])
			}
			mine := func(inv *analyze.Inventory) []analyze.Finding {
				all := slices.DeleteFunc(checks.All(checks.Options{}), func(c checks.Check) bool {
					id := c.Meta().ID
					return id != checks.BusinessStaleSuccessName && id != checks.JobsVanishedName && id != checks.ProbesFailingName
				})
				return checks.Run(inv, checks.Derive(inv, checks.Options{}), all, checks.Policy{}).Findings
			}
			found := mine(inv)
			var got []string
			for _, f := range found {
				got = append(got, problemOf(f))
			}
			want := []string{
				"business/stale-success instance=backup-1 job=backup metric=backup_last_success_timestamp_seconds",
				"probes/failing job=blackbox kind=uncovered",
				"jobs/vanished job=web kind=targets",
			}
			if !slices.Equal(got, want) {
				t.Fatalf("findings %q, want %q\nsuccesses %+v\ntarget counts %+v", got, want, inv.History.Successes, inv.History.TargetCounts)
			}
			stale, vanished := found[0], found[2]
			if vanished.Details["targets_before"] != "4" || vanished.Details["targets_now"] != "1" || !strings.Contains(vanished.Message, "(2d ago) and has 1 now: 3 vanished") {
				t.Errorf("jobs/vanished: %s %v", vanished.Message, vanished.Details)
			}
			if stale.Details["usual_interval"] != "6h" || stale.Details["last_success"] != last.Format(time.RFC3339) ||
				!strings.Contains(stale.Message, "never more than 6h apart") || !strings.Contains(stale.Message, "(2d3h ago)") {
				t.Errorf("business/stale-success: %s %v", stale.Message, stale.Details)
			}
			i := slices.IndexFunc(inv.History.Successes, func(s analyze.SuccessHistory) bool { return s.Job == "export" })
			if i < 0 || inv.History.Successes[i].LongestInterval != time.Hour || inv.History.Successes[i].Advances < 7*24-2 {
				t.Errorf("the hourly gauge's history %+v", inv.History.Successes)
			}

			back := readBack(t, rec)
			if !reflect.DeepEqual(back.History, inv.History) {
				t.Fatalf("history read back %+v, want %+v", back.History, inv.History)
			}
			if backFound := mine(back); !reflect.DeepEqual(backFound, found) {
				t.Errorf("findings of the snapshot %+v, want those of the live audit %+v", backFound, found)
			}
		})
	}
}

// problemOf is a finding as its check, subject and kind detail, keys sorted.
func problemOf(f analyze.Finding) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(f.Subject)) {
		kv = append(kv, k+"="+f.Subject[k])
	}
	if kind := f.Details["kind"]; kind != "" {
		kv = append(kv, "kind="+kind)
	}
	return f.Check + " " + strings.Join(kv, " ")
}

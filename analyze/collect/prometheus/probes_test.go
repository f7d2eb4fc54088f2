package prometheus_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/internal/servers"
)

func TestCollectHistoryProbes(t *testing.T) {
	t.Run("No failing probe costs one instant query and no range query.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		if !res.OK || len(res.History.Probes) != 0 || len(f.queries) != 1 {
			t.Errorf("probes %+v after %d range queries", res.History.Probes, len(f.queries))
		}
	})

	t.Run("A failing probe starts failing at the last step its range query answers; one failing throughout has no start; a probe without a job is left out.", func(t *testing.T) {
		ts := func(d time.Duration) string { return fmt.Sprint(historyEnd.Add(d).Unix()) }
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`,
			vector: func(q string) string {
				if q != "probe_success == 0" {
					t.Errorf("instant query %q", q)
				}
				return `[{"metric":{"__name__":"probe_success","job":"blackbox","instance":"https://shop.example"},"value":[` + ts(0) + `,"0"]},
				 {"metric":{"__name__":"probe_success","job":"blackbox","instance":"https://old.example"},"value":[` + ts(0) + `,"0"]},
				 {"metric":{"__name__":"probe_success","instance":"https://nojob.example"},"value":[` + ts(0) + `,"0"]}]`
			},
			matrix: func(q string) string {
				if !strings.Contains(q, "probe_success offset 1m == 1") {
					return ""
				}
				return `[{"metric":{"__name__":"probe_success","job":"blackbox","instance":"https://shop.example"},"values":[[` + ts(-5*time.Hour) + `,"0"],[` + ts(-2*time.Hour) + `,"0"]]}]`
			}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		want := []analyze.ProbeHistory{
			{Job: "blackbox", Instance: "https://shop.example", Since: historyEnd.Add(-2 * time.Hour)},
			{Job: "blackbox", Instance: "https://old.example"},
		}
		if !res.OK || !slices.Equal(res.History.Probes, want) {
			t.Errorf("probes %+v, want %+v (errors %v)", res.History.Probes, want, res.Errors)
		}
		if got := f.queries[len(f.queries)-1].Get("query"); got != "probe_success == 0 and probe_success offset 1m == 1 or probe_success == 0 unless probe_success offset 1m" {
			t.Errorf("range query %s", got)
		}
	})
}

// TestProbesLive has a real Prometheus 3 scrape a real blackbox exporter probing a server that
// answers and an address that refuses connections: the history reads the refused probe as
// failing since Prometheus started, and probes/failing reports it alone, also from a snapshot.
func TestProbesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	blackbox := servers.StartBlackboxExporter(t, servers.FindBlackboxExporter(t))
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(healthy.Close)
	refused := "http://" + servers.FreeAddress(t) + "/"
	started := time.Now().UTC()
	prom := servers.StartPrometheusWithHistory(t, bins.Prometheus3, servers.HistoryPrometheusOptions{
		Probes: map[string][]string{"blackbox": {healthy.URL, refused}}, Blackbox: blackbox,
	})
	// The history ends at the last whole step (a minute): wait for one past the first probes.
	time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + time.Second)))

	rec, err := audit.Record(t.Context(), audit.Request{
		Servers: []collect.FleetSource{{Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: prom.URL}}},
		Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 24 * time.Hour}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inv := rec.Collected.Inventory
	probes := inv.History.Probes
	if !inv.Has(analyze.PartHistory) || len(probes) != 1 || probes[0].Job != "blackbox" || probes[0].Instance != refused {
		t.Fatalf("failing probes %+v, want %s alone (errors %v)", probes, refused, inv.Sources[0].Errors)
	}
	if since := probes[0].Since; since.Before(started.Truncate(time.Minute)) || since.After(inv.History.End) {
		t.Errorf("failing since %s, want a step between %s and %s", since, started, inv.History.End)
	}
	probesFailing := func(inv *analyze.Inventory) []analyze.Finding {
		all := slices.DeleteFunc(checks.All(checks.Options{}), func(c checks.Check) bool { return c.Meta().ID != checks.ProbesFailingName })
		return checks.Run(inv, checks.Derive(inv, checks.Options{}), all, checks.Policy{}).Findings
	}
	found := probesFailing(inv)
	if len(found) != 1 || found[0].Subject["instance"] != refused || found[0].Details["since"] == "" ||
		!strings.Contains(found[0].Message, `probe "`+refused+`" of job "blackbox" fails (probe_success 0) since `) {
		t.Fatalf("findings %+v", found)
	}

	dir := t.TempDir()
	if err := snapshot.Write(dir, rec.Manifest); err != nil {
		t.Fatal(err)
	}
	offline, err := collect.Run(t.Context(), collect.Options{Snapshot: os.DirFS(dir), SnapshotName: dir})
	if err != nil {
		t.Fatal(err)
	}
	if back := probesFailing(offline.Inventory); !reflect.DeepEqual(back, found) {
		t.Errorf("findings of the snapshot %+v, want %+v", back, found)
	}
}

package prometheus_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
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

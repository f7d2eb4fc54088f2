package analyze_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

func TestHistoryInInventory(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	t.Run("The history is sorted by job and metric, and its rate runs from the first to the last increase.", func(t *testing.T) {
		b := analyze.NewBuilder(at)
		b.SetHistory(analyze.History{
			Jobs: []analyze.JobHistory{{Name: "b"}, {Name: "a"}},
			Counters: []analyze.CounterHistory{
				{Job: "b", Metric: "x_total"}, {Job: "a", Metric: "y_total"},
				{Job: "a", Metric: "x_total", FirstIncrease: at.Add(-time.Hour), LastIncrease: at, Increases: 61, Rise: 7200},
			},
		})
		h := b.Build().History
		if h.Jobs[0].Name != "a" || h.Counters[0].Metric != "x_total" || h.Counters[1].Metric != "y_total" || h.Counters[2].Job != "b" {
			t.Errorf("history %+v", h)
		}
		if r := h.Counters[0].Rate(); r != 2 {
			t.Errorf("rate %v, want 2/s", r)
		}
		if r := h.Counters[1].Rate(); r != 0 {
			t.Errorf("the rate of a counter without a span is %v, want 0", r)
		}
	})
	t.Run("Errors and notes are added to the named source only; the job metric names are the union, sorted.", func(t *testing.T) {
		b := analyze.NewBuilder(at)
		b.AddSource(analyze.Source{Name: "prometheus"})
		b.AddSource(analyze.Source{Name: "loki"})
		b.AnnotateSource("prometheus", []analyze.SourceError{{Part: analyze.PartHistory, Err: "boom"}}, []string{"clipped"})
		b.AnnotateSource("nowhere", nil, []string{"lost"})
		b.AddJobMetric("b", "z_total")
		b.AddJobMetric("a", "z_total")
		b.AddJobMetric("a", "y_total")
		b.AddJobMetric("a", "y_total")
		if got := b.JobMetricNames(); !slices.Equal(got, []string{"y_total", "z_total"}) {
			t.Errorf("JobMetricNames() = %v", got)
		}
		if got := b.JobMetricJobs(); !maps.Equal(got, map[string]int{"y_total": 1, "z_total": 2}) {
			t.Errorf("JobMetricJobs() = %v", got)
		}
		inv := b.Build()
		if len(inv.Sources[0].Errors) != 1 || !slices.Equal(inv.Sources[0].Notes, []string{"clipped"}) || len(inv.Sources[1].Errors)+len(inv.Sources[1].Notes) != 0 {
			t.Errorf("sources %+v", inv.Sources)
		}
	})
}

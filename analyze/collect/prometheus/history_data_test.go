package prometheus_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestCollectHistoryData(t *testing.T) {
	ts := func(d time.Duration) string { return fmt.Sprint(historyEnd.Add(d).Unix()) }
	at := func(d time.Duration) string { return fmt.Sprintf("%d", historyEnd.Add(d).Unix()) }

	t.Run("Last-success gauges are read with one instant and one range query per batch of names, and become their last success, advances and longest interval.", func(t *testing.T) {
		var instant []string
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`,
			vector: func(q string) string {
				if !strings.Contains(q, "last_success") {
					return ""
				}
				instant = append(instant, q)
				// backup ran every six hours until 51 hours ago; report's value is no time; a
				// gauge without a job says nothing.
				return `[{"metric":{"__name__":"backup_last_success_timestamp_seconds","job":"backup","instance":"backup-1"},"value":[` + ts(0) + `,"` + at(-51*time.Hour) + `"]},` +
					`{"metric":{"__name__":"report_last_success_timestamp_seconds","job":"report"},"value":[` + ts(0) + `,"0"]},` +
					`{"metric":{"__name__":"backup_last_success_timestamp_seconds"},"value":[` + ts(0) + `,"` + at(-time.Hour) + `"]},` +
					`{"metric":{"__name__":"export_last_success_timestamp_seconds","job":"export"},"value":[` + ts(0) + `,"` + at(-9*24*time.Hour) + `"]}]`
			},
			matrix: func(q string) string {
				if !strings.Contains(q, "last_success") {
					return ""
				}
				return `[{"metric":{"__name__":"backup_last_success_timestamp_seconds","job":"backup","instance":"backup-1"},"values":[` +
					`[` + ts(-63*time.Hour) + `,"` + at(-63*time.Hour) + `"],[` + ts(-57*time.Hour+time.Minute) + `,"` + at(-57*time.Hour) + `"],[` + ts(-51*time.Hour) + `,"` + at(-51*time.Hour) + `"]]},` +
					`{"metric":{"__name__":"gone_last_success_timestamp_seconds","job":"gone"},"values":[[` + ts(-3*time.Hour) + `,"` + at(-3*time.Hour) + `"]]}]`
			}}
		names := []string{"backup_last_success_timestamp_seconds", "report_last_success_timestamp_seconds", "export_last_success_timestamp_seconds",
			"push_time_seconds", "orders_total", "go_gc_cycles_total"}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: names})
		if !res.OK || len(res.Errors) != 0 {
			t.Fatalf("result %+v", res)
		}
		want := []analyze.SuccessHistory{
			{Job: "backup", Instance: "backup-1", Metric: "backup_last_success_timestamp_seconds", Last: historyEnd.Add(-51 * time.Hour), Advances: 3, LongestInterval: 6 * time.Hour},
			{Job: "export", Metric: "export_last_success_timestamp_seconds", Last: historyEnd.Add(-9 * 24 * time.Hour)},
		}
		if !slices.Equal(res.History.Successes, want) {
			t.Errorf("successes %+v, want %+v", res.History.Successes, want)
		}
		wantInstant := `min by (job, instance, __name__) ({__name__=~"backup_last_success_timestamp_seconds|export_last_success_timestamp_seconds|report_last_success_timestamp_seconds"})`
		if !slices.Equal(instant, []string{wantInstant}) {
			t.Errorf("instant queries %q, want %q", instant, wantInstant)
		}
		ranges := slices.DeleteFunc(slices.Clone(f.queries), func(q url.Values) bool { return !strings.Contains(q.Get("query"), "last_success") })
		if len(ranges) != 1 || ranges[0].Get("query") != wantInstant+` > on (job, instance, __name__) min by (job, instance, __name__) ({__name__=~"backup_last_success_timestamp_seconds|export_last_success_timestamp_seconds|report_last_success_timestamp_seconds"} offset 1m)` {
			t.Errorf("range queries %v", ranges)
		}
	})

	t.Run("Without last-success gauges among the names none is asked about; Pushgateway's push_time_seconds is none.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, vector: func(q string) string {
			if strings.Contains(q, "push_time") {
				t.Errorf("instant query %s", q)
			}
			return ""
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: []string{"push_time_seconds", "orders_total"}})
		if !res.OK || res.History.Successes != nil {
			t.Errorf("result %+v", res)
		}
	})

	t.Run("A last-success query that fails is an error of the history part saying what was read, and the part is not held.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, vector: func(q string) string {
			if strings.Contains(q, "last_success") {
				return `"not a vector"`
			}
			return ""
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd, Counters: []string{"backup_last_success_timestamp_seconds"}})
		if res.OK || len(res.Errors) != 1 || res.Errors[0].Part != analyze.PartHistory ||
			!strings.HasPrefix(res.Errors[0].Err, "reading the last-success gauges (query 1 of 1): ") {
			t.Errorf("result %+v", res)
		}
	})

	t.Run("The jobs' target counts become the jobs that lost targets and kept some: the most they had, until when, and how many now.", func(t *testing.T) {
		point := func(d time.Duration, v int) string { return fmt.Sprintf(`[%s,"%d"]`, ts(d), v) }
		series := func(job, side string, points ...string) string {
			return `{"metric":{"job":"` + job + `","targets":"` + side + `"},"values":[` + strings.Join(points, ",") + `]}`
		}
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, matrix: func(q string) string {
			if strings.Contains(q, "present_over_time") {
				// The coarse pass names the jobs that lost up series in some hour.
				return `[{"metric":{"job":"web"},"values":[` + point(-48*time.Hour, 4) + `]},{"metric":{"job":"gone"},"values":[` + point(-3*time.Hour, 2) + `]},` +
					`{"metric":{"job":"flappy"},"values":[` + point(-5*time.Hour, 3) + `]},{"metric":{"job":"api"},"values":[` + point(-time.Hour, 2) + `]}]`
			}
			if !strings.Contains(q, `"targets"`) {
				return ""
			}
			return "[" + strings.Join([]string{
				// web lost three of four two days ago.
				series("web", "before", point(-48*time.Hour, 4)), series("web", "after", point(-48*time.Hour, 1)),
				// api grew from two to three.
				series("api", "before", point(-time.Hour, 2)), series("api", "after", point(-time.Hour, 3)),
				// gone lost its two and has none.
				series("gone", "before", point(-3*time.Hour, 2)),
				// flappy went 3 → 1 → 3 → 2: the most is 3, last had an hour ago.
				series("flappy", "before", point(-5*time.Hour, 3), point(-4*time.Hour, 1), point(-time.Hour, 3)),
				series("flappy", "after", point(-5*time.Hour, 1), point(-4*time.Hour, 3), point(-time.Hour, 2)),
				// a series without a job or a side says nothing.
				series("", "before", point(-time.Hour, 9)), `{"metric":{"job":"x"},"values":[` + point(-time.Hour, 9) + `]}`,
			}, ",") + "]"
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		want := []analyze.TargetCountHistory{
			{Job: "flappy", Most: 3, MostUntil: historyEnd.Add(-time.Hour - time.Minute), Now: 2},
			{Job: "web", Most: 4, MostUntil: historyEnd.Add(-48*time.Hour - time.Minute), Now: 1},
		}
		got := res.History.TargetCounts
		if !res.OK || !slices.Equal(got, want) {
			t.Errorf("target counts %+v, want %+v (errors %v)", got, want, res.Errors)
		}
		i := slices.IndexFunc(f.queries, func(q url.Values) bool { return strings.Contains(q.Get("query"), `"targets"`) })
		if i < 0 || f.queries[i].Get("query") != `label_replace(count by (job) (up{job=~"api|flappy|gone|web"} offset 1m) unless on (job) (count by (job) (up{job=~"api|flappy|gone|web"}) == on (job) count by (job) (up{job=~"api|flappy|gone|web"} offset 1m)), "targets", "before", "", "") or label_replace(count by (job) (up{job=~"api|flappy|gone|web"}) unless on (job) (count by (job) (up{job=~"api|flappy|gone|web"} offset 1m) == on (job) count by (job) (up{job=~"api|flappy|gone|web"})), "targets", "after", "", "")` {
			t.Errorf("target count query %v", f.queries)
		}
	})
}

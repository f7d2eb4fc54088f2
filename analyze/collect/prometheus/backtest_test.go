package prometheus_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// steps is a series at the steps of one minute after historyEnd-7d given by their indices.
func steps(idx ...int) []model.SamplePair {
	start := historyEnd.Add(-7 * 24 * time.Hour)
	var out []model.SamplePair
	for _, i := range idx {
		out = append(out, model.SamplePair{Timestamp: model.TimeFromUnixNano(start.Add(time.Duration(i) * time.Minute).UnixNano()), Value: 1})
	}
	return out
}

// run is the indices from..to, inclusive.
func run(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestEpisodes(t *testing.T) {
	stream := func(vs []model.SamplePair, lbls ...string) *model.SampleStream {
		m := model.Metric{}
		for i := 0; i+1 < len(lbls); i += 2 {
			m[model.LabelName(lbls[i])] = model.LabelValue(lbls[i+1])
		}
		return &model.SampleStream{Metric: m, Values: vs}
	}
	for _, tc := range []struct {
		name   string
		series []*model.SampleStream
		hold   time.Duration
		want   prometheus.BacktestResult
	}{
		{"A series present at fewer steps than its for never fires: it stays pending.",
			[]*model.SampleStream{stream(steps(run(10, 14)...))}, 5 * time.Minute, prometheus.BacktestResult{}},
		{"A series present for exactly its for fires at the step its for is reached, for one step.",
			[]*model.SampleStream{stream(steps(run(10, 15)...))}, 5 * time.Minute, prometheus.BacktestResult{Episodes: 1, Firing: time.Minute}},
		{"A series keeps firing while it is present: firing time runs from the end of its for to its last step.",
			[]*model.SampleStream{stream(steps(run(0, 120)...))}, 15 * time.Minute, prometheus.BacktestResult{Episodes: 1, Firing: 106 * time.Minute}},
		{"A step without the series resets it: two stretches of 4 minutes around a gap never reach a for of 5 minutes.",
			[]*model.SampleStream{stream(steps(slicesConcat(run(0, 3), run(5, 8))...))}, 5 * time.Minute, prometheus.BacktestResult{}},
		{"Without a for each stretch fires at once: three stretches are three episodes.",
			[]*model.SampleStream{stream(steps(0, 1, 5, 9, 10, 11))}, 0, prometheus.BacktestResult{Episodes: 3, Firing: 6 * time.Minute}},
		{"A for that is not a whole number of steps is reached at the next step.",
			[]*model.SampleStream{stream(steps(run(0, 2)...))}, 90 * time.Second, prometheus.BacktestResult{Episodes: 1, Firing: time.Minute}},
		{"Two series of one alert are episodes of their own, and the time either fires counts once.",
			[]*model.SampleStream{stream(steps(run(0, 10)...), "instance", "a"), stream(steps(run(5, 20)...), "instance", "b")}, 0,
			prometheus.BacktestResult{Episodes: 2, Firing: 21 * time.Minute}},
		{"No series: no episode.", nil, time.Minute, prometheus.BacktestResult{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prometheus.Episodes(tc.series, time.Minute, tc.hold); got != tc.want {
				t.Errorf("Episodes = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func slicesConcat(a, b []int) []int { return append(append([]int(nil), a...), b...) }

// matrixJSON writes series as the data of a range answer's result.
func matrixJSON(series map[string][]model.SamplePair) string {
	var parts []string
	for metric, vs := range series {
		var values []string
		for _, v := range vs {
			values = append(values, fmt.Sprintf(`[%d,"%s"]`, v.Timestamp.Unix(), v.Value))
		}
		parts = append(parts, fmt.Sprintf(`{"metric":%s,"values":[%s]}`, metric, strings.Join(values, ",")))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestBacktest(t *testing.T) {
	h := analyze.History{Start: historyEnd.Add(-7 * 24 * time.Hour), End: historyEnd, Step: time.Minute}
	expr := func(s string) parser.Expr {
		e, err := analyze.ParseExpr(s)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	t.Run("Alerts are evaluated ten to a range query over the history's range, each marked by its index, and each gets the episodes of its own series.", func(t *testing.T) {
		f := &historyFake{matrix: func(q string) string {
			if !strings.Contains(q, `rate(orders_total{job="shop"}[2h]) == 0`) {
				return ""
			}
			// The first alert of the first batch fires twice (20-minute stretches, for 15m);
			// the second has a stretch of 10 minutes, shorter than its for.
			return matrixJSON(map[string][]model.SamplePair{
				`{"job":"shop","blindspot_backtest_alert":"0"}`: steps(slicesConcat(run(100, 119), run(500, 519))...),
				`{"job":"shop","blindspot_backtest_alert":"1"}`: steps(run(100, 109)...),
				`{"job":"shop","blindspot_backtest_alert":"x"}`: steps(run(0, 1000)...),
			})
		}}
		var rules []prometheus.BacktestRule
		for i := range 12 {
			e := `up{job="shop"} == 0`
			if i < 2 {
				e = `rate(orders_total{job="shop"}[2h]) == 0`
			}
			rules = append(rules, prometheus.BacktestRule{Name: fmt.Sprintf("Alert%d", i), Expr: expr(e), For: 15 * time.Minute})
		}
		got, err := prometheus.Backtest(t.Context(), f.start(t), rules, prometheus.RangeOf(h))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.queries) != 2 {
			t.Fatalf("%d range queries, want 2 (batches of ten)", len(f.queries))
		}
		// The batches run in parallel: the server may see them in either order.
		q, second := f.queries[0], f.queries[1]
		if strings.Contains(second.Get("query"), `"blindspot_backtest_alert", "0"`) {
			q, second = second, q
		}
		if want := `label_replace(rate(orders_total{job="shop"}[2h]) == 0, "blindspot_backtest_alert", "0", "", "") or label_replace(rate(orders_total{job="shop"}[2h]) == 0, "blindspot_backtest_alert", "1", "", "") or label_replace(up{job="shop"} == 0, "blindspot_backtest_alert", "2", "", "")`; !strings.HasPrefix(q.Get("query"), want) {
			t.Errorf("query %s, want it to start with %s", q.Get("query"), want)
		}
		if start, end := unixParam(t, q.Get("start")), unixParam(t, q.Get("end")); !start.Equal(h.Start) || !end.Equal(h.End) || q.Get("step") != "60" {
			t.Errorf("range %s to %s step %s", q.Get("start"), q.Get("end"), q.Get("step"))
		}
		if n := strings.Count(second.Get("query"), "label_replace"); n != 2 {
			t.Errorf("the second batch evaluates %d alerts, want 2", n)
		}
		if len(got) != 12 || got[0] != (prometheus.BacktestResult{Name: "Alert0", Episodes: 2, Firing: 10 * time.Minute}) ||
			got[1] != (prometheus.BacktestResult{Name: "Alert1"}) || got[11] != (prometheus.BacktestResult{Name: "Alert11"}) {
			t.Errorf("results %+v", got)
		}
	})
	t.Run("A query the server refuses is an error naming the first alert of its batch.", func(t *testing.T) {
		f := &historyFake{fail: true}
		_, err := prometheus.Backtest(t.Context(), f.start(t), []prometheus.BacktestRule{{Name: "ShopDown", Expr: expr(`up == 0`)}}, prometheus.RangeOf(h))
		if err == nil || !strings.Contains(err.Error(), "backtesting ShopDown: ") || !strings.Contains(err.Error(), "too many samples") {
			t.Errorf("error %v", err)
		}
	})
}

func TestPushHistory(t *testing.T) {
	h := analyze.History{Start: historyEnd.Add(-7 * 24 * time.Hour), End: historyEnd, Step: time.Minute}
	start := h.Start.Unix()
	// pushes answers the change query at the steps at (start + minutes) with the push's time.
	pushes := func(minutes ...int) []model.SamplePair {
		var out []model.SamplePair
		for _, m := range minutes {
			at := start + int64(m)*60
			out = append(out, model.SamplePair{Timestamp: model.TimeFromUnix(at), Value: model.SampleValue(at - 20)})
		}
		return out
	}
	f := &historyFake{
		vector: func(q string) string {
			if q != "last_over_time(push_time_seconds[1w])" {
				return ""
			}
			return `[{"metric":{"__name__":"push_time_seconds","job":"once"},"value":[0,"1"]},
				{"metric":{"__name__":"push_time_seconds","job":"hourly","instance":"a"},"value":[0,"1"]},
				{"metric":{"__name__":"push_time_seconds","job":"daily"},"value":[0,"1"]},
				{"metric":{"__name__":"push_time_seconds","job":"odd"},"value":[0,"1"]},
				{"metric":{"__name__":"push_time_seconds","job":"young"},"value":[0,"` + fmt.Sprint(historyEnd.Add(-2*time.Hour).Unix()) + `"]}]`
		},
		matrix: func(q string) string {
			if q != "push_time_seconds != push_time_seconds offset 1m" {
				return ""
			}
			return matrixJSON(map[string][]model.SamplePair{
				`{"job":"hourly","instance":"a"}`: pushes(60, 120, 181, 240, 300),
				`{"job":"daily"}`:                 pushes(1440, 2880, 5760), // one run missed: still periodic
				`{"job":"odd"}`:                   pushes(10, 20, 500, 510),
			})
		},
	}
	groups, err := prometheus.PushHistory(t.Context(), f.start(t), prometheus.RangeOf(h))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		ok, why := g.Periodic(h.Step)
		got = append(got, fmt.Sprintf("%s %s %d %v %s", g.Job, g.Labels, len(g.Pushes), ok, why))
	}
	want := []string{
		`daily {job="daily"} 3 true `,
		`hourly {instance="a", job="hourly"} 5 true `,
		`odd {job="odd"} 4 false pushed at irregular intervals, from 10m to 8h`,
		`once {job="once"} 0 false not pushed again over the lookback`,
		// Pushed for the first time two hours ago: too early to judge, the alert is kept.
		`young {job="young"} 0 true too early to tell: pushed 1 times, last 2h ago`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(f.queries) != 1 {
		t.Errorf("%d range queries, want 1", len(f.queries))
	}
}

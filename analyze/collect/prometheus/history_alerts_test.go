package prometheus_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

func TestCollectAlertHistory(t *testing.T) {
	const rangeQuery = `label_replace(count by (alertname) (ALERTS{alertstate="firing"} offset 1m) unless on (alertname) count by (alertname) (ALERTS{alertstate="firing"}), "event", "stopped", "", "")` +
		` or label_replace(count by (alertname) (ALERTS{alertstate="firing"}) unless on (alertname) count by (alertname) (ALERTS{alertstate="firing"} offset 1m), "event", "started", "", "")` +
		` or label_replace(count by (rule_group) (prometheus_rule_group_rules offset 1m) unless on (rule_group) count by (rule_group) (prometheus_rule_group_rules), "event", "stopped", "", "")` +
		` or label_replace(count by (rule_group) (prometheus_rule_group_rules) unless on (rule_group) count by (rule_group) (prometheus_rule_group_rules offset 1m), "event", "started", "", "")`
	const instantQuery = `count by (alertname) (ALERTS{alertstate="firing"}) or count by (rule_group) (prometheus_rule_group_rules)`
	ts := func(d time.Duration) string { return fmt.Sprint(historyEnd.Add(d).Unix()) }
	point := func(d time.Duration) string { return `[` + ts(d) + `,"1"]` }
	series := func(label, value, event string, at ...time.Duration) string {
		var points []string
		for _, d := range at {
			points = append(points, point(d))
		}
		return fmt.Sprintf(`{"metric":{%q:%q,"event":%q},"values":[%s]}`, label, value, event, strings.Join(points, ","))
	}
	day := 24 * time.Hour

	t.Run("One range query answering only where an alert or a rule group changed, and one instant query at the end, give each alert's episodes, firing time and state now, and since when each group was loaded.", func(t *testing.T) {
		var instants []string
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, runtime: `{"startTime":"` + historyEnd.Add(-2*day).Format(time.RFC3339) + `"}`,
			matrix: func(q string) string {
				if !strings.Contains(q, "ALERTS") {
					return ""
				}
				// Flappy fired twice for an hour; Ongoing fired from before the lookback until
				// six days ago, and again for the last hour; group new appeared three days ago,
				// group old went two days ago.
				return "[" + strings.Join([]string{
					series("alertname", "Flappy", "started", -5*time.Hour, -3*time.Hour),
					series("alertname", "Flappy", "stopped", -4*time.Hour, -2*time.Hour),
					series("alertname", "Ongoing", "stopped", -6*day),
					series("alertname", "Ongoing", "started", -time.Hour),
					series("rule_group", "/etc/rules.yml;new", "started", -3*day),
					series("rule_group", "/etc/rules.yml;old", "stopped", -2*day),
				}, ",") + "]"
			},
			vector: func(q string) string {
				instants = append(instants, q)
				if !strings.Contains(q, "ALERTS") {
					return ""
				}
				return `[{"metric":{"alertname":"Always"},"value":[` + ts(0) + `,"3"]},{"metric":{"alertname":"Ongoing"},"value":[` + ts(0) + `,"1"]},` +
					`{"metric":{"rule_group":"/etc/rules.yml;app"},"value":[` + ts(0) + `,"4"]},{"metric":{"rule_group":"/etc/rules.yml;new"},"value":[` + ts(0) + `,"1"]}]`
			}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		if !res.OK {
			t.Fatalf("result %+v", res)
		}
		var alertQueries []string
		for _, q := range f.queries {
			if strings.Contains(q.Get("query"), "ALERTS") {
				alertQueries = append(alertQueries, q.Get("query"))
			}
		}
		if len(alertQueries) != 1 || alertQueries[0] != rangeQuery {
			t.Errorf("range queries of ALERTS %q, want one: %s", alertQueries, rangeQuery)
		}
		if !reflect.DeepEqual(instants, []string{"probe_success == 0", instantQuery}) {
			t.Errorf("instant queries %q", instants)
		}
		want := analyze.AlertsHistory{
			Read: true, ServerStart: historyEnd.Add(-2 * day),
			Groups: []analyze.RuleGroupHistory{
				{Key: "/etc/rules.yml;app"},
				{Key: "/etc/rules.yml;new", Since: historyEnd.Add(-3 * day)},
				{Key: "/etc/rules.yml;old"},
			},
			Alerts: []analyze.AlertHistory{
				{Name: "Always", Episodes: 1, Firing: 7 * day, FiringNow: true},
				{Name: "Flappy", Episodes: 2, Firing: 2 * time.Hour},
				{Name: "Ongoing", Episodes: 2, Firing: day + time.Hour, FiringNow: true},
			},
		}
		if got := res.History.Alerts; !reflect.DeepEqual(got, want) {
			t.Errorf("alerts\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("A server that does not say when it started, and fired nothing, has its ALERTS read with no start and no alert.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		if a := res.History.Alerts; !res.OK || !reflect.DeepEqual(a, analyze.AlertsHistory{Read: true}) {
			t.Errorf("alerts %+v", a)
		}
	})

	t.Run("A failed query of ALERTS is an error of the history part.", func(t *testing.T) {
		f := &historyFake{flags: `{"storage.tsdb.retention.time":"15d"}`, matrix: func(q string) string {
			if strings.Contains(q, "ALERTS") {
				return `{"not":"a matrix"}`
			}
			return ""
		}}
		res := prometheus.CollectHistory(t.Context(), f.start(t), prometheus.HistoryOptions{End: historyEnd})
		if res.OK || len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].Err, "reading when alerts fired: ") {
			t.Errorf("result %+v", res)
		}
	})
}

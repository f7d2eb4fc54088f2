package prometheus_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
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

// alertRules are the rules TestAlertHistoryLive loads: none fires live but CertExpiring.
const alertRules = `groups:
  - name: alerts
    rules:
      - alert: CertExpiring
        expr: vector(1) > 0
        labels: {severity: warning}
      - alert: LatencyHigh
        expr: vector(0) > 1
        labels: {severity: warning}
      - alert: DiskFull
        expr: vector(0) > 2
        labels: {severity: critical}
`

// alertHistory is an OpenMetrics week ending at end, one sample a minute: ALERTS firing
// throughout for CertExpiring and for ten minutes every two hours for LatencyHigh (84 times,
// the first an hour after the start), none for DiskFull; and the rule manager's own gauge of
// the group of ruleFile, loaded all week.
func alertHistory(end time.Time, ruleFile string) string {
	var b strings.Builder
	start := end.Add(-7 * 24 * time.Hour)
	minutes := int(end.Sub(start) / time.Minute)
	at := func(i int) int64 { return start.Add(time.Duration(i) * time.Minute).Unix() }
	b.WriteString("# TYPE ALERTS gauge\n")
	for i := 0; i <= minutes; i++ {
		fmt.Fprintf(&b, "ALERTS{alertname=\"CertExpiring\",alertstate=\"firing\",severity=\"warning\"} 1 %d\n", at(i))
	}
	for i := 0; i <= minutes; i++ {
		if i%120 >= 60 && i%120 < 70 {
			fmt.Fprintf(&b, "ALERTS{alertname=\"LatencyHigh\",alertstate=\"firing\",severity=\"warning\"} 1 %d\n", at(i))
		}
	}
	b.WriteString("# TYPE prometheus_rule_group_rules gauge\n")
	for i := 0; i <= minutes; i++ {
		fmt.Fprintf(&b, "prometheus_rule_group_rules{job=\"prometheus\",instance=\"localhost:9090\",rule_group=%q} 3 %d\n", analyze.RuleGroupKey(ruleFile, "alerts"), at(i))
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func TestAlertHistoryLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bins := servers.Find(t)
	for _, p := range []struct{ name, binary string }{{"prometheus3", bins.Prometheus3}, {"prometheus2", bins.Prometheus2}} {
		t.Run(p.name+": a week of ALERTS gives an always-firing alert, a flapping one and one that never fired, also from a snapshot.", func(t *testing.T) {
			ruleFile := filepath.Join(t.TempDir(), "alerts.yml")
			if err := os.WriteFile(ruleFile, []byte(alertRules), 0o600); err != nil {
				t.Fatal(err)
			}
			// The history ends before the head begins.
			end := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Minute)
			prom := servers.StartPrometheusWithHistory(t, p.binary, servers.HistoryPrometheusOptions{
				OpenMetrics: alertHistory(end, ruleFile), RuleFiles: []string{ruleFile},
			})
			rec, err := audit.Record(t.Context(), audit.Request{
				Servers: []collect.FleetSource{{Kind: collect.KindPrometheus, HTTP: httpconfig.Options{URL: prom.URL}}},
				Sources: collect.Options{History: &prometheus.HistoryOptions{Lookback: 7 * 24 * time.Hour}},
			})
			if err != nil {
				t.Fatal(err)
			}
			live := rec.Collected.Inventory
			if !live.Has(analyze.PartHistory) || !live.Has(analyze.PartRules) || len(live.Sources[0].Errors) != 0 {
				t.Fatalf("parts %v, source %+v", live.Parts, live.Sources[0])
			}
			a := live.History.Alerts
			if !a.Read || a.ServerStart.Before(end) || len(a.Groups) != 1 || a.Groups[0] != (analyze.RuleGroupHistory{Key: analyze.RuleGroupKey(ruleFile, "alerts")}) {
				t.Fatalf("alert history %+v, want the group loaded all week on a server started now", a)
			}
			mine := slices.DeleteFunc(checks.All(checks.Options{}), func(c checks.Check) bool {
				id := c.Meta().ID
				return id != checks.AlertsNeverFiredName && id != checks.AlertsAlwaysFiringName && id != checks.AlertsFlappingName
			})
			found := checks.Run(live, checks.Derive(live, checks.Options{}), mine, checks.Policy{}).Findings
			var got []string
			for _, f := range found {
				got = append(got, f.Check+" "+f.Subject["rule"])
			}
			want := []string{"alerts/always-firing CertExpiring", "alerts/flapping LatencyHigh", "alerts/never-fired DiskFull"}
			if !slices.Equal(got, want) {
				t.Fatalf("findings %q, want %q (alerts %+v)", got, want, a.Alerts)
			}
			always, flapping, never := found[0], found[1], found[2]
			if share, err := strconv.ParseFloat(always.Details["firing_share"], 64); err != nil || share < checks.AlwaysFiringShare || always.Details["observed"] != "7d" {
				t.Errorf("always firing: %s %v", always.Message, always.Details)
			}
			if flapping.Details["episodes"] != "84" || flapping.Details["per_day"] != "12.0" ||
				!strings.Contains(flapping.Message, `alert "LatencyHigh" began to fire 84 times in the 7d observed (12.0 a day, more than 3)`) {
				t.Errorf("flapping: %s %v", flapping.Message, flapping.Details)
			}
			if never.Details["observed"] != "7d" || never.File != ruleFile || never.Group != "alerts" ||
				!strings.HasPrefix(never.Message, `alert "DiskFull" did not fire once in the 7d observed (since `) {
				t.Errorf("never fired: %s %v in %s %s", never.Message, never.Details, never.File, never.Group)
			}

			// Audited offline, the snapshot gives the same findings.
			back := readBack(t, rec)
			if !reflect.DeepEqual(back.History.Alerts, a) {
				t.Fatalf("alert history read back %+v, want %+v", back.History.Alerts, a)
			}
			if backFound := checks.Run(back, checks.Derive(back, checks.Options{}), mine, checks.Policy{}).Findings; !reflect.DeepEqual(backFound, found) {
				t.Errorf("findings of the snapshot %+v, want those of the live audit %+v", backFound, found)
			}
		})
	}
}

package checks_test

import (
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
)

// This file is the harness every <check>_test.go runs on, in the manner of pint's
// internal/checks/base_test.go: a check's test is a list of cases (an inventory and the
// findings it must give), which runTests runs after the standard cases every check must pass
// (standardCases: an empty, a failed, a hollow and a holed inventory).

// runCheckByID runs the check called id, built from opts, over inv and the dashboards ds
// through checks.Run (so that the parts it requires are honoured as in an audit) with an empty
// policy, and returns what Run returned and the parts the check requires. With checkIDs it is the only place the
// per-check tests call into the checks API; a panic fails the test with its stack.
func runCheckByID(t *testing.T, id string, opts checks.Options, inv *analyze.Inventory, ds []dashboards.Dashboard) (res checks.Result, requires []analyze.Part) {
	t.Helper()
	if ds != nil {
		inv.Dashboards = ds
	}
	all := checks.All(opts)
	i := slices.IndexFunc(all, func(c checks.Check) bool { return c.Meta().ID == id })
	if i < 0 {
		t.Fatalf("no check %q in checks.All", id)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("check %s panicked: %v\n%s", id, r, debug.Stack())
		}
	}()
	return checks.Run(inv, checks.Derive(inv, opts), all[i:i+1], checks.Policy{Now: collectedAt}), all[i].Meta().Requires
}

// checkIDs are the IDs of every check, in registry order.
func checkIDs() []string { return checks.Names(checks.All(checks.Options{})) }

// checkTest is one case of a check's test.
type checkTest struct {
	description string
	opts        checks.Options
	inv         func(t *testing.T) *analyze.Inventory
	// dashboards are the dashboards read beside the inventory.
	dashboards []dashboards.Dashboard
	// want are the findings as "subject: message" lines (see problem), in report order.
	want []string
	// lacksAll says the check must not run for lack of every part it requires (and so report
	// nothing); otherwise it must run.
	lacksAll bool
	// defect, when set, skips the case: it names a known defect the case shows, to be fixed in
	// the check (and the field removed).
	defect string
	// standard, in a check's own cases, names the standard case whose expectation differs for
	// the check (see onHollow): the case replaces it and keeps its inventory.
	standard string
}

// standardCases are the cases runTests runs for every check before its own: on an empty
// inventory and on one whose every source failed the check must not run, and on a hollow and a
// holed one it reports nothing unless the check's cases say otherwise (onHollow, onHoled).
func standardCases() []checkTest {
	return []checkTest{
		{standard: "empty", description: "An empty inventory: the check does not run and reports nothing.", inv: emptyInventory, lacksAll: true},
		{standard: "failed", description: "Every source failed: the check does not run and reports nothing.", inv: failedInventory, lacksAll: true},
		{standard: "hollow", description: "Every part read and empty: nothing is reported.", inv: hollowInventory},
		{standard: "holed", description: "Every part read with holes in the data: nothing is reported.", inv: holedInventory},
	}
}

// onHollow is the standard case on the hollow inventory for a check that reports what the empty
// parts show: the findings want.
func onHollow(want ...string) checkTest {
	return checkTest{standard: "hollow", description: "Every part read and empty: only what the empty parts show is reported.", want: want}
}

// onHoled is the standard case on the holed inventory for a check that reports what the data
// shows despite its holes: the findings want.
func onHoled(want ...string) checkTest {
	return checkTest{standard: "holed", description: "Every part read with holes in the data: only what the data shows is reported.", want: want}
}

// withStandardCases returns the standard cases, each replaced by the case of cases that stands
// for it, followed by the other cases.
func withStandardCases(t *testing.T, cases []checkTest) []checkTest {
	t.Helper()
	all := standardCases()
	var own []checkTest
	for _, tc := range cases {
		if tc.standard == "" {
			own = append(own, tc)
			continue
		}
		i := slices.IndexFunc(all, func(s checkTest) bool { return s.standard == tc.standard })
		if i < 0 {
			t.Fatalf("case %q stands for %q, which is no standard case", tc.description, tc.standard)
		}
		tc.inv = all[i].inv
		all[i] = tc
	}
	return append(all, own...)
}

// runTests runs the standard cases and then the cases of the check called id. Whatever the
// case, every finding must be the check's own, carry the fingerprint of its subject as ID, name
// no empty subject value (that would be a finding about something the inventory does not know)
// and have a message.
func runTests(t *testing.T, id string, cases []checkTest) {
	t.Helper()
	for _, tc := range withStandardCases(t, cases) {
		t.Run(tc.description, func(t *testing.T) {
			if tc.defect != "" {
				t.Skip("known defect: " + tc.defect)
			}
			res, requires := runCheckByID(t, id, tc.opts, tc.inv(t), tc.dashboards)
			var got []string
			for _, f := range res.Findings {
				got = append(got, problem(f))
				if f.Check != id {
					t.Errorf("finding of check %q in the results of %q", f.Check, id)
				}
				if f.ID != analyze.FindingID(f.Check, f.Subject) {
					t.Errorf("finding %s: ID is not the fingerprint of its subject %v", f.ID, f.Subject)
				}
				for k, v := range f.Subject {
					if strings.TrimSpace(v) == "" {
						t.Errorf("finding %q names an empty %s", f.Message, k)
					}
				}
				if f.Message == "" {
					t.Errorf("finding %v has no message", f.Subject)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var missing []analyze.Part
			for _, s := range res.Skipped {
				missing = append(missing, s.Missing...)
			}
			var want []analyze.Part
			if tc.lacksAll {
				want = requires
			}
			if !slices.Equal(missing, want) {
				t.Errorf("the check lacked %v, want %v", missing, want)
			}
		})
	}
}

// problem is a finding as one line: its subject, keys sorted, then its message.
func problem(f analyze.Finding) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(f.Subject)) {
		kv = append(kv, k+"="+f.Subject[k])
	}
	return strings.Join(kv, " ") + ": " + f.Message
}

// emptyInventory holds nothing: no source was read.
func emptyInventory(*testing.T) *analyze.Inventory { return analyze.NewBuilder(collectedAt).Build() }

// failedInventory is what an audit has when every source failed: the errors are recorded, no
// part is held, and what a half-read answer left behind is there without its part.
func failedInventory(*testing.T) *analyze.Inventory {
	b := analyze.NewBuilder(collectedAt)
	for _, s := range []struct{ name, url string }{
		{"prometheus", "http://prometheus:9090"}, {"loki", "http://loki:3100"}, {"alertmanager", "http://am:9093"},
	} {
		src := analyze.Source{Name: s.name, Kind: "live", URL: s.url}
		for _, p := range slices.Concat(analyze.AllPrometheusParts, analyze.AllLokiParts, analyze.AllAlertmanagerParts, analyze.AllHistoryParts, analyze.AllLogHistoryParts, []analyze.Part{analyze.PartRunbookLinks}) {
			src.Errors = append(src.Errors, analyze.SourceError{Part: p, Err: "connection refused"})
		}
		b.AddSource(src)
	}
	b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthDown, "connection refused"))
	b.AddRuleGroup(analyze.RuleGroup{Name: "g", File: "rules.yml", Language: "promql", Rules: []analyze.Rule{
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "ApiDown", Expr: `up{job="api"} == 0`}),
	}})
	return b.Build()
}

// hollowInventory holds every part with nothing in it: the sources answered, and had no
// targets, rules, names, streams or silences, and an Alertmanager with nothing but its root
// route. What a check reports on it must follow from those (empty) facts.
func hollowInventory(t *testing.T) *analyze.Inventory {
	b := everyPartRead()
	b.SetAlertmanagerStatus(rootOnlyConfig(t), "http://am:9093", "", "")
	return b.Build()
}

// holedInventory holds every part, with holes in the data the Builder lets through: a target
// without labels or job label, a rule group without rules, rules without labels or
// annotations, a rule whose expression does not parse, a metric with no metadata, a log stream
// without labels, a secret hit without labels, a silence without matchers. Checks must skip
// what they cannot read rather than report it.
func holedInventory(t *testing.T) *analyze.Inventory {
	b := everyPartRead()
	b.AddTarget(analyze.Target{ScrapePool: "kubernetes-pods", Instance: "10.0.0.9:8080", Health: analyze.HealthUp})
	b.AddRuleGroup(analyze.RuleGroup{Name: "empty", File: "rules.yml", Language: "promql"})
	b.AddRuleGroup(analyze.RuleGroup{Name: "holes", File: "rules.yml", Language: "promql", Rules: []analyze.Rule{
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "Broken", Expr: `rate(x[5m] > 0`, Group: "holes", File: "rules.yml",
			Labels: map[string]string{"severity": "critical", "team": "core"}, Annotations: map[string]string{"runbook_url": "https://runbooks.example/Broken"}}),
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: "job:x:rate5m", Expr: `sum by (job) (rate(x[5m]))`, Group: "holes", File: "rules.yml"}),
	}})
	b.AddMetadata("x", nil)
	b.SetLogHistory(analyze.LogHistory{Jobs: []analyze.JobLogHistory{{Job: "", Lines: 3}, {Job: "x", Recent: 2}}})
	b.SetLogs(analyze.Logs{
		Window:  time.Hour,
		Streams: []analyze.LogStream{{Selector: "{}", Entries: -1}},
		Secrets: []analyze.SecretHit{{Stream: "{}", Pattern: "aws-access-token", Count: 1, Example: "key=****"}},
	})
	b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts", Active: true})
	b.SetAlertmanagerStatus(rootOnlyConfig(t), "http://am:9093", "", "")
	b.AddSilences([]analyze.Silence{{ID: "s1", State: "active", StartsAt: collectedAt.Add(-time.Hour), EndsAt: collectedAt.Add(time.Hour)}})
	return b.Build()
}

// configlessInventory holds the alertmanager_config part without a configuration, which the
// Builder allows (AddPart without SetAlertmanagerStatus), and an alert to route.
func configlessInventory(*testing.T) *analyze.Inventory {
	b := everyPartRead()
	b.AddTarget(target("api", "api", "10.0.0.1:8080", analyze.HealthUp, ""))
	b.AddRuleGroup(analyze.RuleGroup{Name: "g", File: "rules.yml", Language: "promql", Rules: []analyze.Rule{
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "ApiDown", Expr: `up{job="api"} == 0`, Group: "g", File: "rules.yml",
			Labels: map[string]string{"severity": "critical"}}),
	}})
	b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts", Active: true})
	return b.Build()
}

func rootOnlyConfig(t *testing.T) *amconfig.Config {
	t.Helper()
	cfg, err := amconfig.Load("route: {receiver: default}\nreceivers: [{name: default}]\n")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var prometheusSource = analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090"}

// everyPartRead starts an inventory whose every part was read, from one Prometheus.
func everyPartRead() *analyze.Builder {
	b := newBuilder(everyPart()...)
	b.AddSource(prometheusSource)
	return b
}

func everyPart() []analyze.Part {
	return slices.Concat(analyze.AllPrometheusParts, analyze.AllLokiParts, analyze.AllAlertmanagerParts, analyze.AllHistoryParts, []analyze.Part{analyze.PartDashboards},
		analyze.AllLogHistoryParts, []analyze.Part{analyze.PartRunbookLinks, analyze.PartKubernetes})
}

// TestEveryCheckHasItsOwnTestFile keeps the rule of one test file per check on this harness:
// targets/down is tested in targets_down_test.go, whose cases runTests runs after the standard
// ones.
func TestEveryCheckHasItsOwnTestFile(t *testing.T) {
	for _, id := range checkIDs() {
		name := strings.NewReplacer("/", "_", "-", "_").Replace(id) + "_test.go"
		content, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("check %s has no test file: %v", id, err)
			continue
		}
		if !strings.Contains(string(content), "runTests(t, id,") {
			t.Errorf("%s does not run its cases on the harness (runTests)", name)
		}
	}
}

// TestTheStandardCasesRunOnEveryInventory keeps the standard cases on the empty, failed,
// hollow and holed inventories, and an override in place of the case it stands for.
func TestTheStandardCasesRunOnEveryInventory(t *testing.T) {
	var got []string
	for _, tc := range withStandardCases(t, []checkTest{onHoled("x: y"), {description: "own"}}) {
		got = append(got, tc.standard+"|"+tc.description+"|"+strings.Join(tc.want, ","))
		if tc.standard != "" && tc.inv == nil {
			t.Errorf("standard case %q has no inventory", tc.standard)
		}
	}
	want := []string{
		"empty|An empty inventory: the check does not run and reports nothing.|",
		"failed|Every source failed: the check does not run and reports nothing.|",
		"hollow|Every part read and empty: nothing is reported.|",
		"holed|Every part read with holes in the data: only what the data shows is reported.|x: y",
		"|own|",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

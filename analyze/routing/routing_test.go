package routing_test

import (
	"slices"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

const config = `
route:
  receiver: blackhole
  routes:
    - matchers: ['team="a"']
      receiver: chat
      continue: true
    - matchers: ['team="a"', 'severity="critical"']
      receiver: pager
    - matchers: ['cluster=~"prod-.*"']
      receiver: ops
receivers:
  - name: blackhole
  - name: chat
    slack_configs: [{api_url: "http://slack.example/hook", channel: "#a"}]
  - name: pager
    opsgenie_configs: [{api_key: "k"}]
    email_configs: [{to: "a@example.com", from: "am@example.com", smarthost: "mail:25"}]
  - name: ops
    victorops_configs: [{api_key: "k", routing_key: "ops"}]
`

func tree(t *testing.T, o routing.Options) *routing.Tree {
	t.Helper()
	cfg, err := amconfig.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	return routing.NewTree(cfg, o)
}

func TestTree(t *testing.T) {
	t.Run("A receiver's kinds are its integrations; one without any is a null receiver.", func(t *testing.T) {
		tr := tree(t, routing.Options{})
		if got := tr.Kinds("pager"); !slices.Equal(got, []string{"email", "opsgenie"}) {
			t.Errorf("pager kinds %v", got)
		}
		if !tr.Null("blackhole") || tr.Null("chat") {
			t.Error("null receivers wrong")
		}
		if !tr.Pages("pager") || tr.Pages("chat") || !tr.Pages("ops") {
			t.Error("paging receivers wrong under the default kinds")
		}
	})

	t.Run("continue reaches every matching route, in order; an alert matching none only reaches the root.", func(t *testing.T) {
		tr := tree(t, routing.Options{})
		r := tr.Match(model.LabelSet{"alertname": "X", "team": "a", "severity": "critical"})
		if !slices.Equal(r.Receivers, []string{"chat", "pager"}) || r.Default {
			t.Errorf("route %+v", r)
		}
		if got := tr.Paging(r); !slices.Equal(got, []string{"pager"}) {
			t.Errorf("paging %v", got)
		}
		r = tr.Match(model.LabelSet{"alertname": "X", "team": "b"})
		if !slices.Equal(r.Receivers, []string{"blackhole"}) || !r.Default {
			t.Errorf("route %+v", r)
		}
		if r := tr.Match(model.LabelSet{"alertname": "X", "cluster": "prod-eu"}); !slices.Equal(r.Receivers, []string{"ops"}) {
			t.Errorf("regex route %+v", r)
		}
	})

	t.Run("The paging kinds are configurable.", func(t *testing.T) {
		tr := tree(t, routing.Options{PagingKinds: []string{"slack"}})
		if !tr.Pages("chat") || tr.Pages("pager") {
			t.Error("slack should page and opsgenie not")
		}
	})
}

func TestAlerts(t *testing.T) {
	t.Run("An alert carries its rule's labels over the labels every target of its job shares, and alertname.", func(t *testing.T) {
		b := analyze.NewBuilder(time.Time{})
		b.AddPart(analyze.PartTargets)
		b.AddPart(analyze.PartRules)
		for i, inst := range []string{"a:1", "b:1"} {
			b.AddTarget(analyze.Target{Job: "api", ScrapePool: "api", Instance: inst, Health: analyze.HealthUp, Labels: map[string]string{
				"job": "api", "instance": inst, "cluster": "prod-eu", "pod": []string{"p1", "p2"}[i], "team": "b",
			}})
		}
		b.AddRuleGroup(analyze.RuleGroup{Name: "g", Language: "promql", Rules: []analyze.Rule{
			analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "ApiDown", Expr: `up{job="api"} == 0`, Labels: map[string]string{"team": "a"}}),
			analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "Heartbeat", Expr: `(vector(1))`}),
			analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "Errors", Expr: `rate(errors_total[5m]) > 0`}),
		}})
		inv := b.Build()
		alerts := routing.Alerts(inv, coverage.Analyze(inv, coverage.Options{}))
		if len(alerts) != 3 {
			t.Fatalf("%d alerts", len(alerts))
		}
		want := model.LabelSet{"alertname": "ApiDown", "job": "api", "cluster": "prod-eu", "team": "a"}
		if ls := alerts[0].LabelSets; len(ls) != 1 || ls[0].Job != "api" || !ls[0].Labels.Equal(want) {
			t.Errorf("label sets %+v, want %v", ls, want)
		}
		// Without a job matcher nothing says whose series it reads.
		for _, a := range alerts[1:] {
			if len(a.LabelSets) != 1 || a.LabelSets[0].Job != "" || len(a.LabelSets[0].Labels) != 1 {
				t.Errorf("%s: %+v", a.Rule.Name, a.LabelSets)
			}
		}
		if !routing.AlwaysFiring(alerts[1].Rule) || routing.AlwaysFiring(alerts[0].Rule) {
			t.Error("only vector(1) is a heartbeat")
		}
	})
}

func TestSilences(t *testing.T) {
	silence := func(state string, ms ...analyze.SilenceMatcher) analyze.Silence {
		return analyze.Silence{ID: "s", State: state, Matchers: ms}
	}
	eq := func(n, v string) analyze.SilenceMatcher {
		return analyze.SilenceMatcher{Name: n, Value: v, IsEqual: true}
	}
	re := func(n, v string) analyze.SilenceMatcher {
		return analyze.SilenceMatcher{Name: n, Value: v, IsEqual: true, IsRegex: true}
	}
	ls := model.LabelSet{"alertname": "ApiDown", "job": "api"}

	t.Run("Active silences whose matchers all match mute the alert; expired ones and others do not.", func(t *testing.T) {
		for _, tc := range []struct {
			s    analyze.Silence
			want bool
		}{
			{silence("active", eq("alertname", "ApiDown")), true},
			{silence("active", re("job", "a.i")), true},
			{silence("active", eq("alertname", "ApiDown"), eq("job", "web")), false},
			{silence("active", analyze.SilenceMatcher{Name: "job", Value: "api"}), false}, // job!="api"
			{silence("expired", eq("alertname", "ApiDown")), false},
		} {
			inv := &analyze.Inventory{Alerting: analyze.Alerting{Silences: []analyze.Silence{tc.s}}}
			if got := len(routing.Silenced(inv, ls)) == 1; got != tc.want {
				t.Errorf("%+v mutes: %v, want %v", tc.s.Matchers, got, tc.want)
			}
		}
	})

	t.Run("A silence that constrains nothing but job is broad; one naming the alert is not.", func(t *testing.T) {
		s := silence("active", eq("job", "api"), re("alertname", ".*"))
		if !routing.BroadSilence(&s) {
			t.Error("job-only silence not broad")
		}
		s = silence("active", eq("job", "api"), eq("alertname", "ApiDown"))
		if routing.BroadSilence(&s) {
			t.Error("narrow silence called broad")
		}
	})
}

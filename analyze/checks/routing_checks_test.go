package checks_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// amConfig routes team payments to a pager and a chat receiver, everything else to a null
// receiver by default, and sends the Watchdog to a heartbeat webhook.
const amConfig = `
route:
  receiver: blackhole
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: heartbeat
    - matchers: ['team="payments"', 'severity="critical"']
      receiver: pager
    - matchers: ['team="payments"']
      receiver: chat
    - matchers: ['job="batch"']
      receiver: chat
receivers:
  - name: blackhole
  - name: heartbeat
    webhook_configs: [{url: "http://deadmanssnitch.example/ping"}]
  - name: pager
    pagerduty_configs: [{routing_key: "0123456789abcdef0123456789abcdef"}]
  - name: chat
    slack_configs: [{api_url: "http://slack.example/hook", channel: "#alerts"}]
`

func routingInventory(t *testing.T, config string, rules []analyze.Rule, silences []analyze.Silence) *analyze.Inventory {
	t.Helper()
	cfg, err := amconfig.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(analyze.PartTargets, analyze.PartRules, analyze.PartAlertmanagers, analyze.PartAlertmanagerConfig, analyze.PartSilences)
	b.AddTarget(target("batch", "batch", "batch:9100", analyze.HealthUp, ""))
	b.AddTarget(target("api", "api", "api:8080", analyze.HealthUp, ""))
	b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts", Active: true})
	b.SetAlertmanagerStatus(cfg, "http://am:9093", "0.25.0", "disabled")
	b.AddSilences(silences)
	b.AddRuleGroup(promqlGroup("g", "rules.yaml", rules...))
	return b.Build()
}

func rule(name, expr string, labels map[string]string) analyze.Rule {
	return analyze.Rule{Kind: analyze.RuleAlerting, Name: name, Expr: expr, Labels: labels}
}

func runCheck(inv *analyze.Inventory, name string, o checks.Options) []analyze.Finding {
	all := checks.All(o)
	i := slices.IndexFunc(all, func(c checks.Check) bool { return c.Meta().ID == name })
	return checks.Run(inv, checks.Derive(inv, o), all[i:i+1], checks.Policy{Now: collectedAt}).Findings
}

func TestRoutingChecks(t *testing.T) {
	t.Parallel()
	rules := []analyze.Rule{
		rule("PaymentsDown", `up{job="api"} == 0`, map[string]string{"severity": "critical", "team": "payments"}),
		rule("PaymentsSlow", `up{job="api"} == 0`, map[string]string{"severity": "warning", "team": "payments"}),
		rule("OrphanCritical", `up{job="api"} == 0`, map[string]string{"severity": "critical"}),
		rule("BatchFailed", `up{job="batch"} == 0`, map[string]string{"severity": "critical"}),
		rule("Watchdog", `vector(1)`, map[string]string{"severity": "none"}),
	}

	t.Run("A critical alert that reaches only a null receiver or only chat is unrouted; one reaching the pager is not.", func(t *testing.T) {
		t.Parallel()
		got := ruleNames(runCheck(routingInventory(t, amConfig, rules, nil), checks.AlertsUnroutedName, checks.Options{}))
		if want := []string{"BatchFailed", "OrphanCritical"}; !slices.Equal(got, want) {
			t.Errorf("unrouted %v, want %v", got, want)
		}
	})

	t.Run("With slack counted as paging, the critical alert routed to chat pages someone.", func(t *testing.T) {
		t.Parallel()
		o := checks.Options{Routing: routing.Options{PagingKinds: []string{"pagerduty", "slack"}}}
		got := ruleNames(runCheck(routingInventory(t, amConfig, rules, nil), checks.AlertsUnroutedName, o))
		if want := []string{"OrphanCritical"}; !slices.Equal(got, want) {
			t.Errorf("unrouted %v, want %v", got, want)
		}
	})

	t.Run("The job label of the targets a rule reads decides its route.", func(t *testing.T) {
		t.Parallel()
		fs := runCheck(routingInventory(t, amConfig, rules, nil), checks.AlertsUnroutedName, checks.Options{})
		for _, f := range fs {
			if f.Subject["rule"] == "BatchFailed" && (f.Details["receivers"] != "chat" || f.Details["jobs"] != "batch") {
				t.Errorf("BatchFailed details %v, want receivers chat for job batch", f.Details)
			}
		}
	})

	t.Run("An alert without owner label that only reaches the default receiver has no owner.", func(t *testing.T) {
		t.Parallel()
		got := ruleNames(runCheck(routingInventory(t, amConfig, rules, nil), checks.AlertsNoOwnerName, checks.Options{}))
		// BatchFailed has no team either, but a route for its job sends it to chat.
		if want := []string{"OrphanCritical"}; !slices.Equal(got, want) {
			t.Errorf("no owner %v, want %v", got, want)
		}
	})

	t.Run("Generated alerts without owner are reported once, together, with the fix; owned or routed ones are not.", func(t *testing.T) {
		t.Parallel()
		generated := map[string]string{"severity": "warning", "generated_by": "blindspot"}
		withGenerated := append(slices.Clone(rules),
			rule("ApiTargetDown", `up{job="api"} == 0`, generated),
			rule("ApiAbsent", `absent(up{job="api"})`, generated),
			rule("ApiOwned", `up{job="api"} == 0`, map[string]string{"severity": "warning", "generated_by": "blindspot", "team": "payments"}),
			// Routed to chat by its job.
			rule("BatchTargetDown", `up{job="batch"} == 0`, generated),
		)
		fs := runCheck(routingInventory(t, amConfig, withGenerated, nil), checks.AlertsNoOwnerName, checks.Options{})
		var together, perRule []analyze.Finding
		for _, f := range fs {
			if f.Subject["generated_by"] == "blindspot" {
				together = append(together, f)
			} else {
				perRule = append(perRule, f)
			}
		}
		if got, want := ruleNames(perRule), []string{"OrphanCritical"}; !slices.Equal(got, want) {
			t.Errorf("per-rule findings %v, want %v", got, want)
		}
		if len(together) != 1 {
			t.Fatalf("%d findings on generated alerts, want 1: %v", len(together), fs)
		}
		f := together[0]
		if len(f.Subject) != 1 || f.File != "" || f.Details["alerts"] != "ApiAbsent,ApiTargetDown" || f.Details["receiver"] != "blackhole" ||
			f.Message != "2 alerts generated by blindspot have no team or owner label and only reach the default receiver blackhole: ApiAbsent, ApiTargetDown" ||
			!strings.Contains(f.Fix, "generate.owners") {
			t.Errorf("finding %+v", f)
		}
	})

	t.Run("A heartbeat routed to a webhook is a watchdog; without one, or routed to the null receiver, the check reports.", func(t *testing.T) {
		t.Parallel()
		if fs := runCheck(routingInventory(t, amConfig, rules, nil), checks.AlertmanagerNoWatchdogName, checks.Options{}); len(fs) != 0 {
			t.Errorf("findings %v with a routed Watchdog", fs)
		}
		if fs := runCheck(routingInventory(t, amConfig, rules[:4], nil), checks.AlertmanagerNoWatchdogName, checks.Options{}); len(fs) != 1 {
			t.Errorf("%d findings without a Watchdog, want 1", len(fs))
		}
		renamed := slices.Clone(rules)
		renamed[4].Name = "DeadMansSwitch"
		fs := runCheck(routingInventory(t, amConfig, renamed, nil), checks.AlertmanagerNoWatchdogName, checks.Options{})
		if len(fs) != 1 || fs[0].Details["heartbeats"] != "DeadMansSwitch" {
			t.Errorf("findings %v, want one naming the heartbeat routed to blackhole", fs)
		}
	})

	t.Run("A long silence and a job-wide silence silence the alerts they match; a short narrow one does not.", func(t *testing.T) {
		t.Parallel()
		silences := []analyze.Silence{
			{ID: "long", State: "active", EndsAt: collectedAt.Add(30 * 24 * time.Hour), Matchers: []analyze.SilenceMatcher{{Name: "alertname", Value: "PaymentsDown", IsEqual: true}}},
			{ID: "jobwide", State: "active", EndsAt: collectedAt.Add(time.Hour), Matchers: []analyze.SilenceMatcher{{Name: "job", Value: "batch", IsEqual: true}}},
			{ID: "short", State: "active", EndsAt: collectedAt.Add(time.Hour), Matchers: []analyze.SilenceMatcher{{Name: "alertname", Value: "PaymentsSlow", IsEqual: true}}},
			{ID: "expired", State: "expired", EndsAt: collectedAt.Add(-time.Hour), Matchers: []analyze.SilenceMatcher{{Name: "alertname", Value: "OrphanCritical", IsEqual: true}}},
		}
		fs := runCheck(routingInventory(t, amConfig, rules, silences), checks.AlertsSilencedName, checks.Options{})
		if got, want := ruleNames(fs), []string{"BatchFailed", "PaymentsDown"}; !slices.Equal(got, want) {
			t.Errorf("silenced %v, want %v", got, want)
		}
	})

	t.Run("A Prometheus whose only Alertmanager is dropped is not connected; one with an active one is.", func(t *testing.T) {
		t.Parallel()
		b := newBuilder(analyze.PartAlertmanagers)
		b.AddAlertmanager(analyze.AlertmanagerTarget{URL: "http://am:9093/api/v2/alerts"})
		if fs := runCheck(b.Build(), checks.AlertmanagerNotConnectedName, checks.Options{}); len(fs) != 1 || fs[0].Details["dropped"] != "1" {
			t.Errorf("findings %v, want one with one dropped", fs)
		}
		if fs := runCheck(routingInventory(t, amConfig, rules, nil), checks.AlertmanagerNotConnectedName, checks.Options{}); len(fs) != 0 {
			t.Errorf("findings %v with an active Alertmanager", fs)
		}
	})
}

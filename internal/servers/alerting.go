package servers

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Alerts of the alerting scenario, each routed one way.
const (
	// AlertWatchdog is vector(1), routed to the heartbeat webhook.
	AlertWatchdog = "Watchdog"
	// AlertPaymentsDown is critical, team payments: routed to the pager webhook.
	AlertPaymentsDown = "PaymentsDown"
	// AlertPaymentsDegraded is a warning of team payments: routed to the chat (Slack) receiver.
	AlertPaymentsDegraded = "PaymentsDegraded"
	// AlertOrphanDown is critical without a team: it falls to the default null receiver.
	AlertOrphanDown = "OrphanDown"
	// AlertBatchDown is critical, routed by its job to the chat receiver only.
	AlertBatchDown = "BatchDown"
	// AlertSilencedDown is critical, team payments, routed to the pager but muted by a
	// 30-day silence.
	AlertSilencedDown = "SilencedDown"
)

// Jobs of the alerting scenario: both targets are down, so their up alerts fire.
const (
	AlertingJobPayments = "payments-api"
	AlertingJobBatch    = "batch"
)

// Paths of the webhook recorder per receiver.
const (
	PathPager     = "/pager"
	PathChat      = "/chat"
	PathHeartbeat = "/heartbeat"
)

// AlertingScenario is a Prometheus sending to an Alertmanager whose receivers post to a
// WebhookRecorder: a null receiver (the default), a pager and a heartbeat webhook, and a chat
// receiver (Slack's API shape).
type AlertingScenario struct {
	PrometheusURL string
	Prometheus    *Process
	Alertmanager  *Alertmanager
	Webhooks      *WebhookRecorder
	// SilenceID is the long silence of AlertSilencedDown.
	SilenceID string
	// Rules are the alerting rules by name, in rule file order.
	Rules []string
}

// StartAlertingScenario starts the recorder, the Alertmanager (with a 30-day silence made by
// amtool) and the Prometheus at prometheusBinary, and returns once every rule was evaluated.
func StartAlertingScenario(t testing.TB, prometheusBinary string, bins AlertmanagerBinaries) *AlertingScenario {
	t.Helper()
	s := &AlertingScenario{Webhooks: StartWebhookRecorder(t)}
	// Small waits so that notifications arrive within seconds; the heartbeat repeats every
	// second, which tells a test that Alertmanager has flushed more than once.
	s.Alertmanager = StartAlertmanager(t, bins.Alertmanager, AMConfig{
		Route: AMRoute{
			Receiver: "blackhole", GroupBy: []string{"alertname", "job"},
			GroupWait: "1s", GroupInterval: "1s", RepeatInterval: "1h",
			Routes: []AMRoute{
				{Matchers: []string{`alertname="Watchdog"`}, Receiver: "heartbeat", RepeatInterval: "1s"},
				{Matchers: []string{`team="payments"`, `severity="critical"`}, Receiver: "pager"},
				{Matchers: []string{`team="payments"`}, Receiver: "chat"},
				{Matchers: []string{`job="batch"`}, Receiver: "chat"},
			},
		},
		Receivers: []AMReceiver{
			{Name: "blackhole"},
			{Name: "pager", WebhookConfigs: []AMWebhook{{URL: s.Webhooks.URL + PathPager}}},
			{Name: "heartbeat", WebhookConfigs: []AMWebhook{{URL: s.Webhooks.URL + PathHeartbeat}}},
			{Name: "chat", SlackConfigs: []AMSlack{{
				APIURL: s.Webhooks.URL + PathChat, Channel: "#alerts",
				Text: `{{ range .Alerts }}{{ .Labels.alertname }} {{ end }}`,
			}}},
		},
	})
	s.SilenceID = s.Alertmanager.Silence(t, bins.Amtool, 720*time.Hour, "incident 42, forgotten", "alertname="+AlertSilencedDown)

	payments, batch, promAddr := FreeAddress(t), FreeAddress(t), FreeAddress(t)
	s.PrometheusURL = "http://" + promAddr
	down := func(job string) string { return fmt.Sprintf(`up{job=%q} == 0`, job) }
	rules := []rule{
		{Alert: AlertWatchdog, Expr: `vector(1)`, Labels: map[string]string{"severity": "none"}},
		{Alert: AlertPaymentsDown, Expr: down(AlertingJobPayments), Labels: map[string]string{"severity": "critical", "team": "payments"}},
		{Alert: AlertPaymentsDegraded, Expr: down(AlertingJobPayments), Labels: map[string]string{"severity": "warning", "team": "payments"}},
		{Alert: AlertOrphanDown, Expr: down(AlertingJobPayments), Labels: map[string]string{"severity": "critical"}},
		{Alert: AlertBatchDown, Expr: down(AlertingJobBatch), Labels: map[string]string{"severity": "critical"}},
		{Alert: AlertSilencedDown, Expr: down(AlertingJobPayments), Labels: map[string]string{"severity": "critical", "team": "payments"}},
	}
	for _, r := range rules {
		s.Rules = append(s.Rules, r.Alert)
	}
	dir := t.TempDir()
	ruleFile, configFile := filepath.Join(dir, "rules.yml"), filepath.Join(dir, "prometheus.yml")
	writeYAML(t, ruleFile, alertingRules(rules))
	writeYAML(t, configFile, promConfig{
		Global:    globalConfig{ScrapeInterval: scenarioInterval, ScrapeTimeout: scenarioInterval, EvaluationInterval: scenarioInterval},
		Alerting:  alertingTo(s.Alertmanager.URL),
		RuleFiles: []string{ruleFile},
		ScrapeConfigs: []scrapeConfig{
			{JobName: AlertingJobPayments, StaticConfigs: []staticConfig{{Targets: []string{payments}}}},
			{JobName: AlertingJobBatch, StaticConfigs: []staticConfig{{Targets: []string{batch}}}},
		},
	})
	s.Prometheus = StartProcess(t, "prometheus", prometheusBinary,
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--scrape.discovery-reload-interval=100ms",
		// Alerts that fire before the notifier has discovered the Alertmanager (5 s in 2.42)
		// are only sent again after the resend delay, 1 m by default.
		"--rules.alert.resend-delay=1s")
	s.Prometheus.WaitReady(t, s.PrometheusURL+"/-/ready")
	return s
}

// alertingTo is the alerting section sending to the Alertmanager at url (http://HOST:PORT).
func alertingTo(url string) *alertingConfig {
	return &alertingConfig{Alertmanagers: []alertmanagerConfig{{StaticConfigs: []staticConfig{{Targets: []string{strings.TrimPrefix(url, "http://")}}}}}}
}

func alertingRules(rules []rule) ruleFile {
	return ruleFile{Groups: []ruleGroup{{Name: "routing", Rules: rules}}}
}

// WaitFor polls until cond holds, failing the test with what after ReadyTimeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ReadyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", ReadyTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// WaitForAlerts polls the Alertmanager until it holds an alert of every name, silenced or
// not.
func (s *AlertingScenario) WaitForAlerts(t testing.TB, names ...string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var got []string
	var lastErr error
	deadline := time.Now().Add(ReadyTimeout)
	for {
		var alerts []struct {
			Labels map[string]string `json:"labels"`
		}
		got = got[:0]
		lastErr = getJSON(client, s.Alertmanager.URL+"/api/v2/alerts", &alerts)
		for _, a := range alerts {
			got = append(got, a.Labels["alertname"])
		}
		if lastErr == nil && !slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(got, n) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager did not receive alerts %v within %s: got %v (%v)", names, ReadyTimeout, got, lastErr)
		}
		time.Sleep(pollInterval)
	}
}

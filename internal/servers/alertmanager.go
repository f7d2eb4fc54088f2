package servers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Variables naming Debian's Alertmanager and amtool, as scripts/test-deps.sh prints them.
const (
	EnvAlertmanager = "BLINDSPOT_TEST_ALERTMANAGER"
	EnvAmtool       = "BLINDSPOT_TEST_AMTOOL"
)

// AlertmanagerBinaries are Debian's prometheus-alertmanager and its amtool.
type AlertmanagerBinaries struct {
	Alertmanager string
	Amtool       string
}

// FindAlertmanager resolves Alertmanager and amtool. A missing one skips the test, or fails it
// in CI (CI set), where a test must not pass because nothing was installed.
func FindAlertmanager(t testing.TB) AlertmanagerBinaries {
	t.Helper()
	var b AlertmanagerBinaries
	for _, l := range []struct {
		env, fallback string
		path          *string
	}{
		{EnvAlertmanager, "/usr/bin/prometheus-alertmanager", &b.Alertmanager},
		{EnvAmtool, "/usr/bin/amtool", &b.Amtool},
	} {
		name := os.Getenv(l.env)
		if name == "" {
			name = l.fallback
		}
		path, err := exec.LookPath(name)
		if err != nil {
			msg := l.env + ": " + err.Error() + `; run eval "$(scripts/test-deps.sh)"`
			if os.Getenv("CI") != "" || !testing.Short() && os.Getenv(l.env) != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		*l.path = path
	}
	return b
}

// AMConfig is the part of an Alertmanager configuration the tests write, marshalled with yaml;
// Alertmanager validates the result when it starts.
type AMConfig struct {
	Route        AMRoute         `yaml:"route"`
	Receivers    []AMReceiver    `yaml:"receivers"`
	InhibitRules []AMInhibitRule `yaml:"inhibit_rules,omitempty"`
}

// AMRoute is a route of the routing tree.
type AMRoute struct {
	Receiver       string    `yaml:"receiver,omitempty"`
	GroupBy        []string  `yaml:"group_by,omitempty"`
	GroupWait      string    `yaml:"group_wait,omitempty"`
	GroupInterval  string    `yaml:"group_interval,omitempty"`
	RepeatInterval string    `yaml:"repeat_interval,omitempty"`
	Matchers       []string  `yaml:"matchers,omitempty"`
	Continue       bool      `yaml:"continue,omitempty"`
	Routes         []AMRoute `yaml:"routes,omitempty"`
}

// AMReceiver is a receiver with webhook or Slack integrations, or none (a null receiver).
type AMReceiver struct {
	Name           string      `yaml:"name"`
	WebhookConfigs []AMWebhook `yaml:"webhook_configs,omitempty"`
	SlackConfigs   []AMSlack   `yaml:"slack_configs,omitempty"`
}

// AMWebhook posts Alertmanager's webhook JSON to URL.
type AMWebhook struct {
	URL          string `yaml:"url"`
	SendResolved bool   `yaml:"send_resolved"`
}

// AMSlack posts a Slack message to APIURL; Text is a template.
type AMSlack struct {
	APIURL       string `yaml:"api_url"`
	Channel      string `yaml:"channel"`
	Text         string `yaml:"text,omitempty"`
	SendResolved bool   `yaml:"send_resolved"`
}

// AMInhibitRule mutes target alerts while a source alert fires.
type AMInhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal,omitempty"`
}

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	URL        string // http://127.0.0.1:PORT
	ConfigFile string
	Process    *Process
}

// StartAlertmanager starts binary with cfg on a free port of 127.0.0.1, gossip off and its
// storage in a temporary directory, and waits until /-/ready answers 200.
func StartAlertmanager(t testing.TB, binary string, cfg AMConfig) *Alertmanager {
	t.Helper()
	dir := t.TempDir()
	addr := FreeAddress(t)
	am := &Alertmanager{URL: "http://" + addr, ConfigFile: filepath.Join(dir, "alertmanager.yml")}
	writeYAML(t, am.ConfigFile, cfg)
	am.Process = StartProcess(t, "alertmanager", binary,
		"--config.file="+am.ConfigFile,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=")
	am.Process.WaitReady(t, am.URL+"/-/ready")
	return am
}

// Reload writes cfg (any value yaml marshals to an Alertmanager configuration) as the
// Alertmanager's configuration file and reloads it; Alertmanager answers the reload only once
// the configuration is applied, or with an error the test fails on.
func (am *Alertmanager) Reload(t testing.TB, cfg any) {
	t.Helper()
	writeYAML(t, am.ConfigFile, cfg)
	postReload(t, &http.Client{Timeout: 10 * time.Second}, am.URL, "Alertmanager")
}

// Silence adds a silence of the given duration with amtool, as an operator would, and
// returns its ID. Each matcher is amtool's NAME=VALUE form.
func (am *Alertmanager) Silence(t testing.TB, amtool string, d time.Duration, comment string, matchers ...string) string {
	t.Helper()
	args := append([]string{"--alertmanager.url=" + am.URL, "silence", "add",
		"--duration=" + d.String(), "--author=blindspot-test", "--comment=" + comment}, matchers...)
	out, err := exec.Command(amtool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool silence add: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// Delivery is one notification a receiver endpoint got.
type Delivery struct {
	Path string
	// Receiver and Alerts are decoded from Alertmanager's webhook JSON; Text from a Slack
	// message.
	Receiver string
	Alerts   []map[string]string // the labels of each alert
	Text     string
}

// WebhookRecorder is an HTTP server that records what Alertmanager posts to it, on any path.
type WebhookRecorder struct {
	URL string
	mu  sync.Mutex
	got []Delivery
}

// StartWebhookRecorder starts a recorder that answers 200 to every POST.
func StartWebhookRecorder(t testing.TB) *WebhookRecorder {
	t.Helper()
	rec := &WebhookRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "want a POST", http.StatusBadRequest)
			return
		}
		d := Delivery{Path: r.URL.Path}
		var webhook struct {
			Receiver string `json:"receiver"`
			Alerts   []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		var slack struct {
			Text        string `json:"text"`
			Attachments []struct {
				Text string `json:"text"`
			} `json:"attachments"`
		}
		if json.Unmarshal(body, &webhook) == nil && webhook.Receiver != "" {
			d.Receiver = webhook.Receiver
			for _, a := range webhook.Alerts {
				d.Alerts = append(d.Alerts, a.Labels)
			}
		} else if json.Unmarshal(body, &slack) == nil {
			d.Text = slack.Text
			for _, a := range slack.Attachments {
				d.Text += a.Text
			}
		}
		rec.mu.Lock()
		rec.got = append(rec.got, d)
		rec.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// Deliveries returns what was received on path so far.
func (r *WebhookRecorder) Deliveries(path string) []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(r.got), func(d Delivery) bool { return d.Path != path })
}

// AlertNames returns the sorted distinct alertname labels of the webhook deliveries on path.
func (r *WebhookRecorder) AlertNames(path string) []string {
	var out []string
	for _, d := range r.Deliveries(path) {
		for _, a := range d.Alerts {
			if !slices.Contains(out, a["alertname"]) {
				out = append(out, a["alertname"])
			}
		}
	}
	slices.Sort(out)
	return out
}

// AlertmanagerAPI answers /api/v2/status and /api/v2/silences with the given bodies as
// Alertmanager does (200, application/json), and every other path, or a nil body, with 404:
// a fake made of recorded answers.
func AlertmanagerAPI(status, silences []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := map[string][]byte{"/api/v2/status": status, "/api/v2/silences": silences}[r.URL.Path]
		if body == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

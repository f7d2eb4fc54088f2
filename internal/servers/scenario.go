package servers

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scrape jobs of the scenario, each one typical monitoring gap or a healthy baseline.
const (
	// JobPrometheus is Prometheus scraping itself (up).
	JobPrometheus = "prometheus"
	// JobNode scrapes the node exporter (up).
	JobNode = "node"
	// JobPushgateway scrapes the Pushgateway with honor_labels (up); it carries the pushed
	// business metrics with their own job labels (see PushedGroup).
	JobPushgateway = "pushgateway"
	// JobPaymentsAPI has one static target where nothing listens (down).
	JobPaymentsAPI = "payments-api"
	// JobBatchJobs discovers targets from an empty file_sd file (no targets at all).
	JobBatchJobs = "batch-jobs"
	// JobLegacyApp has one static target that its relabel_configs drop (dropped).
	JobLegacyApp = "legacy-app"
	// HostileJob is added by WithHostileJob: a name with characters that break naive quoting
	// in PromQL, YAML, Markdown and HTML. Its one static target is down.
	HostileJob = `evil"} # <script>alert(1)</script>`
)

// Scrape pools added by WithOperatorPools, named the way Prometheus Operator names them; their
// relabel_configs set the job label, as the Operator's do.
const (
	// PoolServiceMonitor scrapes the node exporter once more; its targets get job JobApp.
	PoolServiceMonitor = "serviceMonitor/monitoring/app/0"
	JobApp             = "app"
	// PoolPodMonitor has two targets whose job label comes from their app_name label:
	// JobWorkerA and JobWorkerB.
	PoolPodMonitor = "podMonitor/monitoring/workers/0"
	JobWorkerA     = "worker-a"
	JobWorkerB     = "worker-b"
	// PoolProbeEmpty discovers its targets from a file_sd file that starts empty
	// (Scenario.EmptyPoolFile) and sets their job to JobProbe.
	PoolProbeEmpty = "probe/monitoring/empty/0"
	JobProbe       = "probe-empty"
)

// Rules of the scenario's rule file.
const (
	GroupAvailability = "availability"
	GroupRecording    = "recording"
	// AlertInstanceDown watches the node job and has no runbook_url annotation.
	AlertInstanceDown = "InstanceDown"
	// AlertPrometheusSelfDown watches the prometheus job and links RunbookPrometheusDown.
	AlertPrometheusSelfDown = "PrometheusSelfDown"
	RunbookPrometheusDown   = "https://runbooks.example.com/prometheus-down"
	// RecordJobUp is avg by (job) (up).
	RecordJobUp = "job:up:avg"

	// GroupCoverage holds alerts that cover some jobs in the ways the coverage checks must
	// understand, and rules with the gaps the rule checks must find.
	GroupCoverage = "coverage"
	// AlertPushgatewayDown covers the pushgateway job through a regex matcher.
	AlertPushgatewayDown = "PushgatewayDown"
	// AlertJobsMostlyDown covers legacy-app and batch-jobs through an aggregation by job.
	AlertJobsMostlyDown = "JobsMostlyDown"
	// AlertNodeVanished is an absence alert for the node job, without a severity label.
	AlertNodeVanished = "NodeVanished"
	// AlertOrdersStopped watches checkout's orders_placed_total (a covered business counter).
	AlertOrdersStopped = "OrdersStopped"
	// AlertInvoicesStalled reads a misspelt metric that no target exposes: it can never fire.
	AlertInvoicesStalled = "InvoicesStalled"
	MisspeltMetric       = "invoices_created_totl"
	// RecordBroken fails at every evaluation (all up series collapse into one label set).
	RecordBroken = "broken:up:collapsed"
)

// Scrape and evaluation interval of the scenario: short, so the first scrapes and rule
// evaluations happen within a second or two of start.
const scenarioInterval = "1s"

// PushedGroup is one group pushed to the Pushgateway before Prometheus starts, as a batch job
// would: plain text exposition format POSTed to /metrics/job/<Job>.
type PushedGroup struct {
	Job     string
	Metrics []string // metric names in Body, sorted
	Body    string
}

// pushedGroups are static fixtures: the exact bytes a batch job sends. The billing success
// timestamp is fixed (2026-01-01T00:00:00Z) so assertions do not depend on the clock.
var pushedGroups = []PushedGroup{
	{
		Job:     "billing",
		Metrics: []string{"billing_last_success_timestamp_seconds", "invoices_created_total"},
		Body: `# HELP invoices_created_total Invoices created by the billing batch job.
# TYPE invoices_created_total counter
invoices_created_total 1234
# HELP billing_last_success_timestamp_seconds Unix time the billing batch job last succeeded.
# TYPE billing_last_success_timestamp_seconds gauge
billing_last_success_timestamp_seconds 1767225600
`,
	},
	{
		Job:     "checkout",
		Metrics: []string{"orders_placed_total"},
		Body: `# HELP orders_placed_total Orders placed through checkout.
# TYPE orders_placed_total counter
orders_placed_total 42
`,
	},
}

// Scenario is a running Prometheus with node exporter and Pushgateway, configured with the
// typical gaps described on the Job* constants. Its fields are what tests assert against.
type Scenario struct {
	PrometheusURL    string // http://127.0.0.1:PORT, no trailing slash
	PrometheusBinary string
	NodeExporterURL  string
	PushgatewayURL   string
	ConfigFile       string // prometheus.yml given to --config.file
	RuleFile         string

	Prometheus   *Process
	NodeExporter *Process
	Pushgateway  *Process

	// Jobs are all configured scrape jobs, in config order.
	Jobs []string
	// UpJobs and DownJobs have exactly one active target each, healthy or not.
	UpJobs   []string
	DownJobs []string
	// EmptyDiscoveryJobs discover no target at all.
	EmptyDiscoveryJobs []string
	// DroppedJobs discover targets that relabelling drops, so they have none active.
	DroppedJobs []string
	// Instances maps each job of UpJobs and DownJobs to the address of its one target.
	Instances map[string]string
	// DownInstance is the payments-api target, on a port where nothing listens.
	DownInstance string
	// HostileJob is HostileJob when WithHostileJob was given, else "".
	HostileJob string
	// AlertmanagerURL is the Alertmanager given by WithAlertmanager, else "".
	AlertmanagerURL string
	// EmptyPoolFile is the file_sd file of PoolProbeEmpty (WithOperatorPools): write targets
	// to it (SetFileTargets) to give the pool some.
	EmptyPoolFile string
	// waitPools are pools with targets that are not jobs of their own (WithOperatorPools):
	// start-up waits until they are scraped too.
	waitPools []string

	Pushed []PushedGroup

	RuleGroups           []string
	Alerts               []string
	AlertsWithoutRunbook []string
	RecordingRules       []string
	// BrokenRules fail at every evaluation (health "err").
	BrokenRules []string
}

// Option changes the scenario StartScenario builds.
type Option func(*scenarioOptions)

type scenarioOptions struct {
	hostileJob    bool
	alertmanager  string
	operatorPools bool
	history       func(*Scenario) string
}

// WithHistory writes the OpenMetrics history returns (see HistoryPrometheusOptions.OpenMetrics)
// into the Prometheus's data directory before it starts, so its range queries see that past.
// history is called once the scenario's files and addresses are known (the rule file's path
// is part of the rule_group label Prometheus gives its own rule metrics).
func WithHistory(history func(*Scenario) string) Option {
	return func(o *scenarioOptions) { o.history = history }
}

// WithOperatorPools adds the scrape pools PoolServiceMonitor, PoolPodMonitor and
// PoolProbeEmpty: pools whose relabeling gives their targets other job labels than the
// pool's name, one of them without targets.
func WithOperatorPools() Option {
	return func(o *scenarioOptions) { o.operatorPools = true }
}

// SetFileTargets writes the targets of a file_sd file as one target group.
func SetFileTargets(t testing.TB, file string, targets ...string) {
	t.Helper()
	writeYAML(t, file, []staticConfig{{Targets: targets}})
}

// WithHostileJob adds the job HostileJob, whose one static target is down.
func WithHostileJob() Option {
	return func(o *scenarioOptions) { o.hostileJob = true }
}

// WithAlertmanager makes the Prometheus send its alerts to the Alertmanager at url
// (http://HOST:PORT); without it the Prometheus has no alerting section.
func WithAlertmanager(url string) Option {
	return func(o *scenarioOptions) { o.alertmanager = url }
}

// StartScenario starts node exporter and Pushgateway, pushes PushedGroup fixtures, starts the
// Prometheus at prometheusBinary (2.x or 3.x) scraping them, and returns once every target has
// been scraped, every rule evaluated once and the Alertmanager of WithAlertmanager discovered. Everything is stopped when the test ends.
func StartScenario(t testing.TB, prometheusBinary string, opts ...Option) *Scenario {
	t.Helper()
	var o scenarioOptions
	for _, opt := range opts {
		opt(&o)
	}
	var bins Binaries
	require(t, slices.DeleteFunc(bins.lookups(), func(l lookup) bool {
		return l.env != EnvNodeExporter && l.env != EnvPushgateway
	}))

	nodeAddr, pushAddr, promAddr := FreeAddress(t), FreeAddress(t), FreeAddress(t)
	s := &Scenario{
		PrometheusURL:    "http://" + promAddr,
		PrometheusBinary: prometheusBinary,
		NodeExporterURL:  "http://" + nodeAddr,
		PushgatewayURL:   "http://" + pushAddr,
		DownInstance:     FreeAddress(t),
		Pushed:           slices.Clone(pushedGroups),
		AlertmanagerURL:  o.alertmanager,
	}

	// A few collectors only: the default set walks all of /proc and /sys on every 1 s scrape.
	s.NodeExporter = StartProcess(t, "node-exporter", bins.NodeExporter,
		"--web.listen-address="+nodeAddr,
		"--collector.disable-defaults",
		"--collector.cpu", "--collector.meminfo", "--collector.loadavg", "--collector.uname")
	// Debian's default --persistence.file is under /var/lib; empty disables persistence.
	s.Pushgateway = StartProcess(t, "pushgateway", bins.Pushgateway,
		"--web.listen-address="+pushAddr,
		"--persistence.file=")
	s.NodeExporter.WaitReady(t, s.NodeExporterURL+"/metrics")
	s.Pushgateway.WaitReady(t, s.PushgatewayURL+"/-/ready")
	for _, g := range s.Pushed {
		push(t, s.PushgatewayURL, g)
	}

	dir := t.TempDir()
	s.ConfigFile = filepath.Join(dir, "prometheus.yml")
	s.RuleFile = filepath.Join(dir, "rules.yml")
	emptySD := filepath.Join(dir, "batch-jobs.yml")
	writeYAML(t, emptySD, []staticConfig{})
	writeYAML(t, s.RuleFile, s.rules())
	writeYAML(t, s.ConfigFile, s.config(t, o, promAddr, nodeAddr, pushAddr, emptySD))

	if o.history != nil {
		writeHistory(t, prometheusBinary, o.history(s), filepath.Join(dir, "data"))
	}
	s.Prometheus = StartProcess(t, "prometheus", prometheusBinary,
		"--config.file="+s.ConfigFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--web.enable-lifecycle",
		// Hidden flag, accepted by 2.42 and 3.x: the scrape manager applies discovered targets
		// only every 5 s by default, which would dominate start-up. 2.42 still takes ~5 s,
		// because its discovery manager also holds the first update back for 5 s.
		"--scrape.discovery-reload-interval=100ms")
	s.Prometheus.WaitReady(t, s.PrometheusURL+"/-/ready")
	s.WaitForFirstScrapes(t)
	return s
}

// config builds the Prometheus configuration and fills the job expectations of s from the
// same values, so the two cannot disagree.
func (s *Scenario) config(t testing.TB, o scenarioOptions, promAddr, nodeAddr, pushAddr, emptySD string) promConfig {
	legacyAddr := FreeAddress(t)
	jobs := []scrapeConfig{
		{JobName: JobPrometheus, StaticConfigs: []staticConfig{{Targets: []string{promAddr}}}},
		{JobName: JobNode, StaticConfigs: []staticConfig{{Targets: []string{nodeAddr}}}},
		{JobName: JobPushgateway, HonorLabels: true, StaticConfigs: []staticConfig{{Targets: []string{pushAddr}}}},
		{JobName: JobPaymentsAPI, StaticConfigs: []staticConfig{{Targets: []string{s.DownInstance}}}},
		{JobName: JobBatchJobs, FileSDConfigs: []fileSDConfig{{Files: []string{emptySD}}}},
		{
			JobName:       JobLegacyApp,
			StaticConfigs: []staticConfig{{Targets: []string{legacyAddr}}},
			RelabelConfigs: []relabelConfig{
				{SourceLabels: []string{"__address__"}, Regex: ".+", Action: "drop"},
			},
		},
	}
	s.UpJobs = []string{JobPrometheus, JobNode, JobPushgateway}
	s.DownJobs = []string{JobPaymentsAPI}
	s.Instances = map[string]string{
		JobPrometheus:  promAddr,
		JobNode:        nodeAddr,
		JobPushgateway: pushAddr,
		JobPaymentsAPI: s.DownInstance,
	}
	if o.hostileJob {
		hostileAddr := FreeAddress(t)
		jobs = append(jobs, scrapeConfig{JobName: HostileJob, StaticConfigs: []staticConfig{{Targets: []string{hostileAddr}}}})
		s.HostileJob = HostileJob
		s.DownJobs = append(s.DownJobs, HostileJob)
		s.Instances[HostileJob] = hostileAddr
	}
	if o.operatorPools {
		s.EmptyPoolFile = filepath.Join(filepath.Dir(emptySD), "operator-probe.yml")
		writeYAML(t, s.EmptyPoolFile, []staticConfig{})
		jobs = append(jobs,
			scrapeConfig{
				JobName:        PoolServiceMonitor,
				StaticConfigs:  []staticConfig{{Targets: []string{nodeAddr}}},
				RelabelConfigs: []relabelConfig{{TargetLabel: "job", Replacement: JobApp, Action: "replace"}},
			},
			scrapeConfig{
				JobName: PoolPodMonitor,
				StaticConfigs: []staticConfig{
					{Targets: []string{nodeAddr}, Labels: map[string]string{"app_name": JobWorkerA}},
					{Targets: []string{pushAddr}, Labels: map[string]string{"app_name": JobWorkerB}},
				},
				RelabelConfigs: []relabelConfig{{SourceLabels: []string{"app_name"}, TargetLabel: "job", Action: "replace"}},
			},
			scrapeConfig{
				JobName:        PoolProbeEmpty,
				FileSDConfigs:  []fileSDConfig{{Files: []string{s.EmptyPoolFile}}},
				RelabelConfigs: []relabelConfig{{TargetLabel: "job", Replacement: JobProbe, Action: "replace"}},
			},
		)
		s.waitPools = []string{PoolServiceMonitor, PoolPodMonitor}
	}
	s.EmptyDiscoveryJobs = []string{JobBatchJobs}
	s.DroppedJobs = []string{JobLegacyApp}
	for _, j := range jobs {
		s.Jobs = append(s.Jobs, j.JobName)
	}
	cfg := promConfig{
		Global: globalConfig{
			ScrapeInterval:     scenarioInterval,
			ScrapeTimeout:      scenarioInterval,
			EvaluationInterval: scenarioInterval,
		},
		RuleFiles:     []string{s.RuleFile},
		ScrapeConfigs: jobs,
	}
	if o.alertmanager != "" {
		cfg.Alerting = alertingTo(o.alertmanager)
	}
	return cfg
}

// rules builds the rule file and fills the rule expectations of s.
func (s *Scenario) rules() ruleFile {
	f := ruleFile{Groups: []ruleGroup{
		{Name: GroupAvailability, Rules: []rule{
			{
				Alert:  AlertInstanceDown,
				Expr:   `up{job="node"} == 0`,
				For:    "1m",
				Labels: map[string]string{"severity": "critical"},
				Annotations: map[string]string{
					"summary": "Node exporter {{ $labels.instance }} is down.",
				},
			},
			{
				Alert:  AlertPrometheusSelfDown,
				Expr:   `up{job="prometheus"} == 0`,
				Labels: map[string]string{"severity": "critical"},
				Annotations: map[string]string{
					"summary":     "Prometheus cannot scrape itself.",
					"runbook_url": RunbookPrometheusDown,
				},
			},
		}},
		{Name: GroupRecording, Rules: []rule{
			{Record: RecordJobUp, Expr: "avg by (job) (up)"},
		}},
		{Name: GroupCoverage, Rules: []rule{
			{
				Alert:       AlertPushgatewayDown,
				Expr:        `up{job=~"push.*"} == 0`,
				For:         "2m",
				Labels:      map[string]string{"severity": "warning"},
				Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/pushgateway-down"},
			},
			{
				Alert:       AlertJobsMostlyDown,
				Expr:        `avg by (job) (up{job=~"legacy-app|batch-jobs"}) < 0.5`,
				For:         "5m",
				Labels:      map[string]string{"severity": "critical"},
				Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/jobs-down"},
			},
			{
				Alert: AlertNodeVanished,
				Expr:  `absent(up{job="node"})`,
				For:   "5m",
			},
			{
				Alert:  AlertOrdersStopped,
				Expr:   `rate(orders_placed_total{job="checkout"}[10m]) == 0`,
				For:    "15m",
				Labels: map[string]string{"severity": "critical"},
			},
			{
				Alert:  AlertInvoicesStalled,
				Expr:   `rate(` + MisspeltMetric + `[10m]) == 0`,
				For:    "15m",
				Labels: map[string]string{"severity": "critical"},
			},
			{
				Record: RecordBroken,
				Expr:   `label_replace(label_replace(up, "job", "same", "", ""), "instance", "same", "", "")`,
			},
		}},
	}}
	s.BrokenRules = []string{RecordBroken}
	for _, g := range f.Groups {
		s.RuleGroups = append(s.RuleGroups, g.Name)
		for _, r := range g.Rules {
			if r.Record != "" {
				s.RecordingRules = append(s.RecordingRules, r.Record)
				continue
			}
			s.Alerts = append(s.Alerts, r.Alert)
			if r.Annotations["runbook_url"] == "" {
				s.AlertsWithoutRunbook = append(s.AlertsWithoutRunbook, r.Alert)
			}
		}
	}
	return f
}

func push(t testing.TB, pushgatewayURL string, g PushedGroup) {
	t.Helper()
	u := pushgatewayURL + "/metrics/job/" + url.PathEscape(g.Job)
	resp, err := http.Post(u, "text/plain; version=0.0.4; charset=utf-8", strings.NewReader(g.Body))
	if err != nil {
		t.Fatalf("pushing group %s to %s: %v", g.Job, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		t.Fatalf("pushing group %s to %s: HTTP %d: %s", g.Job, u, resp.StatusCode, bytes.TrimSpace(body.Bytes()))
	}
}

func writeYAML(t testing.TB, path string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %s: %v", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

// WaitForFirstScrapes polls the Prometheus API until every expected job has its active target
// with a health other than "unknown", every dropped job shows its dropped target, and every
// rule has been evaluated once. It fails the test after ReadyTimeout with the last state seen.
func (s *Scenario) WaitForFirstScrapes(t testing.TB) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	for {
		pending, err := s.pending(client)
		if err == nil && len(pending) == 0 {
			return
		}
		if exited, exitErr := s.Prometheus.Exited(); exited {
			t.Fatalf("prometheus exited while waiting for first scrapes (%v); log:\n%s", exitErr, s.Prometheus.LogTail(logTailLines))
		}
		if time.Now().After(deadline) {
			if err != nil {
				pending = append(pending, err.Error())
			}
			t.Fatalf("scenario on %s not settled within %s:\n  %s", s.PrometheusURL, ReadyTimeout, strings.Join(pending, "\n  "))
		}
		time.Sleep(pollInterval)
	}
}

// pending lists what is not settled yet, one line each.
func (s *Scenario) pending(client *http.Client) ([]string, error) {
	var targets targetsData
	if err := getAPI(client, s.PrometheusURL, "/api/v1/targets?state=any", &targets); err != nil {
		return nil, err
	}
	var rules rulesData
	if err := getAPI(client, s.PrometheusURL, "/api/v1/rules", &rules); err != nil {
		return nil, err
	}
	var pending []string
	scraped := map[string]bool{}
	for _, tg := range targets.ActiveTargets {
		if tg.Health == "unknown" {
			pending = append(pending, fmt.Sprintf("target %s of %q not scraped yet", tg.ScrapeURL, tg.ScrapePool))
			continue
		}
		scraped[tg.ScrapePool] = true
	}
	for _, job := range slices.Concat(s.UpJobs, s.DownJobs, s.waitPools) {
		if !scraped[job] {
			pending = append(pending, fmt.Sprintf("job %q has no scraped target yet", job))
		}
	}
	dropped := map[string]bool{}
	for _, tg := range targets.DroppedTargets {
		dropped[tg.DiscoveredLabels["job"]] = true
	}
	for _, job := range s.DroppedJobs {
		if !dropped[job] {
			pending = append(pending, fmt.Sprintf("job %q has no dropped target yet", job))
		}
	}
	loaded := map[string]bool{}
	for _, g := range rules.Groups {
		loaded[g.Name] = true
		for _, r := range g.Rules {
			if r.LastEvaluation.IsZero() {
				pending = append(pending, fmt.Sprintf("rule %q in group %q not evaluated yet", r.Name, g.Name))
			}
			// A rule meant to fail only fails once every target has been scraped; until then
			// it may still evaluate cleanly over the few up series there are.
			if slices.Contains(s.BrokenRules, r.Name) && r.Health != "err" {
				pending = append(pending, fmt.Sprintf("rule %q has not failed yet (health %q)", r.Name, r.Health))
			}
		}
	}
	for _, g := range s.RuleGroups {
		if !loaded[g] {
			pending = append(pending, fmt.Sprintf("rule group %q not loaded", g))
		}
	}
	am, err := s.pendingAlertmanager(client)
	if err != nil {
		return nil, err
	}
	return append(pending, am...), nil
}

// pendingAlertmanager says when the Alertmanager of WithAlertmanager is not among the active
// Alertmanagers of the Prometheus.
func (s *Scenario) pendingAlertmanager(client *http.Client) ([]string, error) {
	if s.AlertmanagerURL == "" {
		return nil, nil
	}
	var ams struct {
		Active []struct {
			URL string `json:"url"`
		} `json:"activeAlertmanagers"`
	}
	if err := getAPI(client, s.PrometheusURL, "/api/v1/alertmanagers", &ams); err != nil {
		return nil, err
	}
	if len(ams.Active) == 0 {
		return []string{fmt.Sprintf("Alertmanager %s not discovered yet", s.AlertmanagerURL)}, nil
	}
	return nil, nil
}

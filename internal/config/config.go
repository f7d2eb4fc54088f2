// Package config is the schema of blindspot's configuration file (documented key by key in
// config.example.yaml), its strict decoding (unknown keys, values of the wrong shape and
// credentials written into the file are errors naming the key and its line) and its
// conversion to the typed options of the packages below. Reading the file, the environment
// and the flags into it is cmd's (viper).
package config

import (
	"maps"
	"reflect"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

// Config is the configuration file's schema (documented key by key in config.example.yaml).
// It exists only in cmd: the packages below get typed options built from it.
type Config struct {
	Prometheus      Connection     `mapstructure:"prometheus"`
	Loki            Connection     `mapstructure:"loki"`
	Grafana         Connection     `mapstructure:"grafana"`
	Checks          ChecksConfig   `mapstructure:"checks"`
	BusinessMetrics BusinessConfig `mapstructure:"business_metrics"`
	Ignore          []IgnoreConfig `mapstructure:"ignore"`
	Generate        GenerateConfig `mapstructure:"generate"`
	Logs            LogsConfig     `mapstructure:"logs"`
	History         HistoryConfig  `mapstructure:"history"`
	Masking         MaskingConfig  `mapstructure:"masking"`
	Pushgateway     Connection     `mapstructure:"pushgateway"`
	// Fleet is the list form of `prometheus:` (several servers), read apart from viper.
	Fleet        []ServerConfig `mapstructure:"-"`
	Alertmanager Connection     `mapstructure:"alertmanager"`
	Routing      RoutingConfig  `mapstructure:"routing"`
	// Timeout is the deadline of the whole run (--timeout; 0: defaultRunTimeout).
	Timeout time.Duration `mapstructure:"timeout"`
	// FleetConcurrency bounds how many servers of a fleet are read at once (0: the default).
	FleetConcurrency int `mapstructure:"fleet_concurrency"`
	// PrometheusKind is the kind of a list of one server, folded into Prometheus: empty when
	// none was named, and the server is then asked what it is.
	PrometheusKind string `mapstructure:"-"`
	// GapMetrics says where check writes its gap metrics besides pushgateway.url.
	GapMetrics GapMetricsConfig `mapstructure:"gap_metrics"`
	// Serve configures blindspot serve.
	Serve ServeConfig `mapstructure:"serve"`
	// Kubernetes scopes the checks that read kube-state-metrics' series.
	Kubernetes KubernetesConfig `mapstructure:"kubernetes"`
}

// KubernetesConfig scopes the Kubernetes checks.
type KubernetesConfig struct {
	Namespaces KubernetesNamespaces `mapstructure:"namespaces"`
}

// KubernetesNamespaces are globs (path.Match) on namespace names: include (empty: every
// namespace), then exclude.
type KubernetesNamespaces struct {
	Include []string `mapstructure:"include"`
	Exclude []string `mapstructure:"exclude"`
}

// RoutingConfig says which alerts are critical, which receivers page and who owns an alert,
// for the checks that follow alerts through the Alertmanager.
type RoutingConfig struct {
	CriticalValues []string      `mapstructure:"critical_values"`
	PagingKinds    []string      `mapstructure:"paging_kinds"`
	OwnerLabels    []string      `mapstructure:"owner_labels"`
	SilenceHorizon time.Duration `mapstructure:"silence_horizon"`
}

// GapMetricsConfig says where blindspot check writes its gap metrics besides the Pushgateway
// of pushgateway.url; generate writes the alerts on them only when one of the two is set.
type GapMetricsConfig struct {
	// Textfile is the file for node exporter's textfile collector (check --metrics-file).
	Textfile string `mapstructure:"textfile"`
}

// ExportsGapMetrics reports whether blindspot check is configured to export its gap metrics.
func (c Config) ExportsGapMetrics() bool {
	return c.Pushgateway.URL != "" || c.GapMetrics.Textfile != ""
}

// MaskingConfig scopes the generated log-masking pipelines.
type MaskingConfig struct {
	Scope string `mapstructure:"scope"`
}

// LogsConfig bounds what is read from Loki and relates jobs to streams.
type LogsConfig struct {
	Window      time.Duration    `mapstructure:"window"`
	SampleLines int              `mapstructure:"sample_lines"`
	MaxQueries  int              `mapstructure:"max_queries"`
	Match       []LogMatchConfig `mapstructure:"match"`
}

// HistoryConfig bounds what is read of the past of a live Prometheus and tunes the checks
// that read it.
type HistoryConfig struct {
	// Lookback is how far back the history is read (0: prometheus.DefaultLookback), clipped
	// to the server's retention.
	Lookback time.Duration `mapstructure:"lookback"`
	// MinFlat is the shortest flat stretch business/flatlined reports (0: its default).
	MinFlat time.Duration `mapstructure:"min_flat"`
	// VanishedTargetShare is the share of its targets a job must have lost for jobs/vanished
	// to report it (0: its default, 0.5).
	VanishedTargetShare float64 `mapstructure:"vanished_target_share"`
	// FlapEpisodes is how many times a day, on average, an alert may begin to fire before
	// alerts/flapping reports it (0: its default).
	FlapEpisodes int `mapstructure:"flap_episodes"`
	// LogSilence is how long a job's Loki streams must have had no line for logs/stopped
	// (0: loki.DefaultLogSilence).
	LogSilence time.Duration `mapstructure:"log_silence"`
	// Enabled, when false, turns the history off: a live audit then reads none (it reads it
	// by default, unset or true).
	Enabled *bool `mapstructure:"enabled"`
}

// LogMatchConfig is one pair of target labels and stream labels.
type LogMatchConfig struct {
	Targets []string `mapstructure:"targets"`
	Streams []string `mapstructure:"streams"`
}

// GenerateConfig tunes what `blindspot generate` writes.
type GenerateConfig struct {
	UpFor          time.Duration          `mapstructure:"up_for"`
	AbsentFor      time.Duration          `mapstructure:"absent_for"`
	OwnerLabel     string                 `mapstructure:"owner_label"`
	Owners         []OwnerConfig          `mapstructure:"owners"`
	RunbookBaseURL string                 `mapstructure:"runbook_base_url"`
	RulesFormat    string                 `mapstructure:"rules_format"`
	Operator       OperatorConfig         `mapstructure:"operator"`
	Business       GenerateBusinessConfig `mapstructure:"business"`
	// CheckStaleAfter is how long BlindspotCheckStale waits for a successful check.
	CheckStaleAfter time.Duration `mapstructure:"check_stale_after"`
	// MaxBacktestEpisodes is how many times a generated alert may have fired over the history
	// before it is tuned or left out (0: generate.DefaultMaxBacktestEpisodes).
	MaxBacktestEpisodes int `mapstructure:"max_backtest_episodes"`
	// Kubernetes labels the ServiceMonitors and PodMonitors written under kubernetes/.
	Kubernetes GenerateKubernetesConfig `mapstructure:"kubernetes"`
}

// GenerateKubernetesConfig labels the monitors and names the label they select on.
type GenerateKubernetesConfig struct {
	Labels        map[string]string `mapstructure:"labels"`
	SelectorLabel string            `mapstructure:"selector_label"`
}

// OwnerConfig maps jobs (a glob) to the team that owns them.
type OwnerConfig struct {
	Jobs string `mapstructure:"jobs"`
	Team string `mapstructure:"team"`
}

// OperatorConfig names and labels PrometheusRule resources.
type OperatorConfig struct {
	NamePrefix string            `mapstructure:"name_prefix"`
	Namespace  string            `mapstructure:"namespace"`
	Labels     map[string]string `mapstructure:"labels"`
}

// GenerateBusinessConfig configures the alerts on business metrics.
type GenerateBusinessConfig struct {
	Mode       string        `mapstructure:"mode"`
	Window     time.Duration `mapstructure:"window"`
	Threshold  float64       `mapstructure:"threshold"`
	Ratio      float64       `mapstructure:"ratio"`
	For        time.Duration `mapstructure:"for"`
	StaleAfter time.Duration `mapstructure:"stale_after"`
}

// ChecksConfig turns checks off, changes their severities and names the annotation and label
// some of them read.
type ChecksConfig struct {
	Disabled          []string          `mapstructure:"disabled"`
	Severity          map[string]string `mapstructure:"severity"`
	RunbookAnnotation string            `mapstructure:"runbook_annotation"`
	SeverityLabel     string            `mapstructure:"severity_label"`
	// RunbookLinks fetches the runbook links of the alerting rules for alerts/broken-runbook
	// (nil: on).
	RunbookLinks *bool `mapstructure:"runbook_links"`
}

// BusinessConfig selects the metrics alerts/missing-business looks at.
type BusinessConfig struct {
	Include     []string `mapstructure:"include"`
	Exclude     []string `mapstructure:"exclude"`
	Jobs        []string `mapstructure:"jobs"`
	ExcludeJobs []string `mapstructure:"exclude_jobs"`
	Staleness   []string `mapstructure:"staleness"`
}

// IgnoreConfig accepts the findings of a check whose subject matches.
type IgnoreConfig struct {
	Check   string            `mapstructure:"check"`
	Subject map[string]string `mapstructure:"subject"`
	Reason  string            `mapstructure:"reason"`
	// Expires is a date (YYYY-MM-DD); YAML reads an unquoted date as a timestamp already.
	Expires time.Time `mapstructure:"expires"`
}

// Connection is how to reach one server: the keys every source section shares, mapped 1:1
// onto the collectors' HTTP options (HTTPOptions).
type Connection struct {
	URL     string            `mapstructure:"url"`
	Headers map[string]string `mapstructure:"headers"`
	// BearerToken may only come from the environment; see SecretKeys.
	BearerToken     string          `mapstructure:"bearer_token"`
	BearerTokenFile string          `mapstructure:"bearer_token_file"`
	BasicAuth       BasicAuthConfig `mapstructure:"basic_auth"`
	TLS             TLSConfig       `mapstructure:"tls"`
	// Timeout is the budget of one request, all its attempts included.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxResponseBytes bounds every answer of the source (0: per-endpoint defaults).
	MaxResponseBytes int64 `mapstructure:"max_response_bytes"`
}

type BasicAuthConfig struct {
	Username     string `mapstructure:"username"`
	Password     string `mapstructure:"password"`
	PasswordFile string `mapstructure:"password_file"`
}

type TLSConfig struct {
	CAFile             string `mapstructure:"ca_file"`
	CertFile           string `mapstructure:"cert_file"`
	KeyFile            string `mapstructure:"key_file"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// SecretKeys are accepted from the environment only: a credential written into a config file
// ends up in git, so the file must name a file holding it instead.
var SecretKeys = []string{"bearer_token", "basic_auth.password"}

// sourceSections are the sections that describe a server to read.
var sourceSections = []string{"prometheus", "loki", "grafana", "pushgateway", "alertmanager"}

// HTTPOptions converts the connection to the collectors' options.
func (s Connection) HTTPOptions() httpconfig.Options {
	return httpconfig.Options{
		URL:             s.URL,
		Headers:         s.Headers,
		BearerToken:     s.BearerToken,
		BearerTokenFile: s.BearerTokenFile,
		BasicAuth: httpconfig.BasicAuth{
			Username:     s.BasicAuth.Username,
			Password:     s.BasicAuth.Password,
			PasswordFile: s.BasicAuth.PasswordFile,
		},
		TLS: httpconfig.TLS{
			CAFile:             s.TLS.CAFile,
			CertFile:           s.TLS.CertFile,
			KeyFile:            s.TLS.KeyFile,
			InsecureSkipVerify: s.TLS.InsecureSkipVerify,
		},
		Timeout:          s.Timeout,
		MaxResponseBytes: s.MaxResponseBytes,
	}
}

// ServerConfig is one entry of the list form of `prometheus:` (documented in
// config.example.yaml): a server of a fleet, with a name and the connection of a single
// source. Credentials come from files only: an entry has no environment variable of its own.
type ServerConfig struct {
	Name string `mapstructure:"name"`
	// Kind is prometheus (default), thanos or mimir.
	Kind string `mapstructure:"kind"`
	// Role ruler: the source's rules cover the jobs of every source.
	Role string `mapstructure:"role"`
	// Tenant is sent as X-Scope-OrgID (Mimir, Cortex).
	Tenant string `mapstructure:"tenant"`
	// MemberLabels are the external labels that tell a Thanos source's members apart.
	MemberLabels []string `mapstructure:"member_labels"`
	Connection   `mapstructure:",squash"`
	// Alertmanager is how to reach the server's own Alertmanager: its url names it instead
	// of the one the server reports. Unset, the alertmanager section's settings apply.
	Alertmanager Connection `mapstructure:"alertmanager"`
}

// source converts the entry to the collector's description of a server.
func (f ServerConfig) source() collect.FleetSource {
	kind := collect.SourceKind(f.Kind)
	if kind == "" {
		kind = collect.KindPrometheus
	}
	src := collect.FleetSource{Name: f.Name, Kind: kind, Role: f.Role, HTTP: f.connection().HTTPOptions(), MemberLabels: f.MemberLabels}
	if !reflect.ValueOf(f.Alertmanager).IsZero() {
		am := f.Alertmanager.HTTPOptions()
		src.Alertmanager = &am
	}
	return src
}

// connection is the entry's connection, its tenant sent as the X-Scope-OrgID header.
func (f ServerConfig) connection() Connection {
	c := f.Connection
	if f.Tenant != "" {
		c.Headers = maps.Clone(c.Headers)
		if c.Headers == nil {
			c.Headers = map[string]string{}
		}
		c.Headers["X-Scope-OrgID"] = f.Tenant
	}
	return c
}

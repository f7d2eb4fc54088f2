package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

// defaultConfigFile is read when present and --config is not given.
const defaultConfigFile = "blindspot.yaml"

// envPrefix prefixes every environment override: prometheus.url is BLINDSPOT_PROMETHEUS_URL.
const envPrefix = "BLINDSPOT"

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

// exportsGapMetrics reports whether blindspot check is configured to export its gap metrics.
func (c Config) exportsGapMetrics() bool {
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
	// BearerToken may only come from the environment; see secretKeys.
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

// secretKeys are accepted from the environment only: a credential written into a config file
// ends up in git, so the file must name a file holding it instead.
var secretKeys = []string{"bearer_token", "basic_auth.password"}

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

// configKeys lists the leaf keys of the schema ("prometheus.tls.ca_file"), which can also be
// set from the environment, and the keys whose values are maps or lists of sections
// ("prometheus.headers", "ignore"), which come from the file only.
func configKeys() (leaves, maps []string) {
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			key := prefix + f.Tag.Get("mapstructure")
			switch {
			case f.Tag.Get("mapstructure") == "-":
				// Read apart (the fleet list), documented in config.example.yaml's comments.
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]():
				walk(key+".", f.Type)
			case f.Type.Kind() == reflect.Map:
				maps = append(maps, key)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				// Lists of sections (ignore:) come from the file only, like maps.
				maps = append(maps, key)
			default:
				leaves = append(leaves, key)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return leaves, maps
}

// loadConfig reads the configuration: the file (explicit, or ./blindspot.yaml when present),
// then BLINDSPOT_* environment variables, then the flags that were set, each overriding the
// one before. It returns the file actually read ("" for none).
func loadConfig(path string, explicit bool, flags *pflag.FlagSet, flagKeys map[string]string) (Config, string, error) {
	var cfg Config
	v := viper.New()
	v.SetConfigType("yaml")
	leaves, _ := configKeys()
	for _, k := range leaves {
		v.SetDefault(k, nil)
	}
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	data, err := fsutil.ReadFile(path, fsutil.MaxInputFile)
	var fleet []ServerConfig
	switch {
	case err == nil:
		if fleet, data, err = takeFleet(path, data); err != nil {
			return cfg, path, err
		}
		if err := checkKeys(path, data); err != nil {
			return cfg, path, err
		}
		if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
			return cfg, path, fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		path = ""
	case errors.Is(err, fs.ErrNotExist):
		return cfg, path, fmt.Errorf("config file %s does not exist", path)
	default:
		return cfg, path, fmt.Errorf("reading config file %s: %w", path, err)
	}

	for key, flag := range flagKeys {
		if err := v.BindPFlag(key, flags.Lookup(flag)); err != nil {
			return cfg, path, fmt.Errorf("binding --%s: %w", flag, err)
		}
	}
	decode := viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToTimeHookFunc(time.DateOnly),
		mapstructure.StringToSliceHookFunc(","),
	))
	if err := v.Unmarshal(&cfg, decode); err != nil {
		where := "configuration"
		if path != "" {
			where = path
		}
		return cfg, path, fmt.Errorf("%s: %s", where, oneLine(err.Error()))
	}
	cfg.Fleet = fleet
	return cfg, path, nil
}

// checkKeys rejects unknown keys, values of the wrong shape and credentials written into the
// file, naming the key and its line. viper itself would ignore a misspelt key silently.
func checkKeys(path string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	if len(root.Content) == 0 {
		return nil // an empty file configures nothing
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("%s:%d: the configuration must be a mapping of sections", path, doc.Line)
	}
	return checkNode(path, "", doc.Line, doc, reflect.TypeFor[Config]())
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// checkNode checks node n, found under key on line, against the Go type t it will be decoded
// into.
func checkNode(path, key string, line int, n *yaml.Node, t reflect.Type) error {
	isNull := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	switch {
	case t.Kind() == reflect.Struct && t != durationType && t != timeType:
		if isNull {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s must be a section (a mapping of keys), not a single value", path, line, key)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			full := k.Value
			if key != "" {
				full = key + "." + k.Value
			}
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				return fmt.Errorf("%s:%d: unknown key %q", path, k.Line, full)
			}
			if section, name, _ := strings.Cut(full, "."); slices.Contains(secretKeys, name) && slices.Contains(sourceSections, section) {
				return fmt.Errorf("%s:%d: %s: credentials are not read from the config file; use %s_file or the environment variable %s",
					path, k.Line, full, strings.TrimSuffix(name, "_file"), envName(full))
			}
			if err := checkNode(path, full, k.Line, val, f.Type); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map:
		if !isNull && n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s must be a mapping", path, line, key)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if isNull {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s:%d: %s must be a list", path, line, key)
		}
		for i, item := range n.Content {
			if err := checkNode(path, fmt.Sprintf("%s[%d]", key, i), item.Line, item, t.Elem()); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice:
		if n.Kind == yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s must be a list of values", path, line, key)
		}
	default:
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			return fmt.Errorf("%s:%d: %s must be a single value", path, line, key)
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("mapstructure") == ",squash" {
			// An embedded section's keys are the embedding section's own (ServerConfig).
			if sf, ok := fieldByTag(f.Type, tag); ok {
				return sf, true
			}
			continue
		}
		if f.Tag.Get("mapstructure") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// logConfig shows the effective configuration at debug level with every credential replaced
// by <redacted>, every header value but the safe ones (httpconfig.SafeHeader) too, and URLs
// redacted (redact.URL).
func logConfig(logger *slog.Logger, file string, cfg Config) {
	logger.Debug("configuration", "file", file)
	for _, s := range []struct {
		name string
		cfg  Connection
	}{{"prometheus", cfg.Prometheus}, {"loki", cfg.Loki}, {"grafana", cfg.Grafana}, {"alertmanager", cfg.Alertmanager}} {
		if s.cfg.URL == "" {
			continue
		}
		attrs := []any{"url", httpconfig.RedactURL(s.cfg.URL), "timeout", s.cfg.Timeout}
		if s.cfg.BearerToken != "" {
			attrs = append(attrs, "bearer_token", "<redacted>")
		}
		if s.cfg.BearerTokenFile != "" {
			attrs = append(attrs, "bearer_token_file", s.cfg.BearerTokenFile)
		}
		if s.cfg.BasicAuth.Username != "" {
			attrs = append(attrs, "basic_auth.username", s.cfg.BasicAuth.Username)
		}
		if s.cfg.BasicAuth.Password != "" {
			attrs = append(attrs, "basic_auth.password", "<redacted>")
		}
		if s.cfg.BasicAuth.PasswordFile != "" {
			attrs = append(attrs, "basic_auth.password_file", s.cfg.BasicAuth.PasswordFile)
		}
		for _, h := range sortedKeys(s.cfg.Headers) {
			val := s.cfg.Headers[h]
			if !httpconfig.SafeHeader(h) {
				val = "<redacted>"
			}
			attrs = append(attrs, "headers."+h, val)
		}
		if s.cfg.TLS != (TLSConfig{}) {
			attrs = append(attrs, "tls.ca_file", s.cfg.TLS.CAFile, "tls.cert_file", s.cfg.TLS.CertFile,
				"tls.key_file", s.cfg.TLS.KeyFile, "tls.insecure_skip_verify", s.cfg.TLS.InsecureSkipVerify)
		}
		logger.Debug("source "+s.name, attrs...)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

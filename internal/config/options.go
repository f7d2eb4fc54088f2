package config

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/analyze/routing"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

// FleetOptions describes the fleet the configuration names, or nil when it names one plain
// server (audited as before, with no source key in its findings).
func (c Config) FleetOptions() (*collect.FleetOptions, error) {
	if c.Prometheus.URL != "" || len(c.Fleet) == 0 {
		return nil, nil // a URL from the environment or a flag overrides the file's list
	}
	if _, single := c.SingleFleetSource(); single {
		return nil, nil
	}
	var sources []collect.FleetSource
	for _, f := range c.Fleet {
		sources = append(sources, f.source())
	}
	return c.fleetOf(sources)
}

// fleetOf is the fleet of sources, read fleet_concurrency at a time.
func (c Config) fleetOf(sources []collect.FleetSource) (*collect.FleetOptions, error) {
	if c.FleetConcurrency < 0 {
		return nil, fmt.Errorf("fleet_concurrency %d: want the number of servers read at once, at least 1", c.FleetConcurrency)
	}
	o := &collect.FleetOptions{Concurrency: c.FleetConcurrency, Sources: sources}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// Servers are the Prometheus servers the configuration names: the fleet of its list, or the
// one server of prometheus.url (of no kind when none was named: the audit asks it what it
// is), or none.
func (c Config) Servers() ([]collect.FleetSource, error) {
	fo, err := c.FleetOptions()
	switch {
	case err != nil:
		return nil, err
	case fo != nil:
		return fo.Sources, nil
	case c.Prometheus.URL != "":
		return []collect.FleetSource{{Kind: collect.SourceKind(c.PrometheusKind), HTTP: c.Prometheus.HTTPOptions()}}, nil
	}
	return nil, nil
}

// SingleFleetSource is the one plain server of a list with one entry, as a single section.
func (c Config) SingleFleetSource() (Connection, bool) {
	if c.Prometheus.URL != "" || len(c.Fleet) != 1 {
		return c.Prometheus, false
	}
	f := c.Fleet[0]
	// An entry naming its own Alertmanager is a fleet of one, which reads it.
	if (f.Kind != "" && f.Kind != string(collect.KindPrometheus)) || f.Role != "" || !reflect.ValueOf(f.Alertmanager).IsZero() {
		return c.Prometheus, false
	}
	return f.connection(), true
}

// checkOptions converts the checks and business_metrics sections.
func (c Config) checkOptions() (checks.Options, error) {
	for _, field := range []struct {
		key   string
		globs []string
	}{
		{"business_metrics.include", c.BusinessMetrics.Include},
		{"business_metrics.exclude", c.BusinessMetrics.Exclude},
		{"business_metrics.jobs", c.BusinessMetrics.Jobs},
		{"business_metrics.exclude_jobs", c.BusinessMetrics.ExcludeJobs},
		{"business_metrics.staleness", c.BusinessMetrics.Staleness},
		{"kubernetes.namespaces.include", c.Kubernetes.Namespaces.Include},
		{"kubernetes.namespaces.exclude", c.Kubernetes.Namespaces.Exclude},
	} {
		for _, g := range field.globs {
			if _, err := path.Match(g, ""); err != nil {
				return checks.Options{}, fmt.Errorf("%s: invalid glob %q", field.key, g)
			}
		}
	}
	pairs, err := c.LogPairs()
	if err != nil {
		return checks.Options{}, err
	}
	return checks.Options{
		LogPairs:          pairs,
		RunbookAnnotation: c.Checks.RunbookAnnotation,
		SeverityLabel:     c.Checks.SeverityLabel,
		Generated:         c.generated(),
		History:           checks.History{MinFlat: c.History.MinFlat, VanishedTargetShare: c.History.VanishedTargetShare, FlapEpisodes: c.History.FlapEpisodes},
		Kubernetes:        checks.Kubernetes{Include: c.Kubernetes.Namespaces.Include, Exclude: c.Kubernetes.Namespaces.Exclude},
		Routing: routing.Options{
			CriticalValues: c.Routing.CriticalValues,
			PagingKinds:    c.Routing.PagingKinds,
			OwnerLabels:    c.Routing.OwnerLabels,
			SilenceHorizon: c.Routing.SilenceHorizon,
		},
		Business: coverage.BusinessOptions{
			Include:     c.BusinessMetrics.Include,
			Exclude:     c.BusinessMetrics.Exclude,
			Jobs:        c.BusinessMetrics.Jobs,
			ExcludeJobs: c.BusinessMetrics.ExcludeJobs,
			Staleness:   c.BusinessMetrics.Staleness,
		},
	}, nil
}

// HistoryOptions converts the history section to the history collector's options: a live
// audit reads the history by default, over prometheus.DefaultLookback; nil when
// history.enabled is false (in the file or as BLINDSPOT_HISTORY_ENABLED), and the history is
// not read. An error names a key whose value cannot be a lookback.
func (c Config) HistoryOptions() (*prometheus.HistoryOptions, error) {
	switch {
	case c.History.Enabled != nil && !*c.History.Enabled:
		return nil, nil
	case c.History.Lookback < 0:
		return nil, fmt.Errorf("history.lookback %s: want a positive duration", c.History.Lookback)
	case c.History.MinFlat < 0:
		return nil, fmt.Errorf("history.min_flat %s: want a positive duration", c.History.MinFlat)
	case c.History.VanishedTargetShare < 0 || c.History.VanishedTargetShare > 1:
		return nil, fmt.Errorf("history.vanished_target_share %g: want a share between 0 and 1 (0.5 reports a job that lost more than half its targets; 1 none that still has some)", c.History.VanishedTargetShare)
	case c.History.FlapEpisodes < 0:
		return nil, fmt.Errorf("history.flap_episodes %d: want a positive number", c.History.FlapEpisodes)
	}
	return &prometheus.HistoryOptions{Lookback: cmp.Or(c.History.Lookback, prometheus.DefaultLookback)}, nil
}

// generated is what the fixes quote of the alerts generate writes, with generate's defaults.
func (c Config) generated() checks.Generated {
	g := generate.DefaultOptions(generate.Options{
		UpFor:     c.Generate.UpFor,
		AbsentFor: c.Generate.AbsentFor,
		Business: generate.BusinessOptions{
			Mode: c.Generate.Business.Mode, Window: c.Generate.Business.Window, StaleAfter: c.Generate.Business.StaleAfter,
		},
	})
	return checks.Generated{UpFor: g.UpFor, AbsentFor: g.AbsentFor, BusinessWindow: g.Business.Window, StaleAfter: g.Business.StaleAfter}
}

// policy converts checks.disabled, checks.severity and ignore, rejecting check IDs that do not
// exist so that a typo cannot silently keep a check on or an exception off.
func (c Config) policy(known []string) (checks.Policy, error) {
	var p checks.Policy
	knownCheck := func(key, id string) error {
		if !slices.Contains(known, id) {
			return fmt.Errorf("%s: unknown check %q", key, id)
		}
		return nil
	}
	for _, id := range c.Checks.Disabled {
		if err := knownCheck("checks.disabled", id); err != nil {
			return p, err
		}
		p.Disabled = append(p.Disabled, id)
	}
	for _, id := range SortedKeys(c.Checks.Severity) {
		key := "checks.severity." + id
		if err := knownCheck(key, id); err != nil {
			return p, err
		}
		sev, err := analyze.ParseSeverity(c.Checks.Severity[id])
		if err != nil {
			return p, fmt.Errorf("%s: %w", key, err)
		}
		if p.Severity == nil {
			p.Severity = map[string]analyze.Severity{}
		}
		p.Severity[id] = sev
	}
	for i, ig := range c.Ignore {
		key := fmt.Sprintf("ignore[%d]", i)
		if ig.Check == "" {
			return p, fmt.Errorf("%s.check is required", key)
		}
		if err := knownCheck(key+".check", ig.Check); err != nil {
			return p, err
		}
		if ig.Reason == "" {
			return p, fmt.Errorf("%s.reason is required: say why the finding is accepted", key)
		}
		for _, k := range SortedKeys(ig.Subject) {
			if _, err := path.Match(ig.Subject[k], ""); err != nil {
				return p, fmt.Errorf("%s.subject.%s: invalid glob %q", key, k, ig.Subject[k])
			}
		}
		entry := checks.Ignore{Check: ig.Check, Subject: ig.Subject, Reason: ig.Reason}
		if !ig.Expires.IsZero() {
			// The exception holds through the whole day it names.
			entry.Expires = ig.Expires.AddDate(0, 0, 1)
		}
		p.Ignore = append(p.Ignore, entry)
	}
	return p, nil
}

// CheckSuite converts the checks' configuration to their options and policy; audit and
// generate judge alike.
func (c Config) CheckSuite() (checks.Options, checks.Policy, error) {
	copts, err := c.checkOptions()
	if err != nil {
		return checks.Options{}, checks.Policy{}, err
	}
	policy, err := c.policy(checks.Names(checks.All(copts)))
	if err != nil {
		return checks.Options{}, checks.Policy{}, err
	}
	return copts, policy, nil
}

// LogPairs converts logs.match; empty means the defaults.
func (c Config) LogPairs() ([]logmatch.Pair, error) {
	var pairs []logmatch.Pair
	for i, m := range c.Logs.Match {
		if len(m.Targets) == 0 || len(m.Targets) != len(m.Streams) {
			return nil, fmt.Errorf("logs.match[%d]: targets and streams must name the same number of labels (at least one)", i)
		}
		pairs = append(pairs, logmatch.Pair{Target: m.Targets, Stream: m.Streams})
	}
	return pairs, nil
}

// GenerateOptions converts the generate section (and grafana.url) to the generators' options.
func (c Config) GenerateOptions(rulesFormat string) (generate.Options, error) {
	g := c.Generate
	o := generate.Options{
		UpFor:          g.UpFor,
		AbsentFor:      g.AbsentFor,
		OwnerLabel:     g.OwnerLabel,
		RunbookBaseURL: g.RunbookBaseURL,
		GrafanaURL:     strings.TrimSuffix(c.Grafana.URL, "/"),
		RulesFormat:    g.RulesFormat,
		MaskingScope:   c.Masking.Scope,
		GapMetrics:     c.ExportsGapMetrics(),
		Operator: generate.OperatorOptions{
			NamePrefix: g.Operator.NamePrefix,
			Namespace:  g.Operator.Namespace,
			Labels:     g.Operator.Labels,
		},
		Business: generate.BusinessOptions{
			Mode:       g.Business.Mode,
			Window:     g.Business.Window,
			Threshold:  g.Business.Threshold,
			Ratio:      g.Business.Ratio,
			For:        g.Business.For,
			StaleAfter: g.Business.StaleAfter,
		},
	}
	o.Kubernetes = generate.KubernetesOptions{Labels: g.Kubernetes.Labels, SelectorLabel: g.Kubernetes.SelectorLabel}
	o.CheckStaleAfter = g.CheckStaleAfter
	if o.CheckStaleAfter < 0 {
		return o, fmt.Errorf("generate.check_stale_after: %s: want a positive duration", o.CheckStaleAfter)
	}
	if o.MaxBacktestEpisodes = g.MaxBacktestEpisodes; o.MaxBacktestEpisodes < 0 {
		return o, fmt.Errorf("generate.max_backtest_episodes: %d: want a number of firing episodes, at least 1", o.MaxBacktestEpisodes)
	}
	if rulesFormat != "" {
		o.RulesFormat = rulesFormat
	}
	if o.MaskingScope != "" && o.MaskingScope != "leaking" && o.MaskingScope != "all" {
		return o, fmt.Errorf("masking.scope: %q: want leaking or all", o.MaskingScope)
	}
	for _, ow := range g.Owners {
		o.Owners = append(o.Owners, generate.Owner{Jobs: ow.Jobs, Team: ow.Team})
	}
	if err := rules.ValidateOptions(o); err != nil {
		var oe *rules.OptionError
		if errors.As(err, &oe) {
			// The generator names options relative to the generate section.
			key := "generate." + oe.Option
			if oe.Option == "grafana_url" {
				key = "grafana.url"
			}
			return o, fmt.Errorf("%s: %s", key, oe.Problem)
		}
		return o, err
	}
	// Validated as configured (the messages redact them), linked to redacted.
	o.RunbookBaseURL = redactLink(o.RunbookBaseURL)
	o.GrafanaURL = strings.TrimSuffix(grafanaBase(o.GrafanaURL), "/")
	return o, nil
}

// redactLink is a configured URL as generated files link to it: without user information
// or credential query parameters (redact.URL), since rule annotations reach every
// notification. "" stays "".
func redactLink(u string) string {
	if u == "" {
		return ""
	}
	return redact.URL(u)
}

// grafanaBase is grafana.url as the base of generated links ("/d/<uid>" is appended):
// redacted, and without a query string or fragment, which would end up before the path.
func grafanaBase(u string) string {
	if p, err := url.Parse(u); err == nil {
		p.RawQuery, p.Fragment, p.RawFragment = "", "", ""
		u = p.String()
	}
	return redactLink(u)
}

// Log shows the effective configuration at debug level with every credential replaced
// by <redacted>, every header value but the safe ones (httpconfig.SafeHeader) too, and URLs
// redacted (redact.URL).
func (cfg Config) Log(logger *slog.Logger, file string) {
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
		for _, h := range SortedKeys(s.cfg.Headers) {
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

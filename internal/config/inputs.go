package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
)

// NamedURL splits name=URL. A plain URL (which may hold '=' in its query) is not named: the
// name must come before any ':' or '/'.
func NamedURL(v string) (name, u string, ok bool) {
	name, u, ok = strings.Cut(v, "=")
	if !ok || name == "" || strings.ContainsAny(name, ":/?") {
		return "", v, false
	}
	return name, u, true
}

// NameServers replaces the fleet of the configuration by the servers named NAME=URL (the
// values of a repeated --prometheus-url). A name the configuration lists keeps that entry's
// other keys (kind, role, auth); a new name inherits the keys of the single `prometheus:`
// section, but its credentials, which the environment gave that section alone.
func (c *Config) NameServers(values []string) error {
	var fleet []ServerConfig
	for _, v := range values {
		name, u, ok := NamedURL(v)
		if !ok {
			return fmt.Errorf("--prometheus-url %s: with several servers each needs a name: --prometheus-url NAME=URL", httpconfig.RedactURL(v))
		}
		if err := (httpconfig.Options{URL: u}).Validate(); err != nil {
			// Validate quotes the URL redacted; url.Parse's own error would quote it whole.
			return fmt.Errorf("--prometheus-url %s: %w", name, err)
		}
		if i := slices.IndexFunc(c.Fleet, func(f ServerConfig) bool { return f.Name == name }); i >= 0 {
			f := c.Fleet[i]
			f.Connection.URL = u
			fleet = append(fleet, f)
			continue
		}
		conn := c.Prometheus
		conn.URL, conn.BearerToken, conn.BasicAuth.Password = u, "", ""
		fleet = append(fleet, ServerConfig{Name: name, Connection: conn})
	}
	c.Fleet = fleet
	c.Prometheus.URL = ""
	return nil
}

// Sources are the collector options of the sources every server shares: Loki, Grafana and the
// Alertmanager's settings (with no alertmanager.url, those the Alertmanager each Prometheus
// reports is read with). fromSnapshot says the audit reads a snapshot, which holds what was
// read from Prometheus, Loki and the Alertmanager (naming them is an error) and the dashboards
// (grafana.url then only makes the links of generated rules). The one server of
// prometheus.url, which the audit reads, is checked here too.
func (c Config) Sources(fromSnapshot bool) (collect.Options, error) {
	var o collect.Options
	if c.Loki.URL != "" {
		if fromSnapshot {
			return o, errors.New("--from and a Loki URL are mutually exclusive: the snapshot holds what was read from Loki")
		}
		opts := c.Loki.HTTPOptions()
		if err := opts.Validate(); err != nil {
			return o, fmt.Errorf("loki.url: %w", err)
		}
		o.Loki = &opts
		o.LokiOptions = loki.Options{Window: c.Logs.Window, Limit: c.Logs.SampleLines, MaxQueries: c.Logs.MaxQueries}
	}
	if c.Grafana.URL != "" && !fromSnapshot {
		opts := c.Grafana.HTTPOptions()
		if err := opts.Validate(); err != nil {
			return o, fmt.Errorf("grafana.url: %w", err)
		}
		o.Grafana = &opts
	}
	opts := c.Alertmanager.HTTPOptions()
	if c.Alertmanager.URL != "" {
		if fromSnapshot {
			return o, errors.New("--from and an Alertmanager URL are mutually exclusive: the snapshot holds what was read from the Alertmanager")
		}
		if err := opts.Validate(); err != nil {
			return o, fmt.Errorf("alertmanager.url: %w", err)
		}
	}
	o.Alertmanager = &opts
	if o.Loki != nil {
		var err error
		if o.LokiHistory, err = c.LogHistoryOptions(); err != nil {
			return o, err
		}
	}
	if !fromSnapshot {
		o.RunbookLinks = c.RunbookLinkOptions()
	}
	if c.Prometheus.URL != "" {
		if fromSnapshot {
			return o, errors.New("--from and a Prometheus URL are mutually exclusive: audit either the snapshot or the live server")
		}
		if err := c.Prometheus.HTTPOptions().Validate(); err != nil {
			return o, fmt.Errorf("prometheus.url: %w", err)
		}
	}
	return o, nil
}

// FoldSingleServer makes a list of one plain server (SingleFleetSource) the single
// `prometheus:` section it stands for, of the kind the entry names.
func (c *Config) FoldSingleServer() {
	if single, ok := c.SingleFleetSource(); ok {
		c.Prometheus, c.PrometheusKind, c.Fleet = single, c.Fleet[0].Kind, nil
	}
}

// PushgatewayOptions are the options of the Pushgateway check pushes its gap metrics to:
// pushgateway's, at url when set (--pushgateway); no URL when there is none.
func (c Config) PushgatewayOptions(url string) (httpconfig.Options, error) {
	push := c.Pushgateway.HTTPOptions()
	if url != "" {
		push.URL = url
	}
	if push.URL != "" {
		if err := push.Validate(); err != nil {
			return push, fmt.Errorf("pushgateway.url: %w", err)
		}
	}
	return push, nil
}

// AllChecks are every check the configuration sets up, disabled ones included: the rules a SARIF
// log describes.
func (c Config) AllChecks() ([]checks.Check, error) {
	copts, _, err := c.CheckSuite()
	if err != nil {
		return nil, err
	}
	return checks.All(copts), nil
}

// DefaultTimeout checks timeout:, the deadline of the whole run, and sets it to def when unset.
func (c *Config) DefaultTimeout(def time.Duration) error {
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("timeout %s: want a positive duration such as 2m", c.Timeout)
	case c.Timeout == 0:
		c.Timeout = def
	}
	return nil
}

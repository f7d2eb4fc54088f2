package main

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

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
}

// source converts the entry to the collector's description of a server.
func (f ServerConfig) source() collect.FleetSource {
	kind := collect.SourceKind(f.Kind)
	if kind == "" {
		kind = collect.KindPrometheus
	}
	return collect.FleetSource{Name: f.Name, Kind: kind, Role: f.Role, HTTP: f.connection().HTTPOptions(), MemberLabels: f.MemberLabels}
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

// takeFleet removes the list form of `prometheus:` from a configuration file, checks its
// entries key by key and decodes them. It returns the file without the list (for viper, which
// reads `prometheus` as one section) and the entries; a file with a single section is
// returned unchanged with no entries.
func takeFleet(path string, data []byte) ([]ServerConfig, []byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, data, nil // checkKeys reports what is wrong with such a file
	}
	doc := root.Content[0]
	i := slices.IndexFunc(doc.Content, func(n *yaml.Node) bool { return n.Value == "prometheus" })
	if i < 0 || i%2 != 0 || doc.Content[i+1].Kind != yaml.SequenceNode {
		return nil, data, nil
	}
	list := doc.Content[i+1]
	t := reflect.TypeFor[ServerConfig]()
	for j, item := range list.Content {
		key := fmt.Sprintf("prometheus[%d]", j)
		if item.Kind == yaml.MappingNode {
			for k := 0; k+1 < len(item.Content); k += 2 {
				switch name, val := item.Content[k].Value, item.Content[k+1]; {
				case name == "bearer_token":
					return nil, nil, fmt.Errorf("%s:%d: %s.bearer_token: credentials are not read from the config file; use bearer_token_file", path, item.Content[k].Line, key)
				case name == "basic_auth" && val.Kind == yaml.MappingNode:
					for m := 0; m+1 < len(val.Content); m += 2 {
						if val.Content[m].Value == "password" {
							return nil, nil, fmt.Errorf("%s:%d: %s.basic_auth.password: credentials are not read from the config file; use basic_auth.password_file", path, val.Content[m].Line, key)
						}
					}
				}
			}
		}
		if err := checkNode(path, key, item.Line, item, t); err != nil {
			return nil, nil, err
		}
	}
	var out []ServerConfig
	for j, item := range list.Content {
		var raw map[string]any
		var f ServerConfig
		err := item.Decode(&raw)
		if err == nil {
			var dec *mapstructure.Decoder
			dec, err = mapstructure.NewDecoder(&mapstructure.DecoderConfig{
				Result: &f,
				DecodeHook: mapstructure.ComposeDecodeHookFunc(
					mapstructure.StringToTimeDurationHookFunc(),
					mapstructure.StringToSliceHookFunc(","),
				),
			})
			if err == nil {
				err = dec.Decode(raw)
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: prometheus[%d]: %s", path, item.Line, j, oneLine(err.Error()))
		}
		out = append(out, f)
	}
	doc.Content = slices.Delete(doc.Content, i, i+2)
	rest, err := yaml.Marshal(&root)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, rest, nil
}

// prometheusURLs is --prometheus-url: a URL, or repeated name=URL for a fleet. As a viper
// flag it reads as the single URL (empty for a fleet, which then overrides prometheus.url).
type prometheusURLs struct{ values []string }

func (p *prometheusURLs) String() string {
	if len(p.values) == 1 {
		if _, _, named := namedURL(p.values[0]); !named {
			return p.values[0]
		}
	}
	return ""
}

func (p *prometheusURLs) Set(v string) error { p.values = append(p.values, v); return nil }
func (p *prometheusURLs) Type() string       { return "[name=]url" }

// named reports whether the flag names a fleet: several values, or one name=URL.
func (p *prometheusURLs) named() bool { return len(p.values) > 0 && p.String() == "" }

// namedURL splits name=URL. A plain URL (which may hold '=' in its query) is not named: the
// name must come before any ':' or '/'.
func namedURL(v string) (name, u string, ok bool) {
	name, u, ok = strings.Cut(v, "=")
	if !ok || name == "" || strings.ContainsAny(name, ":/?") {
		return "", v, false
	}
	return name, u, true
}

// applyFleetFlags replaces the fleet of the configuration by the sources named with
// --prometheus-url name=URL. A name the configuration lists keeps that entry's other keys
// (kind, role, auth); a new name inherits the keys of the single `prometheus:` section.
func (c *Config) applyFleetFlags(p *prometheusURLs) error {
	if !p.named() {
		return nil
	}
	var fleet []ServerConfig
	for _, v := range p.values {
		name, u, ok := namedURL(v)
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
		// The credentials of the environment stay with the single section.
		conn := c.Prometheus
		conn.URL, conn.BearerToken, conn.BasicAuth.Password = u, "", ""
		fleet = append(fleet, ServerConfig{Name: name, Connection: conn})
	}
	c.Fleet = fleet
	c.Prometheus.URL = ""
	return nil
}

// fleetOptions describes the fleet the configuration names, or nil when it names one plain
// server (audited as before, with no source key in its findings).
func (c Config) fleetOptions() (*collect.FleetOptions, error) {
	if c.Prometheus.URL != "" || len(c.Fleet) == 0 {
		return nil, nil // a URL from the environment or a flag overrides the file's list
	}
	if _, single := c.singleFleetSource(); single {
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

// servers are the Prometheus servers the configuration names: the fleet of its list, or the
// one server of prometheus.url (of no kind when none was named: the audit asks it what it
// is), or none.
func (c Config) servers() ([]collect.FleetSource, error) {
	fo, err := c.fleetOptions()
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

// singleFleetSource is the one plain server of a list with one entry, as a single section.
func (c Config) singleFleetSource() (Connection, bool) {
	if c.Prometheus.URL != "" || len(c.Fleet) != 1 {
		return c.Prometheus, false
	}
	f := c.Fleet[0]
	if (f.Kind != "" && f.Kind != string(collect.KindPrometheus)) || f.Role != "" {
		return c.Prometheus, false
	}
	s := f.connection()
	return s, true
}

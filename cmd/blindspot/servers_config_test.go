package main

import (
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/internal/config"
)

const fleetYAML = `prometheus:
  - name: eu
    url: http://prometheus-eu:9090
    timeout: 5s
  - name: global
    kind: thanos
    url: http://thanos-query:10902
    member_labels: [cluster, region]
  - name: team-a
    kind: mimir
    url: http://mimir:8080
    tenant: team-a
    headers:
      X-Extra: yes
loki:
  url: http://loki:3100
`

func TestFleetConfig(t *testing.T) {
	t.Run("The list form of prometheus reads every server with its kind, tenant and labels, and leaves the other sections alone.", func(t *testing.T) {
		cleanEnv(t)
		cfg, _, err := loadConfig(writeConfig(t, fleetYAML), true, globalFlags(), flagKeys)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Loki.URL != "http://loki:3100" || cfg.Prometheus.URL != "" {
			t.Errorf("loki = %q, prometheus = %q", cfg.Loki.URL, cfg.Prometheus.URL)
		}
		o, err := cfg.FleetOptions()
		if err != nil || o == nil || len(o.Sources) != 3 {
			t.Fatalf("fleet %+v, err %v", o, err)
		}
		eu, global, team := o.Sources[0], o.Sources[1], o.Sources[2]
		if eu.Name != "eu" || eu.Kind != collect.KindPrometheus || eu.HTTP.Timeout != 5*time.Second {
			t.Errorf("eu = %+v", eu)
		}
		if global.Kind != collect.KindThanos || strings.Join(global.MemberLabels, ",") != "cluster,region" {
			t.Errorf("global = %+v", global)
		}
		if team.Kind != collect.KindMimir || team.HTTP.Headers["X-Scope-OrgID"] != "team-a" || team.HTTP.Headers["X-Extra"] != "yes" {
			t.Errorf("team-a = %+v", team)
		}
	})

	t.Run("fleet_concurrency bounds how many servers are read at once; unset, the collector's default applies.", func(t *testing.T) {
		cleanEnv(t)
		for yaml, want := range map[string]int{fleetYAML: 0, fleetYAML + "fleet_concurrency: 1\n": 1} {
			cfg, _, err := loadConfig(writeConfig(t, yaml), true, globalFlags(), flagKeys)
			if err != nil {
				t.Fatal(err)
			}
			if o, err := cfg.FleetOptions(); err != nil || o.Concurrency != want {
				t.Errorf("concurrency %+v (err %v), want %d", o, err, want)
			}
		}
	})

	t.Run("A mistake in an entry is one error naming the file, the line and the entry's key.", func(t *testing.T) {
		cleanEnv(t)
		for body, want := range map[string]string{
			"prometheus:\n  - name: a\n    url: http://a\n  - name: b\n    kindd: thanos\n":                     `:5: unknown key "prometheus[1].kindd"`,
			"prometheus:\n  - name: a\n    bearer_token: hunter2\n":                                             `:3: prometheus[0].bearer_token: credentials are not read from the config file; use bearer_token_file`,
			"prometheus:\n  - name: a\n    basic_auth:\n      username: u\n      password: hunter2\n":           `:5: prometheus[0].basic_auth.password: credentials are not read from the config file; use basic_auth.password_file`,
			"prometheus:\n  - name: a\n    timeout: soon\n":                                                     `:2: prometheus[0]: `,
			"prometheus:\n  - name: a\n    url: http://a\n  - name: a\n    url: http://b\n":                     `prometheus[1]: the name "a" is used twice`,
			"prometheus:\n  - name: a\n    url: http://a\n  - name: b\n    url: http://b\n    kind: victoria\n": `prometheus[1] (b): unknown kind "victoria"`,
		} {
			path := writeConfig(t, body)
			cfg, _, err := loadConfig(path, true, nil, nil)
			if err == nil {
				_, err = cfg.FleetOptions()
			}
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: err = %v, want …%s…", body, err, want)
			}
		}
	})

	t.Run("Repeated --prometheus-url NAME=URL makes a fleet; a listed name keeps its kind, a new one inherits the single section.", func(t *testing.T) {
		cleanEnv(t)
		cfg, _, err := loadConfig(writeConfig(t, fleetYAML), true, globalFlags(), flagKeys)
		if err != nil {
			t.Fatal(err)
		}
		flags := &prometheusURLs{values: []string{"global=http://other-query:10902", "us=http://prometheus-us:9090?x=1"}}
		if err := applyFleetFlags(&cfg, flags); err != nil {
			t.Fatal(err)
		}
		o, err := cfg.FleetOptions()
		if err != nil || len(o.Sources) != 2 {
			t.Fatalf("fleet %+v, err %v", o, err)
		}
		if s := o.Sources[0]; s.Name != "global" || s.Kind != collect.KindThanos || s.HTTP.URL != "http://other-query:10902" {
			t.Errorf("global = %+v", s)
		}
		if s := o.Sources[1]; s.Name != "us" || s.Kind != collect.KindPrometheus || s.HTTP.URL != "http://prometheus-us:9090?x=1" {
			t.Errorf("us = %+v", s)
		}
	})

	t.Run("A single URL stays a single server, even with '=' in its query; mixing it with named ones is an error.", func(t *testing.T) {
		one := &prometheusURLs{values: []string{"http://prometheus:9090/?a=b"}}
		if one.named() || one.String() != "http://prometheus:9090/?a=b" {
			t.Errorf("named %v, String %q", one.named(), one.String())
		}
		var cfg config.Config
		err := applyFleetFlags(&cfg, &prometheusURLs{values: []string{"http://prometheus:9090", "b=http://b:9090"}})
		if err == nil || !strings.Contains(err.Error(), "each needs a name") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("A list with one plain server is audited as that server alone.", func(t *testing.T) {
		cfg := config.Config{Fleet: []config.ServerConfig{{Name: "only", Connection: config.Connection{URL: "http://p:9090"}, Tenant: "t"}}}
		s, ok := cfg.SingleFleetSource()
		if !ok || s.URL != "http://p:9090" || s.Headers["X-Scope-OrgID"] != "t" {
			t.Errorf("single = %+v, %v", s, ok)
		}
		if o, err := cfg.FleetOptions(); o != nil || err != nil {
			t.Errorf("fleet = %+v, %v", o, err)
		}
	})
}

package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestNameServers(t *testing.T) {
	listed := func() Config {
		return Config{
			Prometheus: Connection{BearerToken: "from-env", Timeout: 7 * time.Second, BasicAuth: BasicAuthConfig{Username: "u", Password: "p"}},
			Fleet:      []ServerConfig{{Name: "global", Kind: "thanos", Connection: Connection{URL: "http://query:10902", BearerTokenFile: "/t"}}},
		}
	}
	t.Run("A listed name keeps its entry's keys; a new name inherits the single section without its credentials.", func(t *testing.T) {
		c := listed()
		if err := c.NameServers([]string{"global=http://other-query:10902", "us=http://prometheus-us:9090?x=1"}); err != nil {
			t.Fatal(err)
		}
		if len(c.Fleet) != 2 || c.Prometheus.URL != "" {
			t.Fatalf("fleet %+v, single URL %q", c.Fleet, c.Prometheus.URL)
		}
		if g := c.Fleet[0]; g.Name != "global" || g.Kind != "thanos" || g.URL != "http://other-query:10902" || g.BearerTokenFile != "/t" {
			t.Errorf("global = %+v", g)
		}
		if us := c.Fleet[1]; us.Name != "us" || us.URL != "http://prometheus-us:9090?x=1" || us.Timeout != 7*time.Second || us.BasicAuth.Username != "u" ||
			us.BearerToken != "" || us.BasicAuth.Password != "" {
			t.Errorf("us = %+v", us)
		}
	})
	t.Run("A plain URL among named ones, or a named URL that does not parse, is an error that quotes no credential.", func(t *testing.T) {
		for values, want := range map[[2]string]string{
			{"http://u:secret@p:9090", "b=http://b:9090"}: "--prometheus-url http://p:9090: with several servers each needs a name",
			{"a=http://a:9090", "b=ftp://u:secret@b"}:     "--prometheus-url b: ",
		} {
			c := listed()
			err := c.NameServers(values[:])
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%v: err %v, want %q…", values, err, want)
			}
		}
	})
}

func TestNamedURL(t *testing.T) {
	for _, c := range []struct {
		name, in, wantName, wantURL string
		named                       bool
	}{
		{"A name before '=' names the URL.", "eu=http://p:9090", "eu", "http://p:9090", true},
		{"A plain URL with '=' in its query is not named.", "http://p:9090/?a=b", "", "http://p:9090/?a=b", false},
		{"An empty name is no name.", "=http://p:9090", "", "=http://p:9090", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			name, u, ok := NamedURL(c.in)
			if name != c.wantName || u != c.wantURL || ok != c.named {
				t.Errorf("NamedURL(%q) = %q, %q, %v", c.in, name, u, ok)
			}
		})
	}
}

func TestSources(t *testing.T) {
	t.Run("Loki, Grafana and the Alertmanager become collector options with their settings.", func(t *testing.T) {
		c := Config{
			Loki:         Connection{URL: "http://loki:3100"},
			Grafana:      Connection{URL: "http://grafana:3000"},
			Alertmanager: Connection{Timeout: 3 * time.Second},
			Logs:         LogsConfig{Window: time.Hour, SampleLines: 50, MaxQueries: 9},
		}
		o, err := c.Sources(false)
		if err != nil {
			t.Fatal(err)
		}
		if o.Loki == nil || o.Loki.URL != "http://loki:3100" || o.LokiOptions.Window != time.Hour || o.LokiOptions.Limit != 50 || o.LokiOptions.MaxQueries != 9 {
			t.Errorf("Loki %+v %+v", o.Loki, o.LokiOptions)
		}
		if o.Grafana == nil || o.Grafana.URL != "http://grafana:3000" {
			t.Errorf("Grafana %+v", o.Grafana)
		}
		// With no URL, the settings are those the Alertmanager each Prometheus reports is read with.
		if o.Alertmanager == nil || o.Alertmanager.URL != "" || o.Alertmanager.Timeout != 3*time.Second {
			t.Errorf("Alertmanager %+v", o.Alertmanager)
		}
	})
	t.Run("A snapshot holds the dashboards: Grafana is not read from one, and its URL is no error.", func(t *testing.T) {
		o, err := Config{Grafana: Connection{URL: "http://grafana:3000"}}.Sources(true)
		if err != nil || o.Grafana != nil {
			t.Errorf("Grafana %+v, err %v", o.Grafana, err)
		}
	})
	t.Run("A snapshot with a Prometheus, a Loki or an Alertmanager URL, or a URL that does not parse, is an error naming the key.", func(t *testing.T) {
		for _, c := range []struct {
			cfg      Config
			snapshot bool
			want     string
		}{
			{Config{Loki: Connection{URL: "http://loki:3100"}}, true, "--from and a Loki URL are mutually exclusive"},
			{Config{Alertmanager: Connection{URL: "http://am:9093"}}, true, "--from and an Alertmanager URL are mutually exclusive"},
			{Config{Loki: Connection{URL: "loki:3100"}}, false, "loki.url: "},
			{Config{Grafana: Connection{URL: "grafana"}}, false, "grafana.url: "},
			{Config{Alertmanager: Connection{URL: "ftp://am"}}, false, "alertmanager.url: "},
			{Config{Prometheus: Connection{URL: "http://p:9090"}}, true, "--from and a Prometheus URL are mutually exclusive"},
			{Config{Prometheus: Connection{URL: "p:9090"}}, false, "prometheus.url: "},
		} {
			if _, err := c.cfg.Sources(c.snapshot); err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%+v: err %v, want %q…", c.cfg, err, c.want)
			}
		}
	})
}

func TestFoldSingleServer(t *testing.T) {
	t.Run("A list of one plain server becomes the single section, of the kind it names.", func(t *testing.T) {
		c := Config{Fleet: []ServerConfig{{Name: "only", Kind: "prometheus", Connection: Connection{URL: "http://p:9090"}}}}
		c.FoldSingleServer()
		if c.Prometheus.URL != "http://p:9090" || c.PrometheusKind != "prometheus" || c.Fleet != nil {
			t.Errorf("%+v", c)
		}
	})
	t.Run("Two servers stay a fleet.", func(t *testing.T) {
		c := Config{Fleet: []ServerConfig{{Name: "a", Connection: Connection{URL: "http://a"}}, {Name: "b", Connection: Connection{URL: "http://b"}}}}
		c.FoldSingleServer()
		if len(c.Fleet) != 2 || c.Prometheus.URL != "" {
			t.Errorf("%+v", c)
		}
	})
}

func TestPushgatewayOptions(t *testing.T) {
	c := Config{Pushgateway: Connection{URL: "http://pgw:9091", Timeout: 4 * time.Second}}
	t.Run("--pushgateway replaces the URL and keeps the section's settings.", func(t *testing.T) {
		o, err := c.PushgatewayOptions("http://other:9091")
		if err != nil || o.URL != "http://other:9091" || o.Timeout != 4*time.Second {
			t.Errorf("%+v, %v", o, err)
		}
	})
	t.Run("No Pushgateway is no error; a URL that does not parse names the key.", func(t *testing.T) {
		if o, err := (Config{}).PushgatewayOptions(""); err != nil || o.URL != "" {
			t.Errorf("%+v, %v", o, err)
		}
		if _, err := c.PushgatewayOptions("pgw"); err == nil || !strings.HasPrefix(err.Error(), "pushgateway.url: ") {
			t.Errorf("err %v", err)
		}
	})
}

func TestServersCarryAnEntrysAlertmanager(t *testing.T) {
	t.Run("The server of an entry naming its Alertmanager reads that one; the others read the one they report.", func(t *testing.T) {
		fleet, _, err := TakeFleet("f.yaml", []byte("prometheus:\n  - name: eu\n    url: http://p:9090\n    alertmanager:\n      url: http://am-us:9093\n      timeout: 5s\n  - name: us\n    url: http://q:9090\n"))
		if err != nil {
			t.Fatal(err)
		}
		servers, err := Config{Fleet: fleet}.Servers()
		if err != nil || len(servers) != 2 {
			t.Fatalf("servers %+v, err %v", servers, err)
		}
		if am := servers[0].Alertmanager; am == nil || am.URL != "http://am-us:9093" || am.Timeout != 5*time.Second {
			t.Errorf("eu's Alertmanager %+v", am)
		}
		if am := servers[1].Alertmanager; am != nil {
			t.Errorf("us's Alertmanager %+v, want none named", am)
		}
	})
	t.Run("A list of one entry naming its Alertmanager stays a fleet of one, which reads it.", func(t *testing.T) {
		c := Config{Fleet: []ServerConfig{{Name: "only", Connection: Connection{URL: "http://p:9090"}, Alertmanager: Connection{URL: "http://am:9093"}}}}
		c.FoldSingleServer()
		servers, err := c.Servers()
		if err != nil || len(servers) != 1 || servers[0].Alertmanager == nil || servers[0].Alertmanager.URL != "http://am:9093" {
			t.Errorf("servers %+v, err %v", servers, err)
		}
	})
}

func TestAllChecksAreEveryConfiguredCheckDisabledOnesIncluded(t *testing.T) {
	all, err := Config{Checks: ChecksConfig{Disabled: []string{"targets/down"}}}.AllChecks()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all, func(c checks.Check) bool { return c.Meta().ID == "targets/down" }) {
		t.Error("the disabled check targets/down is not among the checks")
	}
	if _, err := (Config{Checks: ChecksConfig{Disabled: []string{"no/such-check"}}}).AllChecks(); err == nil {
		t.Error("an unknown check disabled is no error")
	}
}

func TestDefaultTimeout(t *testing.T) {
	for _, c := range []struct {
		name      string
		set, want time.Duration
		err       string
	}{
		{"An unset timeout is the default.", 0, time.Minute, ""},
		{"A timeout that is set stays.", 5 * time.Second, 5 * time.Second, ""},
		{"A negative timeout is an error naming the key.", -time.Second, -time.Second, "timeout -1s: want a positive duration such as 2m"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Timeout: c.set}
			err := cfg.DefaultTimeout(time.Minute)
			if cfg.Timeout != c.want || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
				t.Errorf("timeout %s, err %v; want %s, %q", cfg.Timeout, err, c.want, c.err)
			}
		})
	}
}

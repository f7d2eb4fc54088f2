package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/internal/config"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

var exampleConfig = filepath.Join("..", "..", "config.example.yaml")

// cleanEnv hides any BLINDSPOT_* variable of the developer's shell from the test: viper treats
// an empty variable as unset.
func cleanEnv(t *testing.T) {
	t.Helper()
	leaves, _ := configKeys()
	for _, k := range leaves {
		t.Setenv(envName(k), "")
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blindspot.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// globalFlags builds the flags that override config keys, as the root command declares them.
func globalFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("blindspot", pflag.ContinueOnError)
	for _, name := range slices.Sorted(maps.Values(flagKeys)) {
		if name == "timeout" {
			fs.Duration(name, defaultRunTimeout, "")
			continue
		}
		fs.String(name, "", "")
	}
	return fs
}

func TestLoadConfig(t *testing.T) {
	t.Run("The example configuration loads with the values it documents.", func(t *testing.T) {
		cleanEnv(t)
		cfg, file, err := loadConfig(exampleConfig, true, globalFlags(), flagKeys)
		if err != nil {
			t.Fatal(err)
		}
		if file != exampleConfig {
			t.Errorf("file = %q, want %q", file, exampleConfig)
		}
		p := cfg.Prometheus
		if p.URL != "http://localhost:9090" || p.Timeout != 30*time.Second || p.TLS.InsecureSkipVerify || p.BearerToken != "" {
			t.Errorf("prometheus = %+v", p)
		}
		// viper lowercases map keys; HTTP header names are case-insensitive, so this is harmless.
		if want := map[string]string{"x-scope-orgid": "team-a"}; !maps.Equal(p.Headers, want) {
			t.Errorf("prometheus.headers = %v, want %v", p.Headers, want)
		}
		for name, s := range map[string]config.Connection{"loki": cfg.Loki, "grafana": cfg.Grafana} {
			if s.URL != "" || s.Timeout != 30*time.Second || len(s.Headers) != 0 {
				t.Errorf("%s = %+v", name, s)
			}
		}
	})

	t.Run("An empty file, or one with only comments, configures nothing and is no error.", func(t *testing.T) {
		cleanEnv(t)
		for _, body := range []string{"", "# nothing yet\n", "\n\n"} {
			path := writeConfig(t, body)
			cfg, file, err := loadConfig(path, true, nil, nil)
			if err != nil {
				t.Errorf("%q: %v", body, err)
				continue
			}
			if file != path || cfg.Prometheus.URL != "" || cfg.Prometheus.Timeout != 0 {
				t.Errorf("%q: file %q, config %+v", body, file, cfg)
			}
		}
	})

	t.Run("An explicit file that does not exist is an error; a missing default file is not.", func(t *testing.T) {
		cleanEnv(t)
		missing := filepath.Join(t.TempDir(), "nope.yaml")
		if _, _, err := loadConfig(missing, true, nil, nil); err == nil || err.Error() != "config file "+missing+" does not exist" {
			t.Errorf("explicit: err = %v", err)
		}
		_, file, err := loadConfig(missing, false, nil, nil)
		if err != nil || file != "" {
			t.Errorf("default: file %q, err %v", file, err)
		}
	})

	t.Run("The environment overrides the file.", func(t *testing.T) {
		cleanEnv(t)
		path := writeConfig(t, "prometheus:\n  url: http://file:9090\n  timeout: 5s\n  tls:\n    insecure_skip_verify: false\n")
		t.Setenv("BLINDSPOT_PROMETHEUS_URL", "http://env:9090")
		t.Setenv("BLINDSPOT_PROMETHEUS_TLS_INSECURE_SKIP_VERIFY", "true")
		cfg, _, err := loadConfig(path, true, globalFlags(), flagKeys)
		if err != nil {
			t.Fatal(err)
		}
		p := cfg.Prometheus
		if p.URL != "http://env:9090" || !p.TLS.InsecureSkipVerify || p.Timeout != 5*time.Second {
			t.Errorf("prometheus = %+v", p)
		}
	})

	t.Run("Credentials are read from the environment, without any file.", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("BLINDSPOT_PROMETHEUS_BEARER_TOKEN", "s3cr3t")
		t.Setenv("BLINDSPOT_LOKI_BASIC_AUTH_PASSWORD", "pa55")
		cfg, file, err := loadConfig(filepath.Join(t.TempDir(), defaultConfigFile), false, nil, nil)
		if err != nil || file != "" {
			t.Fatalf("file %q, err %v", file, err)
		}
		if cfg.Prometheus.BearerToken != "s3cr3t" || cfg.Loki.BasicAuth.Password != "pa55" {
			t.Errorf("prometheus = %+v, loki = %+v", cfg.Prometheus, cfg.Loki)
		}
	})

	t.Run("A flag that was set beats the environment; one that was not leaves it alone.", func(t *testing.T) {
		cleanEnv(t)
		path := writeConfig(t, "prometheus:\n  url: http://file:9090\nloki:\n  url: http://loki-file:3100\n")
		t.Setenv("BLINDSPOT_PROMETHEUS_URL", "http://env:9090")
		t.Setenv("BLINDSPOT_LOKI_URL", "http://loki-env:3100")
		flags := globalFlags()
		if err := flags.Set("prometheus-url", "http://flag:9090"); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := loadConfig(path, true, flags, flagKeys)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Prometheus.URL != "http://flag:9090" {
			t.Errorf("prometheus.url = %q, want the flag's", cfg.Prometheus.URL)
		}
		if cfg.Loki.URL != "http://loki-env:3100" {
			t.Errorf("loki.url = %q, want the environment's", cfg.Loki.URL)
		}
	})

	t.Run("A bad value is one error line naming the file and the key.", func(t *testing.T) {
		cleanEnv(t)
		path := writeConfig(t, "prometheus:\n  timeout: soon\n")
		_, _, err := loadConfig(path, true, nil, nil)
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("A scalar where a section is expected is an error naming the file, the line and the key.", func(t *testing.T) {
		cleanEnv(t)
		for body, want := range map[string]string{
			"prometheus: http://localhost:9090\n": ":1: prometheus must be a section",
			"prometheus:\n  tls: true\n":          ":2: prometheus.tls must be a section",
		} {
			path := writeConfig(t, body)
			_, _, err := loadConfig(path, true, nil, nil)
			if err == nil || !strings.HasPrefix(err.Error(), path+want) {
				t.Errorf("%q: err = %v, want %s%s…", body, err, path, want)
			}
		}
	})
}

func TestCheckKeys(t *testing.T) {
	check := func(body string) error { return config.CheckKeys("blindspot.yaml", []byte(body)) }

	t.Run("Unknown keys are errors naming the file, the line and the full key.", func(t *testing.T) {
		for body, want := range map[string]string{
			"prometeus:\n  url: http://localhost:9090\n":                   `blindspot.yaml:1: unknown key "prometeus"`,
			"prometheus:\n  url: http://localhost:9090\n  urll: x\n":       `blindspot.yaml:3: unknown key "prometheus.urll"`,
			"prometheus:\n  tls:\n    ca_file: a.pem\n    ca_fil: b.pem\n": `blindspot.yaml:4: unknown key "prometheus.tls.ca_fil"`,
			"grafana:\n  basic_auth:\n    user: admin\n":                   `blindspot.yaml:3: unknown key "grafana.basic_auth.user"`,
		} {
			if err := check(body); err == nil || err.Error() != want {
				t.Errorf("%q: err = %v, want %s", body, err, want)
			}
		}
	})

	t.Run("A section where a single value is expected is an error with its line.", func(t *testing.T) {
		for body, want := range map[string]string{
			"prometheus:\n  url:\n    host: localhost\n": "blindspot.yaml:2: prometheus.url must be a single value",
			"loki:\n  timeout: [1s, 2s]\n":               "blindspot.yaml:2: loki.timeout must be a single value",
		} {
			if err := check(body); err == nil || err.Error() != want {
				t.Errorf("%q: err = %v, want %s", body, err, want)
			}
		}
	})

	t.Run("A file that is not a mapping of sections is an error with its line.", func(t *testing.T) {
		if err := check("- prometheus\n"); err == nil || err.Error() != "blindspot.yaml:1: the configuration must be a mapping of sections" {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("Invalid YAML is one error line naming the file.", func(t *testing.T) {
		err := check("prometheus:\n  url: [\n")
		if err == nil || !strings.HasPrefix(err.Error(), "blindspot.yaml: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("Credentials in the file are rejected, pointing to the file key or the environment, without echoing them.", func(t *testing.T) {
		for body, want := range map[string]string{
			"prometheus:\n  url: http://localhost:9090\n  bearer_token: hunter2\n": "blindspot.yaml:3: prometheus.bearer_token: credentials are not read from the config file; use bearer_token_file or the environment variable BLINDSPOT_PROMETHEUS_BEARER_TOKEN",
			"loki:\n  basic_auth:\n    username: u\n    password: hunter2\n":       "blindspot.yaml:4: loki.basic_auth.password: credentials are not read from the config file; use basic_auth.password_file or the environment variable BLINDSPOT_LOKI_BASIC_AUTH_PASSWORD",
		} {
			err := check(body)
			if err == nil || err.Error() != want {
				t.Errorf("%q: err = %v, want %s", body, err, want)
			}
		}
	})

	t.Run("Header names are free-form, and an empty section is fine.", func(t *testing.T) {
		if err := check("prometheus:\n  headers:\n    X-Anything-At-All: x\n    x-lower: y\nloki:\ngrafana: {}\n"); err != nil {
			t.Error(err)
		}
	})

	t.Run("An empty file has no unknown keys.", func(t *testing.T) {
		if err := check(""); err != nil {
			t.Error(err)
		}
	})
}

func TestConfigKeys(t *testing.T) {
	leaves, mapKeys := configKeys()
	known := append(slices.Clone(leaves), mapKeys...)

	data, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	var example []string
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := prefix+n.Content[i].Value, n.Content[i+1]
			if val.Kind == yaml.MappingNode && !slices.Contains(mapKeys, key) {
				walk(key+".", val)
				continue
			}
			example = append(example, key)
		}
	}
	walk("", root.Content[0])

	t.Run("Every key of config.example.yaml is a key of the schema.", func(t *testing.T) {
		for _, k := range example {
			if !slices.Contains(known, k) {
				t.Errorf("config.example.yaml has %s, which the schema does not know", k)
			}
		}
	})

	t.Run("Every key of the schema is documented in config.example.yaml, credentials in its comments.", func(t *testing.T) {
		for _, k := range known {
			section := strings.SplitN(k, ".", 2)
			if len(section) == 2 && slices.Contains(config.SecretKeys, section[1]) {
				if !strings.Contains(string(data), "BLINDSPOT_<SECTION>_"+strings.ToUpper(strings.ReplaceAll(section[1], ".", "_"))) {
					t.Errorf("config.example.yaml does not say where %s comes from", k)
				}
				continue
			}
			if !slices.Contains(example, k) {
				t.Errorf("%s is not in config.example.yaml", k)
			}
		}
	})

	t.Run("Every credential key is a key of every section.", func(t *testing.T) {
		for _, section := range []string{"prometheus", "loki", "grafana"} {
			for _, s := range config.SecretKeys {
				if !slices.Contains(leaves, section+"."+s) {
					t.Errorf("secret key %s.%s is not in the schema", section, s)
				}
			}
		}
	})

	t.Run("Environment variable names follow the key path.", func(t *testing.T) {
		if got := envName("prometheus.tls.insecure_skip_verify"); got != "BLINDSPOT_PROMETHEUS_TLS_INSECURE_SKIP_VERIFY" {
			t.Errorf("envName = %s", got)
		}
	})
}

// configKeys and envName are the configuration's keys and their environment variables, as
// the stories and tests of this package name them.
func configKeys() (leaves, maps []string) { return config.Keys() }
func envName(key string) string           { return config.EnvName(key) }

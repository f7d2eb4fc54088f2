package promconfig

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"
)

const clearSecrets = `global:
  scrape_interval: 15s
scrape_configs:
  - job_name: api
    basic_auth:
      username: scraper
      password: clearBasicPw1
    tls_config:
      key: clearTlsKey2
      cert_file: /etc/cert.pem
    static_configs:
      - targets: [api:8080]
  - job_name: bearer
    bearer_token: clearBearer3
    oauth2:
      client_id: blindspot
      client_secret: clearOauth4
    http_headers:
      X-Api:
        secrets: [clearHeader5]
        values: [visible]
    proxy_connect_header:
      Proxy-Authorization: [clearProxy6]
    ec2_sd_configs:
      - region: eu-west-1
        access_key: AKIAEXAMPLE
        secret_key: clearEc2Key7
  - job_name: redacted
    authorization:
      credentials: <secret>
remote_write:
  - url: http://remote/api/v1/write
    authorization:
      type: Bearer
      credentials: clearRemote8
    sigv4:
      secret_key: clearSigv49
`

func TestRedactYAMLReplacesEveryClearSecret(t *testing.T) {
	got, changed, err := RedactYAML([]byte(clearSecrets))
	if err != nil || !changed {
		t.Fatalf("RedactYAML: changed %v, err %v", changed, err)
	}
	text := string(got)
	for _, s := range []string{"clearBasicPw1", "clearTlsKey2", "clearBearer3", "clearOauth4", "clearHeader5", "clearProxy6", "clearEc2Key7", "clearRemote8", "clearSigv49"} {
		if strings.Contains(text, s) {
			t.Errorf("%s is still in the configuration:\n%s", s, text)
		}
	}
	for _, kept := range []string{"username: scraper", "cert_file: /etc/cert.pem", "access_key: AKIAEXAMPLE", "client_id: blindspot", "visible", "job_name: api", "type: Bearer"} {
		if !strings.Contains(text, kept) {
			t.Errorf("%q is gone:\n%s", kept, text)
		}
	}
	// What blindspot reads from the configuration survives.
	cfg, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jobs) != 3 {
		t.Errorf("jobs after redaction: %+v", cfg.Jobs)
	}
}

func TestRedactYAMLLeavesAnAlreadyRedactedConfigurationAsItIs(t *testing.T) {
	in := "scrape_configs:\n- job_name: a\n  basic_auth:\n    username: u\n    password: <secret>\n"
	got, changed, err := RedactYAML([]byte(in))
	if err != nil || changed || string(got) != in {
		t.Errorf("RedactYAML = %q, %v, %v; want the input unchanged", got, changed, err)
	}
}

func TestRedactAnswerRedactsTheYAMLOfAStatusConfigAnswer(t *testing.T) {
	body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]string{"yaml": clearSecrets}})
	got := RedactAnswer(body)
	if strings.Contains(string(got), "clearBearer3") {
		t.Fatalf("answer keeps the token: %s", got)
	}
	cfg, err := Parse(got)
	if err != nil || len(cfg.Jobs) != 3 {
		t.Errorf("the redacted answer no longer parses: %v %+v", err, cfg.Jobs)
	}
	if notConfig := []byte(`{"status":"error","error":"x"}`); string(RedactAnswer(notConfig)) != string(notConfig) {
		t.Errorf("an error answer was changed")
	}
}

// Every field of type config.Secret (or a list or map of them) in the HTTP client settings
// that every scrape config, discovery and remote storage of Prometheus embeds is named in
// secretKeys. The other keys (discoveries' and SigV4's) come from reading Prometheus's
// sources (v0.316): its config package is not a dependency of blindspot.
func TestSecretKeysCoverPrometheusConfig(t *testing.T) {
	secretType := reflect.TypeOf(commoncfg.Secret(""))
	seen := map[reflect.Type]bool{}
	var missing []string
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Array || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			inner := f.Type
			for inner.Kind() == reflect.Pointer || inner.Kind() == reflect.Slice || inner.Kind() == reflect.Map {
				inner = inner.Elem()
			}
			if inner == secretType && name != "" && name != "-" && !slices.Contains(secretKeys, name) {
				missing = append(missing, path+"."+name)
			}
			walk(f.Type, path+"."+name)
		}
	}
	walk(reflect.TypeOf(commoncfg.HTTPClientConfig{}), "http_client_config")
	if len(missing) > 0 {
		t.Errorf("secret fields missing from secretKeys: %v", missing)
	}
	if len(seen) < 5 {
		t.Errorf("walked only %d types: the walk is broken", len(seen))
	}
}

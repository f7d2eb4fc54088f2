package config

import (
	"strings"
	"testing"
)

func TestServerAlertmanager(t *testing.T) {
	t.Run("An entry of the list names its server's own Alertmanager with the keys of a source.", func(t *testing.T) {
		fleet, _, err := TakeFleet("f.yaml", []byte("prometheus:\n  - name: eu\n    url: http://p:9090\n    alertmanager:\n      url: http://am:9093\n      bearer_token_file: /t\n  - name: us\n    url: http://q:9090\n"))
		if err != nil {
			t.Fatal(err)
		}
		eu, us := fleet[0].source(), fleet[1].source()
		if eu.Alertmanager == nil || eu.Alertmanager.URL != "http://am:9093" || eu.Alertmanager.BearerTokenFile != "/t" {
			t.Errorf("eu's Alertmanager %+v", eu.Alertmanager)
		}
		if us.Alertmanager != nil {
			t.Errorf("us names no Alertmanager, got %+v: the reported one is read", us.Alertmanager)
		}
		if _, single := (Config{Fleet: fleet[:1]}).SingleFleetSource(); single {
			t.Error("a list of one entry naming its Alertmanager was folded into the single section, which would lose it")
		}
	})
	t.Run("Credentials and unknown keys in an entry's Alertmanager are errors naming the key and its line.", func(t *testing.T) {
		for body, want := range map[string]string{
			"prometheus:\n  - name: eu\n    alertmanager:\n      bearer_token: x\n":                  `f.yaml:4: prometheus[0].alertmanager.bearer_token: credentials are not read from the config file`,
			"prometheus:\n  - name: eu\n    alertmanager:\n      basic_auth:\n        password: x\n": `f.yaml:5: prometheus[0].alertmanager.basic_auth.password: credentials are not read`,
			"prometheus:\n  - name: eu\n    alertmanager:\n      urll: http://am\n":                  `f.yaml:4: unknown key "prometheus[0].alertmanager.urll"`,
		} {
			_, _, err := TakeFleet("f.yaml", []byte(body))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: error %v, want %q", body, err, want)
			}
		}
	})
}

package config

import (
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
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

func TestHistorySection(t *testing.T) {
	t.Run("The history section is part of the schema: its keys are known and can come from BLINDSPOT_HISTORY_*.", func(t *testing.T) {
		leaves, _ := Keys()
		for _, key := range []string{"history.lookback", "history.min_flat", "history.enabled"} {
			found := false
			for _, l := range leaves {
				found = found || l == key
			}
			if !found {
				t.Errorf("%s is not a key of the schema (%v)", key, leaves)
			}
		}
		if got := EnvName("history.min_flat"); got != "BLINDSPOT_HISTORY_MIN_FLAT" {
			t.Errorf("EnvName = %s", got)
		}
		if got := EnvName("history.lookback"); got != "BLINDSPOT_HISTORY_LOOKBACK" {
			t.Errorf("EnvName = %s", got)
		}
		if got := EnvName("history.enabled"); got != "BLINDSPOT_HISTORY_ENABLED" {
			t.Errorf("EnvName = %s", got)
		}
	})
	t.Run("Unknown keys and values of the wrong shape under history are errors naming the key and its line.", func(t *testing.T) {
		for body, want := range map[string]string{
			"history:\n  lookbak: 7d\n":        `f.yaml:2: unknown key "history.lookbak"`,
			"history:\n  lookback: [1h, 2h]\n": `f.yaml:2: history.lookback`,
			"history:\n  enabled: [no]\n":      `f.yaml:2: history.enabled`,
		} {
			err := CheckKeys("f.yaml", []byte(body))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: error %v, want %q", body, err, want)
			}
		}
		if err := CheckKeys("f.yaml", []byte("history:\n  lookback: 48h\n  min_flat: 2h\n  enabled: false\n")); err != nil {
			t.Errorf("a valid history section: %v", err)
		}
	})
	t.Run("The history is read by default over seven days, and not when history.enabled is false; the lookback and min_flat reach the collector and the checks; negative durations are refused.", func(t *testing.T) {
		yes, no := true, false
		for _, c := range []Config{{}, {History: HistoryConfig{MinFlat: time.Hour}}, {History: HistoryConfig{Enabled: &yes}}} {
			ho, err := c.HistoryOptions()
			if err != nil || ho == nil || ho.Lookback != prometheus.DefaultLookback || prometheus.DefaultLookback != 7*24*time.Hour {
				t.Errorf("%+v: HistoryOptions() = %+v, %v; want a lookback of 7d", c.History, ho, err)
			}
		}
		if ho, err := (Config{History: HistoryConfig{Enabled: &no, Lookback: 48 * time.Hour}}).HistoryOptions(); ho != nil || err != nil {
			t.Errorf("history.enabled false: HistoryOptions() = %+v, %v; want none", ho, err)
		}
		c := Config{History: HistoryConfig{Lookback: 48 * time.Hour, MinFlat: 2 * time.Hour}}
		if ho, err := c.HistoryOptions(); err != nil || ho.Lookback != 48*time.Hour {
			t.Errorf("HistoryOptions() = %+v, %v", ho, err)
		}
		o, err := c.checkOptions()
		if err != nil || o.History.MinFlat != 2*time.Hour {
			t.Errorf("checkOptions().History = %+v, %v", o.History, err)
		}
		for _, c := range []Config{{History: HistoryConfig{Lookback: -time.Hour}}, {History: HistoryConfig{MinFlat: -time.Hour}}} {
			if _, err := c.HistoryOptions(); err == nil {
				t.Errorf("%+v: no error", c.History)
			}
		}
	})
}

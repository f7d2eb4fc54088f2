package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/checks"
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
		for _, key := range []string{"history.lookback", "history.min_flat", "history.vanished_target_share", "history.enabled"} {
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
		if got := EnvName("history.vanished_target_share"); got != "BLINDSPOT_HISTORY_VANISHED_TARGET_SHARE" {
			t.Errorf("EnvName = %s", got)
		}
	})
	t.Run("history.vanished_target_share reaches jobs/vanished, defaults to a half, and a share outside 0 to 1 is refused.", func(t *testing.T) {
		c := Config{History: HistoryConfig{VanishedTargetShare: 0.8}}
		if _, err := c.HistoryOptions(); err != nil {
			t.Errorf("HistoryOptions() = %v", err)
		}
		if o, err := c.checkOptions(); err != nil || o.History.VanishedTargetShare != 0.8 {
			t.Errorf("checkOptions().History = %+v, %v", o.History, err)
		}
		if checks.DefaultVanishedTargetShare != 0.5 {
			t.Errorf("default share %g, want 0.5", checks.DefaultVanishedTargetShare)
		}
		for _, share := range []float64{-0.1, 1.5} {
			_, err := Config{History: HistoryConfig{VanishedTargetShare: share}}.HistoryOptions()
			if err == nil || !strings.Contains(err.Error(), "history.vanished_target_share") {
				t.Errorf("share %g: error %v", share, err)
			}
		}
		if err := CheckKeys("f.yaml", []byte("history:\n  vanished_target_share: 0.25\n")); err != nil {
			t.Errorf("a valid share: %v", err)
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
	t.Run("history.flap_episodes is a key of the schema, from the file or BLINDSPOT_HISTORY_FLAP_EPISODES; it reaches alerts/flapping, and a negative count is refused.", func(t *testing.T) {
		leaves, _ := Keys()
		if !slices.Contains(leaves, "history.flap_episodes") || EnvName("history.flap_episodes") != "BLINDSPOT_HISTORY_FLAP_EPISODES" {
			t.Errorf("keys %v", leaves)
		}
		if err := CheckKeys("f.yaml", []byte("history:\n  flap_episodes: 10\n")); err != nil {
			t.Errorf("a valid history section: %v", err)
		}
		c := Config{History: HistoryConfig{FlapEpisodes: 10}}
		if ho, err := c.HistoryOptions(); err != nil || ho == nil {
			t.Errorf("HistoryOptions() = %+v, %v; want the history read", ho, err)
		}
		if o, err := c.checkOptions(); err != nil || o.History.FlapEpisodes != 10 {
			t.Errorf("checkOptions().History = %+v, %v", o.History, err)
		}
		if _, err := (Config{History: HistoryConfig{FlapEpisodes: -1}}).HistoryOptions(); err == nil || err.Error() != "history.flap_episodes -1: want a positive number" {
			t.Errorf("a negative count: %v", err)
		}
	})
}

func TestKubernetesNamespacesBecomeTheChecksScope(t *testing.T) {
	t.Run("The namespace globs reach the checks' options.", func(t *testing.T) {
		o, err := Config{Kubernetes: KubernetesConfig{Namespaces: KubernetesNamespaces{Include: []string{"team-*"}, Exclude: []string{"team-sandbox"}}}}.checkOptions()
		if err != nil || !slices.Equal(o.Kubernetes.Include, []string{"team-*"}) || !slices.Equal(o.Kubernetes.Exclude, []string{"team-sandbox"}) {
			t.Errorf("checkOptions().Kubernetes = %+v, %v", o.Kubernetes, err)
		}
	})
	t.Run("An invalid glob is an error naming its key.", func(t *testing.T) {
		_, err := Config{Kubernetes: KubernetesConfig{Namespaces: KubernetesNamespaces{Exclude: []string{"["}}}}.checkOptions()
		if err == nil || !strings.Contains(err.Error(), "kubernetes.namespaces.exclude") {
			t.Errorf("err = %v", err)
		}
	})
}

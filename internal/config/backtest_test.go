package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/generate"
)

func TestMaxBacktestEpisodes(t *testing.T) {
	t.Run("generate.max_backtest_episodes is a key of the schema and can come from BLINDSPOT_GENERATE_MAX_BACKTEST_EPISODES.", func(t *testing.T) {
		leaves, _ := Keys()
		if !slices.Contains(leaves, "generate.max_backtest_episodes") {
			t.Errorf("generate.max_backtest_episodes is not a key of the schema (%v)", leaves)
		}
		if got := EnvName("generate.max_backtest_episodes"); got != "BLINDSPOT_GENERATE_MAX_BACKTEST_EPISODES" {
			t.Errorf("EnvName = %s", got)
		}
		if err := CheckKeys("f.yaml", []byte("generate:\n  max_backtest_episodes: 3\n")); err != nil {
			t.Errorf("a valid key: %v", err)
		}
		if err := CheckKeys("f.yaml", []byte("generate:\n  max_backtest_episodes: [3]\n")); err == nil || !strings.Contains(err.Error(), "f.yaml:2: generate.max_backtest_episodes") {
			t.Errorf("a list: error %v", err)
		}
	})
	t.Run("The key reaches the generate options, unset it takes the default, and a negative number is refused.", func(t *testing.T) {
		o, err := Config{Generate: GenerateConfig{MaxBacktestEpisodes: 3}}.GenerateOptions("")
		if err != nil || o.MaxBacktestEpisodes != 3 {
			t.Errorf("GenerateOptions = %d, %v; want 3", o.MaxBacktestEpisodes, err)
		}
		o, err = Config{}.GenerateOptions("")
		if err != nil || generate.DefaultOptions(o).MaxBacktestEpisodes != generate.DefaultMaxBacktestEpisodes || generate.DefaultMaxBacktestEpisodes != 7 {
			t.Errorf("unset: %d, %v; want the default of 7", generate.DefaultOptions(o).MaxBacktestEpisodes, err)
		}
		_, err = Config{Generate: GenerateConfig{MaxBacktestEpisodes: -1}}.GenerateOptions("")
		if err == nil || !strings.Contains(err.Error(), "generate.max_backtest_episodes: -1") {
			t.Errorf("a negative number: error %v", err)
		}
	})
}

package config

import (
	"testing"
	"time"
)

func TestServeInterval(t *testing.T) {
	t.Run("serve.interval unset is the default of 10m; set, it is used; negative, it is refused.", func(t *testing.T) {
		if d, err := (Config{}).ServeInterval(); err != nil || d != 10*time.Minute {
			t.Errorf("unset: %s, %v", d, err)
		}
		if d, err := (Config{Serve: ServeConfig{Interval: time.Minute}}).ServeInterval(); err != nil || d != time.Minute {
			t.Errorf("1m: %s, %v", d, err)
		}
		if _, err := (Config{Serve: ServeConfig{Interval: -time.Minute}}).ServeInterval(); err == nil {
			t.Error("-1m: no error")
		}
	})
}

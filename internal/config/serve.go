package config

import (
	"fmt"
	"time"
)

// ServeConfig configures `blindspot serve`.
type ServeConfig struct {
	// Interval is the time between two audits (0: DefaultServeInterval).
	Interval time.Duration `mapstructure:"interval"`
}

// DefaultServeInterval is serve's interval when serve.interval is not set.
const DefaultServeInterval = 10 * time.Minute

// ServeInterval returns the interval between two audits of serve.
func (c Config) ServeInterval() (time.Duration, error) {
	switch {
	case c.Serve.Interval < 0:
		return 0, fmt.Errorf("serve.interval %s: want a positive duration such as 10m", c.Serve.Interval)
	case c.Serve.Interval == 0:
		return DefaultServeInterval, nil
	}
	return c.Serve.Interval, nil
}

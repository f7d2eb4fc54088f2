package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/blindspot-dev/blindspot/internal/config"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

// defaultConfigFile is read when present and --config is not given.
const defaultConfigFile = "blindspot.yaml"

// loadConfig reads the configuration: the file (explicit, or ./blindspot.yaml when present),
// then BLINDSPOT_* environment variables, then the flags that were set, each overriding the
// one before. It returns the file actually read ("" for none).
func loadConfig(path string, explicit bool, flags *pflag.FlagSet, flagKeys map[string]string) (config.Config, string, error) {
	var cfg config.Config
	v := viper.New()
	v.SetConfigType("yaml")
	leaves, _ := config.Keys()
	for _, k := range leaves {
		v.SetDefault(k, nil)
	}
	v.SetEnvPrefix(config.EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	data, err := fsutil.ReadFile(path, fsutil.MaxInputFile)
	var fleet []config.ServerConfig
	switch {
	case err == nil:
		if fleet, data, err = config.TakeFleet(path, data); err != nil {
			return cfg, path, err
		}
		if err := config.CheckKeys(path, data); err != nil {
			return cfg, path, err
		}
		if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
			return cfg, path, fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		path = ""
	case errors.Is(err, fs.ErrNotExist):
		return cfg, path, fmt.Errorf("config file %s does not exist", path)
	default:
		return cfg, path, fmt.Errorf("reading config file %s: %w", path, err)
	}

	for key, flag := range flagKeys {
		if err := v.BindPFlag(key, flags.Lookup(flag)); err != nil {
			return cfg, path, fmt.Errorf("binding --%s: %w", flag, err)
		}
	}
	decode := viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToTimeHookFunc(time.DateOnly),
		mapstructure.StringToSliceHookFunc(","),
	))
	if err := v.Unmarshal(&cfg, decode); err != nil {
		where := "configuration"
		if path != "" {
			where = path
		}
		return cfg, path, fmt.Errorf("%s: %s", where, config.OneLine(err.Error()))
	}
	cfg.Fleet = fleet
	return cfg, path, nil
}

// prometheusURLs is --prometheus-url: a URL, or repeated name=URL for a fleet. As a viper
// flag it reads as the single URL (empty for a fleet, which then overrides prometheus.url).
type prometheusURLs struct{ values []string }

func (p *prometheusURLs) String() string {
	if len(p.values) == 1 {
		if _, _, named := config.NamedURL(p.values[0]); !named {
			return p.values[0]
		}
	}
	return ""
}

func (p *prometheusURLs) Set(v string) error { p.values = append(p.values, v); return nil }
func (p *prometheusURLs) Type() string       { return "[name=]url" }

// named reports whether the flag names a fleet: several values, or one name=URL.
func (p *prometheusURLs) named() bool { return len(p.values) > 0 && p.String() == "" }

// applyFleetFlags replaces the fleet of the configuration by the sources named with
// --prometheus-url name=URL (config.NameServers).
func applyFleetFlags(c *config.Config, p *prometheusURLs) error {
	if !p.named() {
		return nil
	}
	return c.NameServers(p.values)
}

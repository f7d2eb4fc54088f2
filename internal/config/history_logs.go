package config

import (
	"cmp"
	"fmt"

	"github.com/blindspot-dev/blindspot/analyze/collect/links"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
)

// LogHistoryOptions converts the history section to the Loki log history reader's options:
// nil when the history is not read (HistoryOptions), with the same lookback otherwise. An
// error names a key whose value cannot be used.
func (c Config) LogHistoryOptions() (*loki.HistoryOptions, error) {
	if c.History.LogSilence < 0 {
		return nil, fmt.Errorf("history.log_silence %s: want a positive duration", c.History.LogSilence)
	}
	ho, err := c.HistoryOptions()
	if ho == nil || err != nil {
		return nil, err
	}
	return &loki.HistoryOptions{Lookback: ho.Lookback, Silence: cmp.Or(c.History.LogSilence, loki.DefaultLogSilence)}, nil
}

// RunbookLinkOptions are how the runbook links of the alerting rules are fetched: nil when
// checks.runbook_links is false. Relative links resolve against generate.runbook_base_url.
func (c Config) RunbookLinkOptions() *links.Options {
	if c.Checks.RunbookLinks != nil && !*c.Checks.RunbookLinks {
		return nil
	}
	return &links.Options{Annotation: c.Checks.RunbookAnnotation, BaseURL: c.Generate.RunbookBaseURL}
}

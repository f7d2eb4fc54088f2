package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLogHistoryAndRunbookLinkKeys(t *testing.T) {
	t.Run("history.log_silence and checks.runbook_links are keys of the schema, from BLINDSPOT_* too.", func(t *testing.T) {
		leaves, _ := Keys()
		for _, key := range []string{"history.log_silence", "checks.runbook_links"} {
			if !slices.Contains(leaves, key) {
				t.Errorf("%s is not a key of the schema", key)
			}
		}
		if got := EnvName("checks.runbook_links"); got != "BLINDSPOT_CHECKS_RUNBOOK_LINKS" {
			t.Errorf("EnvName = %s", got)
		}
		if err := CheckKeys("f.yaml", []byte("history:\n  log_silence: 2h\nchecks:\n  runbook_links: false\n")); err != nil {
			t.Errorf("valid keys: %v", err)
		}
		if err := CheckKeys("f.yaml", []byte("checks:\n  runbook_links: [a]\n")); err == nil || !strings.Contains(err.Error(), "checks.runbook_links") {
			t.Errorf("a list for a boolean: %v", err)
		}
	})
	t.Run("The log history is read when the history is (by default, not with history.enabled false), with its lookback and a silence of an hour by default; a negative silence is refused.", func(t *testing.T) {
		if ho, err := (Config{}).LogHistoryOptions(); err != nil || ho == nil || ho.Lookback != 7*24*time.Hour || ho.Silence != time.Hour {
			t.Errorf("LogHistoryOptions() = %+v, %v; want a week with an hour's silence", ho, err)
		}
		off := false
		if ho, err := (Config{History: HistoryConfig{Enabled: &off}}).LogHistoryOptions(); ho != nil || err != nil {
			t.Errorf("LogHistoryOptions() with history.enabled false = %+v, %v; want none", ho, err)
		}
		ho, err := Config{History: HistoryConfig{Lookback: 48 * time.Hour}}.LogHistoryOptions()
		if err != nil || ho.Lookback != 48*time.Hour || ho.Silence != time.Hour {
			t.Errorf("LogHistoryOptions() = %+v, %v", ho, err)
		}
		ho, err = Config{History: HistoryConfig{LogSilence: 3 * time.Hour}}.LogHistoryOptions()
		if err != nil || ho.Lookback != 7*24*time.Hour || ho.Silence != 3*time.Hour {
			t.Errorf("LogHistoryOptions() = %+v, %v", ho, err)
		}
		if _, err := (Config{History: HistoryConfig{LogSilence: -time.Hour}}).LogHistoryOptions(); err == nil || !strings.Contains(err.Error(), "history.log_silence") {
			t.Errorf("a negative silence: %v", err)
		}
		o, err := Config{Loki: Connection{URL: "http://loki:3100"}, History: HistoryConfig{LogSilence: 2 * time.Hour}}.Sources(false)
		if err != nil || o.LokiHistory == nil || o.LokiHistory.Silence != 2*time.Hour {
			t.Errorf("Sources() = %+v, %v; want the Loki's history read", o.LokiHistory, err)
		}
	})
	t.Run("Runbook links are fetched unless checks.runbook_links is false, never for a snapshot, relative ones against generate.runbook_base_url.", func(t *testing.T) {
		off := false
		c := Config{Generate: GenerateConfig{RunbookBaseURL: "https://wiki.example/"}, Checks: ChecksConfig{RunbookAnnotation: "playbook"}}
		o, err := c.Sources(false)
		if err != nil || o.RunbookLinks == nil || o.RunbookLinks.BaseURL != "https://wiki.example/" || o.RunbookLinks.Annotation != "playbook" {
			t.Errorf("Sources(false).RunbookLinks = %+v, %v", o.RunbookLinks, err)
		}
		if o, err := c.Sources(true); err != nil || o.RunbookLinks != nil {
			t.Errorf("Sources(true).RunbookLinks = %+v, %v; want none", o.RunbookLinks, err)
		}
		c.Checks.RunbookLinks = &off
		if o, err := c.Sources(false); err != nil || o.RunbookLinks != nil {
			t.Errorf("runbook_links: false: %+v, %v; want none", o.RunbookLinks, err)
		}
	})
}

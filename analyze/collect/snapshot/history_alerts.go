package snapshot

import (
	"fmt"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

// HistoryAlerts is what the history read of ALERTS (analyze.AlertsHistory); absent from files
// written before it was read, which then say nothing of which alerts fired.
type HistoryAlerts struct {
	// ServerStart is absent when the server did not say when it started.
	ServerStart time.Time          `json:"server_start,omitzero"`
	Groups      []HistoryRuleGroup `json:"groups"`
	Alerts      []HistoryAlert     `json:"alerts"`
}

// HistoryRuleGroup is a rule group the server's own metrics showed (analyze.RuleGroupHistory);
// Since is absent when it was loaded at the start of the range.
type HistoryRuleGroup struct {
	Group string    `json:"group"`
	Since time.Time `json:"since,omitzero"`
}

// HistoryAlert is how an alert name fired (analyze.AlertHistory); Firing is a Go duration.
type HistoryAlert struct {
	Name      string `json:"name"`
	Episodes  int    `json:"episodes"`
	Firing    string `json:"firing"`
	FiringNow bool   `json:"firing_now,omitempty"`
}

// newHistoryAlerts converts what was read of ALERTS to the file's form; nil when it was not.
func newHistoryAlerts(a analyze.AlertsHistory) *HistoryAlerts {
	if !a.Read {
		return nil
	}
	f := &HistoryAlerts{ServerStart: utcOrZero(a.ServerStart), Groups: []HistoryRuleGroup{}, Alerts: []HistoryAlert{}}
	for _, g := range a.Groups {
		f.Groups = append(f.Groups, HistoryRuleGroup{Group: g.Key, Since: utcOrZero(g.Since)})
	}
	for _, h := range a.Alerts {
		f.Alerts = append(f.Alerts, HistoryAlert{Name: h.Name, Episodes: h.Episodes, Firing: h.Firing.String(), FiringNow: h.FiringNow})
	}
	return f
}

// result converts the file's form back; the zero AlertsHistory (not read) when f is nil.
func (f *HistoryAlerts) result() (analyze.AlertsHistory, error) {
	if f == nil {
		return analyze.AlertsHistory{}, nil
	}
	a := analyze.AlertsHistory{Read: true, ServerStart: utcOrZero(f.ServerStart)}
	for _, g := range f.Groups {
		a.Groups = append(a.Groups, analyze.RuleGroupHistory{Key: g.Group, Since: utcOrZero(g.Since)})
	}
	for _, h := range f.Alerts {
		d, err := time.ParseDuration(h.Firing)
		if err != nil {
			return a, fmt.Errorf("firing of alert %q: %w", h.Name, err)
		}
		a.Alerts = append(a.Alerts, analyze.AlertHistory{Name: h.Name, Episodes: h.Episodes, Firing: d, FiringNow: h.FiringNow})
	}
	return a, nil
}

// utcOrZero is t in UTC, and the zero time (not its UTC form) when t is zero, so that a time
// read back compares equal to the one written.
func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

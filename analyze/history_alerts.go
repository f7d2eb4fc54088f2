package analyze

import (
	"cmp"
	"slices"
	"time"
)

// AlertsHistory is what the ALERTS series (written by the rule manager) showed over the
// lookback, and what says since when the server's rules were loaded.
type AlertsHistory struct {
	// Read is whether it was read: false in histories read before blindspot read ALERTS, which
	// then say nothing of which alerts fired.
	Read bool
	// ServerStart is when the server last started (runtimeinfo's startTime); zero when unknown.
	ServerStart time.Time
	// Groups are the rule groups the server's own prometheus_rule_group_rules showed during
	// the lookback (when it scrapes itself), with since when, sorted by Key. Empty when the
	// server does not scrape itself.
	Groups []RuleGroupHistory
	// Alerts are the alert names that fired during the lookback, sorted by Name.
	Alerts []AlertHistory
}

// RuleGroupHistory is a rule group seen loaded during the lookback.
type RuleGroupHistory struct {
	// Key is the group's rule_group label: its file and name joined by ";" (RuleGroupKey).
	Key string
	// Since is the step at which the group was first seen; zero when it was loaded at the
	// start of the lookback.
	Since time.Time
}

// RuleGroupKey is the rule_group label Prometheus gives the metrics of a group.
func RuleGroupKey(file, name string) string { return file + ";" + name }

// AlertHistory is how an alert name fired during the lookback: firing means that at least one
// of its ALERTS series had alertstate="firing" (pending does not count).
type AlertHistory struct {
	Name string
	// Episodes counts the times it began to fire (from no firing series to some), one already
	// firing at the start of the lookback included; a flap shorter than a step is not seen.
	Episodes int
	// Firing is how long it fired, at the step's resolution.
	Firing time.Duration
	// FiringNow is whether it fires at the end of the lookback.
	FiringNow bool
}

// LoadedSince is since when the rule group file;name is known to have been loaded, no earlier
// than start: from the group's own metrics when the server scrapes itself, else from the
// server's start. False when neither says (a group its own metrics do not show yet).
func (a AlertsHistory) LoadedSince(file, name string, start time.Time) (time.Time, bool) {
	if len(a.Groups) > 0 {
		key := RuleGroupKey(file, name)
		i := slices.IndexFunc(a.Groups, func(g RuleGroupHistory) bool { return g.Key == key })
		if i < 0 {
			return time.Time{}, false
		}
		if a.Groups[i].Since.After(start) {
			return a.Groups[i].Since, true
		}
		return start, true
	}
	if a.ServerStart.IsZero() {
		return time.Time{}, false
	}
	if a.ServerStart.After(start) {
		return a.ServerStart, true
	}
	return start, true
}

// AlertNoise is a line of the noise table: an alert, how often it began to fire and its share
// of the time all alerts fired.
type AlertNoise struct {
	Alert    string
	Episodes int
	Firing   time.Duration
	// Share is Firing over the firing time of every alert, from 0 to 1.
	Share float64
}

// Noisiest are the n alerts that began to fire most often (by name on ties), with their share
// of all firing time; none when nothing fired.
func (a AlertsHistory) Noisiest(n int) []AlertNoise {
	var total time.Duration
	for _, h := range a.Alerts {
		total += h.Firing
	}
	var out []AlertNoise
	for _, h := range a.Alerts {
		if h.Episodes == 0 {
			continue
		}
		share := 0.0
		if total > 0 {
			share = float64(h.Firing) / float64(total)
		}
		out = append(out, AlertNoise{Alert: h.Name, Episodes: h.Episodes, Firing: h.Firing, Share: share})
	}
	slices.SortFunc(out, func(x, y AlertNoise) int {
		return cmp.Or(cmp.Compare(y.Episodes, x.Episodes), cmp.Compare(y.Firing, x.Firing), cmp.Compare(x.Alert, y.Alert))
	})
	return out[:min(n, len(out))]
}

// sortedAlertsHistory returns a with its groups and alerts sorted, on copies.
func sortedAlertsHistory(a AlertsHistory) AlertsHistory {
	a.Groups = slices.Clone(a.Groups)
	slices.SortFunc(a.Groups, func(x, y RuleGroupHistory) int { return cmp.Compare(x.Key, y.Key) })
	a.Alerts = slices.Clone(a.Alerts)
	slices.SortFunc(a.Alerts, func(x, y AlertHistory) int { return cmp.Compare(x.Name, y.Name) })
	return a
}

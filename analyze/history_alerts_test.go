package analyze_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
)

func TestAlertsHistory(t *testing.T) {
	start := time.Date(2026, 11, 19, 3, 0, 0, 0, time.UTC)

	t.Run("A group's own metrics say since when it was loaded, no earlier than the start; without them the server's start does; without either, nothing is known.", func(t *testing.T) {
		groups := []analyze.RuleGroupHistory{{Key: "/r.yml;old"}, {Key: "/r.yml;new", Since: start.Add(72 * time.Hour)}}
		for _, c := range []struct {
			a           analyze.AlertsHistory
			group       string
			since       time.Time
			known       bool
			description string
		}{
			{analyze.AlertsHistory{Groups: groups, ServerStart: start.Add(100 * time.Hour)}, "old", start, true, "loaded all along, whatever the server's start"},
			{analyze.AlertsHistory{Groups: groups}, "new", start.Add(72 * time.Hour), true, "appeared three days in"},
			{analyze.AlertsHistory{Groups: groups, ServerStart: start.Add(-time.Hour)}, "unseen", time.Time{}, false, "not in the group metrics"},
			{analyze.AlertsHistory{ServerStart: start.Add(-time.Hour)}, "any", start, true, "server started before the start"},
			{analyze.AlertsHistory{ServerStart: start.Add(48 * time.Hour)}, "any", start.Add(48 * time.Hour), true, "server started two days in"},
			{analyze.AlertsHistory{}, "any", time.Time{}, false, "nothing says"},
		} {
			since, known := c.a.LoadedSince("/r.yml", c.group, start)
			if !since.Equal(c.since) || known != c.known {
				t.Errorf("%s: LoadedSince = %s, %v; want %s, %v", c.description, since, known, c.since, c.known)
			}
		}
	})

	t.Run("The noisiest alerts are those that began to fire most often, then fired longest, then by name, with their share of all firing time; alerts that never began to fire are left out.", func(t *testing.T) {
		a := analyze.AlertsHistory{Alerts: []analyze.AlertHistory{
			{Name: "B", Episodes: 2, Firing: time.Hour},
			{Name: "A", Episodes: 2, Firing: time.Hour},
			{Name: "C", Episodes: 2, Firing: 2 * time.Hour},
			{Name: "Top", Episodes: 9, Firing: 4 * time.Hour},
			{Name: "Zero", Episodes: 0},
		}}
		got := fmt.Sprint(a.Noisiest(4))
		want := fmt.Sprint([]analyze.AlertNoise{
			{Alert: "Top", Episodes: 9, Firing: 4 * time.Hour, Share: 0.5},
			{Alert: "C", Episodes: 2, Firing: 2 * time.Hour, Share: 0.25},
			{Alert: "A", Episodes: 2, Firing: time.Hour, Share: 0.125},
			{Alert: "B", Episodes: 2, Firing: time.Hour, Share: 0.125},
		})
		if got != want {
			t.Errorf("Noisiest(4) = %s, want %s", got, want)
		}
		if n := a.Noisiest(2); len(n) != 2 || n[1].Alert != "C" {
			t.Errorf("Noisiest(2) = %v", n)
		}
		if n := (analyze.AlertsHistory{}).Noisiest(10); len(n) != 0 {
			t.Errorf("nothing fired: %v", n)
		}
	})
}

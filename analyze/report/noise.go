package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// NoiseRows is how many alerts a noise table lists.
const NoiseRows = 10

// NoiseTable is the noise of the alerts of a server over the history's lookback: the alerts
// that began to fire most often, with their share of the time all alerts fired.
type NoiseTable struct {
	// Lookback is the range read ("7d").
	Lookback string `json:"lookback"`
	// Alerts are at most NoiseRows alerts, most episodes first; empty when none fired.
	Alerts []NoisyAlert `json:"alerts"`
	// Member names the fleet member the table is of; absent for one server.
	Member map[string]string `json:"member,omitempty"`
}

// NoisyAlert is a line of the noise table.
type NoisyAlert struct {
	Alert string `json:"alert"`
	// Episodes counts the times it began to fire in the lookback.
	Episodes      int     `json:"episodes"`
	FiringSeconds float64 `json:"firing_seconds"`
	// FiringShare is its firing time over that of every alert, from 0 to 1 (three decimals).
	FiringShare float64 `json:"firing_share"`
}

// Percent is the share as a whole percentage ("<1%" for a share that is not zero).
func (a NoisyAlert) Percent() string {
	p := int(math.Round(a.FiringShare * 100))
	if p == 0 && a.FiringShare > 0 {
		return "<1%"
	}
	return strconv.Itoa(p) + "%"
}

// MemberName is the fleet member the table is of ("" for one server).
func (t NoiseTable) MemberName() string { return MemberName(t.Member) }

// noiseTables is the noise table of inv, when its history read ALERTS.
func noiseTables(inv *analyze.Inventory) []NoiseTable {
	h := inv.History
	if !inv.Has(analyze.PartHistory) || !h.Alerts.Read {
		return nil
	}
	t := NoiseTable{Lookback: lookbackString(h.Lookback), Alerts: []NoisyAlert{}}
	for _, n := range h.Alerts.Noisiest(NoiseRows) {
		t.Alerts = append(t.Alerts, NoisyAlert{Alert: n.Alert, Episodes: n.Episodes, FiringSeconds: n.Firing.Seconds(),
			FiringShare: math.Round(n.Share*1000) / 1000})
	}
	return []NoiseTable{t}
}

// lookbackString writes a lookback in days when it is whole days (7d rather than 1w).
func lookbackString(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return model.Duration(d).String()
}

// noiseHeading is the heading of a noise table.
func noiseHeading(t NoiseTable) string {
	of := ""
	if m := t.MemberName(); m != "" {
		of = " of " + m
	}
	return fmt.Sprintf("Noisiest alerts%s over %s", of, t.Lookback)
}

// noise writes the text noise tables: one line an alert, episodes and share aligned.
func (p *printer) noise(ts []NoiseTable) {
	for _, t := range ts {
		p.line("")
		if len(t.Alerts) == 0 {
			p.line("%s: no alert fired.", clean(noiseHeading(t)))
			continue
		}
		p.line("%s (times it began to fire; share of all firing time):", clean(noiseHeading(t)))
		width := 0
		for _, a := range t.Alerts {
			width = max(width, len(clean(a.Alert)))
		}
		for _, a := range t.Alerts {
			name := clean(a.Alert)
			p.line("  %s%s %5d %5s", name, strings.Repeat(" ", width-len(name)), a.Episodes, a.Percent())
		}
	}
}

// noiseTable writes the Markdown noise tables.
func (p *printer) noiseTable(ts []NoiseTable) {
	for _, t := range ts {
		p.line("### %s", mdEscape(noiseHeading(t)))
		p.line("")
		if len(t.Alerts) == 0 {
			p.line("No alert fired.")
			p.line("")
			continue
		}
		p.table("alert", "times it began to fire", "share of all firing time")
		for _, a := range t.Alerts {
			p.row(mdEscape(a.Alert), strconv.Itoa(a.Episodes), a.Percent())
		}
		p.line("")
	}
}

package report_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// noisyInventory is an inventory whose week of history read ALERTS: twelve alerts fired, the
// most often Flappy (84 times, 14h), and one with a hostile name.
func noisyInventory(alerts ...analyze.AlertHistory) *analyze.Inventory {
	b := analyze.NewBuilder(generatedAt)
	b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prom:9090"})
	end := generatedAt.Truncate(time.Minute)
	b.SetHistory(analyze.History{Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute,
		Alerts: analyze.AlertsHistory{Read: true, Alerts: alerts}})
	b.AddPart(analyze.PartHistory)
	return b.Build()
}

func TestNoiseTable(t *testing.T) {
	var alerts []analyze.AlertHistory
	for i := range 10 {
		alerts = append(alerts, analyze.AlertHistory{Name: fmt.Sprintf("Quiet%02d", i), Episodes: 1, Firing: time.Hour})
	}
	alerts = append(alerts,
		analyze.AlertHistory{Name: "Flappy", Episodes: 84, Firing: 14 * time.Hour},
		analyze.AlertHistory{Name: "Always", Episodes: 1, Firing: 7 * 24 * time.Hour, FiringNow: true},
		analyze.AlertHistory{Name: "<b>Bold</b>", Episodes: 3, Firing: 2 * time.Hour},
	)
	// All alerts fired 10h + 14h + 168h + 2h = 194h.
	rep := report.Build(report.Input{Inventory: noisyInventory(alerts...), Now: generatedAt})

	t.Run("The report's noise table lists the ten alerts that began to fire most often, with their share of all firing time; the JSON report holds it under noise.", func(t *testing.T) {
		var got struct {
			Noise []struct {
				Lookback string `json:"lookback"`
				Alerts   []struct {
					Alert         string  `json:"alert"`
					Episodes      int     `json:"episodes"`
					FiringSeconds float64 `json:"firing_seconds"`
					FiringShare   float64 `json:"firing_share"`
				} `json:"alerts"`
			} `json:"noise"`
		}
		if err := json.Unmarshal(renderJSON(t, rep), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Noise) != 1 || got.Noise[0].Lookback != "7d" || len(got.Noise[0].Alerts) != report.NoiseRows {
			t.Fatalf("noise %+v", got.Noise)
		}
		first := got.Noise[0].Alerts[:4]
		want := fmt.Sprint([]any{"Flappy", 84, 50400.0, 0.072}, []any{"<b>Bold</b>", 3, 7200.0, 0.01}, []any{"Always", 1, 604800.0, 0.866}, []any{"Quiet00", 1, 3600.0, 0.005})
		var gotLines []string
		for _, a := range first {
			gotLines = append(gotLines, fmt.Sprint([]any{a.Alert, a.Episodes, a.FiringSeconds, a.FiringShare}))
		}
		if strings.Join(gotLines, " ") != want {
			t.Errorf("first rows %v, want %s", gotLines, want)
		}
		if last := got.Noise[0].Alerts[9].Alert; last != "Quiet06" {
			t.Errorf("the tenth row is %s, want Quiet06 (ties by name)", last)
		}
	})

	t.Run("The text and Markdown reports show the table, names escaped; the HTML page has it as a table.", func(t *testing.T) {
		r := rendered(t, rep)
		text := `Noisiest alerts over 7d (times it began to fire; share of all firing time):
  Flappy         84    7%
  <b>Bold</b>     3    1%
  Always          1   87%
  Quiet00         1    1%
`
		if !strings.Contains(r["text"], text) {
			t.Errorf("text report:\n%s\nwant it to hold:\n%s", r["text"], text)
		}
		md := "### Noisiest alerts over 7d\n\n| alert | times it began to fire | share of all firing time |\n| --- | --- | --- |\n| Flappy | 84 | 7% |\n| &lt;b&gt;Bold&lt;/b&gt; | 3 | 1% |\n"
		if !strings.Contains(r["markdown"], md) {
			t.Errorf("markdown report:\n%s\nwant it to hold:\n%s", r["markdown"], md)
		}
		for _, want := range []string{`<section id="noise"`, `<tr><td><code>Flappy</code></td><td>84</td><td>7%</td></tr>`, `<code>&lt;b&gt;Bold&lt;/b&gt;</code>`} {
			if !strings.Contains(r["html"], want) {
				t.Errorf("the HTML page lacks %s", want)
			}
		}
	})

	t.Run("A history that read ALERTS when nothing fired says so; a report without ALERTS read has no noise table.", func(t *testing.T) {
		quiet := report.Build(report.Input{Inventory: noisyInventory(), Now: generatedAt})
		if r := rendered(t, quiet); !strings.Contains(r["text"], "\nNoisiest alerts over 7d: no alert fired.\n") || !strings.Contains(r["markdown"], "### Noisiest alerts over 7d\n\nNo alert fired.\n") {
			t.Errorf("text:\n%s\nmarkdown:\n%s", r["text"], r["markdown"])
		}
		none := report.Build(report.Input{Inventory: analyze.NewBuilder(generatedAt).Build(), Now: generatedAt})
		if r := rendered(t, none); none.Noise != nil || strings.Contains(r["text"], "Noisiest") || strings.Contains(r["markdown"], "Noisiest") ||
			strings.Contains(r["html"], `id="noise"`) || strings.Contains(string(renderJSON(t, none)), `"noise"`) {
			t.Errorf("noise %+v", none.Noise)
		}
	})

	t.Run("In a fleet, each member's table names the member.", func(t *testing.T) {
		inv := noisyInventory(analyze.AlertHistory{Name: "Flappy", Episodes: 84, Firing: 14 * time.Hour})
		merged := report.Merge([]report.Report{
			report.BuildMember(report.Input{Inventory: inv, Now: generatedAt}, map[string]string{"source": "eu-1"}),
			report.BuildMember(report.Input{Inventory: inv, Now: generatedAt}, map[string]string{"source": "us-1"}),
		})
		r := rendered(t, merged)
		for _, want := range []string{"Noisiest alerts of source=eu-1 over 7d (", "Noisiest alerts of source=us-1 over 7d ("} {
			if !strings.Contains(r["text"], want) {
				t.Errorf("text report lacks %q:\n%s", want, r["text"])
			}
		}
		if !strings.Contains(r["html"], "<caption>over 7d (source=eu-1):") {
			t.Errorf("the HTML page does not name the member")
		}
	})
}

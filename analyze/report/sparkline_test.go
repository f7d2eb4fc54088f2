package report_test

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// historyReport is the audit of a week of history: invoices_generated_total of job billing rose
// 600 per bucket for five days then stayed flat; job legacy had two up series until three days
// ago; orders_placed_total still rises. seriesStep 0 leaves the series out, as a snapshot
// written before they were read.
func historyReport(withSeries bool) report.Report {
	end := collectedAt.Truncate(time.Minute)
	b := analyze.NewBuilder(collectedAt)
	b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090"})
	b.AddPart(analyze.PartJobMetrics)
	b.AddPart(analyze.PartHistory)
	b.AddJobMetric("billing", "invoices_generated_total")
	b.AddJobMetric("orders", "orders_placed_total")
	const n = analyze.SeriesBuckets
	invoices, legacy, orders := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		if i < 34 {
			invoices[i] = 600
		}
		if i < 27 {
			legacy[i] = 2
		}
		orders[i] = 3.5
	}
	h := analyze.History{Requested: 7 * 24 * time.Hour, Lookback: 7 * 24 * time.Hour, Start: end.Add(-7 * 24 * time.Hour), End: end, Step: time.Minute,
		Jobs: []analyze.JobHistory{{Name: "legacy", LastSeen: end.Add(-72 * time.Hour), Series: legacy}},
		Counters: []analyze.CounterHistory{
			{Job: "billing", Metric: "invoices_generated_total", FirstIncrease: end.Add(-7 * 24 * time.Hour), LastIncrease: end.Add(-48 * time.Hour),
				Increases: 5 * 24 * 60, LongestGap: time.Minute, Rise: 34 * 600, Series: invoices},
			{Job: "orders", Metric: "orders_placed_total", FirstIncrease: end.Add(-7 * 24 * time.Hour), LastIncrease: end,
				Increases: 7 * 24, LongestGap: time.Hour, Rise: 168, Series: orders},
		},
		SeriesStep: 210 * time.Minute,
	}
	if !withSeries {
		h.SeriesStep = 0
		h.Jobs[0].Series, h.Counters[0].Series, h.Counters[1].Series = nil, nil, nil
	}
	b.SetHistory(h)
	inv := b.Build()
	return audit(inv, checks.Policy{Now: generatedAt}, coverage.Analyze(inv, coverage.Options{}).Matrix())
}

// sparklineSVGs maps the check of each findings row to the sparkline drawn in it.
func sparklineSVGs(t *testing.T, page []byte) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	walk(parseHTML(t, page), func(n *html.Node) {
		if n.Data != "tr" {
			return
		}
		check, _ := attr(n, "data-check")
		walk(n, func(c *html.Node) {
			if c.Data == "svg" {
				if _, dup := out[check]; dup {
					t.Errorf("two sparklines for %s", check)
				}
				out[check] = c
			}
		})
	})
	return out
}

func TestSparklines(t *testing.T) {
	t.Run("A flatlined counter and a vanished job are drawn inline with a title and a label saying what the line shows; no other finding is.", func(t *testing.T) {
		r := historyReport(true)
		var found []string
		for _, f := range r.Findings {
			found = append(found, f.Check)
		}
		if !slices.Contains(found, checks.BusinessFlatlinedName) || !slices.Contains(found, checks.JobsVanishedName) {
			t.Fatalf("findings %v, want a flatlined counter and a vanished job", found)
		}
		page := renderHTML(t, r)
		svgs := sparklineSVGs(t, page)
		if len(svgs) != 2 {
			t.Fatalf("sparklines in the rows of %v, want business/flatlined and jobs/vanished", slices.Sorted(maps.Keys(svgs)))
		}
		want := map[string]string{
			checks.BusinessFlatlinedName: `increase of invoices_generated_total of job "billing" per 3h30m over the 7d to 2026-11-26 02:59 UTC: highest 600, last 0`,
			checks.JobsVanishedName:      `up series of job "legacy" per 3h30m over the 7d to 2026-11-26 02:59 UTC: highest 2, last 0`,
		}
		for check, svg := range svgs {
			label, _ := attr(svg, "aria-label")
			role, _ := attr(svg, "role")
			var title string
			var points []string
			var dot *html.Node
			walk(svg, func(c *html.Node) {
				switch c.Data {
				case "title":
					title = text(c)
				case "polyline":
					p, _ := attr(c, "points")
					points = strings.Fields(p)
				case "circle":
					dot = c
				}
			})
			if role != "img" || label != want[check] || title != want[check] {
				t.Errorf("%s: role %q, label %q, title %q; want img and %q", check, role, label, title, want[check])
			}
			// One point a bucket, from the left margin to the right, the last on the baseline
			// (the counter and the job at 0 now) and marked with a dot.
			if len(points) != analyze.SeriesBuckets || points[0] != "2.0,2.0" || points[len(points)-1] != "118.0,22.0" {
				t.Errorf("%s: points %v", check, points)
			}
			if cx, _ := attr(dot, "cx"); cx != "118.0" {
				t.Errorf("%s: the dot is at x %s, want on the last point", check, cx)
			}
		}
		for _, forbidden := range []string{"<script src", "<img", "xlink:href", "<use"} {
			if bytes.Contains(page, []byte(forbidden)) {
				t.Errorf("the page contains %s", forbidden)
			}
		}
	})

	t.Run("The page is the same at every rendering, sparklines included.", func(t *testing.T) {
		if a, b := renderHTML(t, historyReport(true)), renderHTML(t, historyReport(true)); !bytes.Equal(a, b) {
			t.Error("two renderings of one report differ")
		}
	})

	t.Run("The series are not part of the JSON report, and a history without series draws nothing.", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf, historyReport(true)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(buf.String()), "sparkline") {
			t.Errorf("the JSON report holds the sparklines")
		}
		r := historyReport(false)
		if len(r.Findings) == 0 {
			t.Fatal("no findings")
		}
		if svgs := sparklineSVGs(t, renderHTML(t, r)); len(svgs) != 0 {
			t.Errorf("sparklines without series: %v", svgs)
		}
	})
}

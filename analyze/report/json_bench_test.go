package report_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// largeReport is a report of n findings shaped like the scale estate's: mostly
// alerts/missing-business findings of one exporter, each with a subject, a message, details and
// a fix.
func largeReport(n int) report.Report {
	r := report.Report{Version: report.SchemaVersion, CollectedAt: collectedAt, GeneratedAt: generatedAt,
		Sources:  []report.Source{{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090", OK: true}},
		Coverage: []report.CoverageRow{}, Suppressed: []report.SuppressedFinding{}}
	r.Summary.ChecksRun = []string{"alerts/missing-business"}
	r.Findings = make([]analyze.Finding, 0, n)
	for i := range n {
		metric := fmt.Sprintf("exporter_counter_%06d_total", i)
		f := analyze.NewFinding("alerts/missing-business", analyze.Warning,
			map[string]string{"job": fmt.Sprintf("job-%03d", i%100), "metric": metric},
			"no alert watches "+metric+", a business counter of the job",
			map[string]string{"kind": "counter", "selector": `rate(` + metric + `[5m])`})
		f.Fix = "an alert on the rate of " + metric
		f.Help = "docs/checks/alerts-missing-business.md"
		r.Findings = append(r.Findings, f)
	}
	r.Summary.Findings.Warning, r.Summary.Findings.Total = n, n
	return r
}

// BenchmarkJSON renders the JSON report of 100,000 findings (the scale estate yields 107,503).
func BenchmarkJSON(b *testing.B) {
	r := largeReport(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if err := report.WriteJSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

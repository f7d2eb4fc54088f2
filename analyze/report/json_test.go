package report_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// fullReport is the golden report with every field of Report set, suppressed findings and
// expired exceptions included.
func fullReport() report.Report {
	r := goldenReport()
	r.Suppressed = append(r.Suppressed, report.SuppressedFinding{Finding: r.Findings[0], Reason: "accepted </script> & \"why\""})
	r.Expired = []report.ExpiredException{{Check: r.Findings[0].Check, Subject: r.Findings[0].Subject,
		Reason: "until the <migration>", Expires: "2026-01-31", Findings: []string{r.Findings[0].ID}}}
	r.Noise = []report.NoiseTable{{Lookback: "7d", Member: map[string]string{"source": "eu-1"},
		Alerts: []report.NoisyAlert{{Alert: "Flappy</script>", Episodes: 84, FiringSeconds: 50400, FiringShare: 0.077}}}}
	// The HTML report's series are not part of the JSON document.
	r.Sparklines = map[string]report.Sparkline{r.Findings[0].ID: {Title: "up series", End: collectedAt, Step: time.Hour, Values: []float64{1, 0}}}
	return r
}

func TestTheStreamedJSONReportIsByteForByteTheMarshalledOne(t *testing.T) {
	full := fullReport()
	rv := reflect.ValueOf(full)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("fullReport leaves Report.%s unset: the comparison below would not cover it", rv.Type().Field(i).Name)
		}
	}
	empty := report.Report{Version: report.SchemaVersion, Findings: []analyze.Finding{}, Suppressed: []report.SuppressedFinding{}}
	for name, r := range map[string]report.Report{
		"every field set":                full,
		"the golden audit":               goldenReport(),
		"the demo snapshot":              demoReport(t),
		"no findings, empty lists":       empty,
		"the zero report, nil lists":     {},
		"the hostile HTML values":        hostileReport(),
		"many findings of one job":       manyFindings(45, "shop"),
		"one finding and nothing else":   {Findings: full.Findings[:1]},
		"one suppressed and no findings": {Suppressed: full.Suppressed},
	} {
		want, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		var got bytes.Buffer
		if err := report.WriteJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: WriteJSON differs from json.MarshalIndent:\n%s\nwant:\n%s", name, got.Bytes(), want)
		}
	}
}

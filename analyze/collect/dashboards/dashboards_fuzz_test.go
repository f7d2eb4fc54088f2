package dashboards_test

import (
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
)

// FuzzParse reads arbitrary dashboard files, as JSON (a .json file, or a Grafana answer) and
// as YAML (a ConfigMap or a List of them). A file is read or refused with a one-line error;
// every query read is parsed or says why not; the metric names and variables of what was read
// can be listed.
func FuzzParse(f *testing.F) {
	for _, s := range []struct {
		content string
		json    bool
	}{
		{`{"uid":"u","title":"T","panels":[{"title":"P","targets":[{"expr":"rate(x_total{job=\"$job\"}[$__rate_interval])"}]}]}`, true},
		{`{"dashboard":{"title":"W","rows":[{"panels":[{"targets":[{"expr":"up"}]}]}]},"meta":{}}`, true},
		{`{"panels":[{"type":"row","collapsed":true,"panels":[{"targets":[{"expr":"sum(("}]}]}]}`, true},
		{`{"templating":{"list":[{"name":"job","type":"query","datasource":"$ds","query":"label_values(up, job)"},{"name":"q","type":"query","query":{"query":"query_result(x)"}}]}}`, true},
		{"kind: ConfigMap\nmetadata: {name: d}\ndata:\n  a.json: '{\"title\":\"A\",\"panels\":[]}'\n", false},
		{"kind: List\nitems:\n- kind: Secret\n- kind: ConfigMap\n  data: {b.json: '{}', README: x}\n", false},
		{"title: yaml\npanels: [{targets: [{expr: '${metric:raw}'}]}]\n", false},
	} {
		f.Add([]byte(s.content), s.json)
	}
	f.Fuzz(func(t *testing.T, content []byte, json bool) {
		file := "fuzz.yaml"
		if json {
			file = "fuzz.json"
		}
		ds, skipped, err := dashboards.Parse(file, content)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, s := range skipped {
			if s.Reason == "" {
				t.Fatalf("skipped %s without a reason", s.File)
			}
		}
		for _, d := range ds {
			for _, q := range d.Queries {
				if (q.Parsed == nil) == (q.ParseError == "") {
					t.Fatalf("query %q of %q: parsed %v, parse error %q", q.Expr, d.Title, q.Parsed, q.ParseError)
				}
				dashboard.VariablesIn(q.Expr)
				dashboard.Substitute(q.Expr)
			}
		}
		dashboard.MetricNames(ds)
	})
}

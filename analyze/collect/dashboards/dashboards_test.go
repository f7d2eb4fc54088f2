package dashboards_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// selectors returns every vector selector of the parsed queries, as strings.
func selectors(qs []dashboards.Query) []string {
	var out []string
	for _, q := range qs {
		if q.Parsed == nil {
			continue
		}
		parser.Inspect(q.Parsed, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				out = append(out, vs.String())
			}
			return nil
		})
	}
	return out
}

func byUID(t *testing.T, ds []dashboards.Dashboard, uid string) dashboards.Dashboard {
	t.Helper()
	for _, d := range ds {
		if d.UID == uid {
			return d
		}
	}
	t.Fatalf("no dashboard with uid %q", uid)
	return dashboards.Dashboard{}
}

func query(t *testing.T, d dashboards.Dashboard, panel string) dashboards.Query {
	t.Helper()
	for _, q := range d.Queries {
		if q.Panel == panel {
			return q
		}
	}
	t.Fatalf("%s: no query in panel %q", d.Title, panel)
	return dashboards.Query{}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCorpus(t *testing.T) {
	ds, skipped, err := dashboards.Load([]string{testcorpus.Dir(t, "dashboards")})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Every corpus file loads and every query parses.", func(t *testing.T) {
		if len(ds) != 39 || len(skipped) != 0 {
			t.Errorf("got %d dashboards and %d skipped, want 39 and 0: %v", len(ds), len(skipped), skipped)
		}
		for _, d := range ds {
			if len(d.Queries) == 0 {
				t.Errorf("%s (%s) has no queries", d.Title, d.File)
			}
			for _, q := range d.Queries {
				if q.ParseError != "" {
					t.Errorf("%s / %s: %s: %s", d.Title, q.Panel, q.Expr, q.ParseError)
				}
			}
		}
	})

	t.Run("The kube-prometheus ConfigMapList holds 32 dashboards.", func(t *testing.T) {
		n := 0
		for _, d := range ds {
			if strings.HasSuffix(d.File, "grafana-dashboardDefinitions.yaml") {
				n++
			}
		}
		if n != 32 {
			t.Errorf("got %d dashboards from the ConfigMapList, want 32", n)
		}
		if d := byUID(t, ds, "7d57716318ee0dddbac5a7f451fb7753"); d.Title != "Node Exporter / Nodes" {
			t.Errorf("title %q", d.Title)
		}
	})

	t.Run("Node Exporter Full queries node_cpu_seconds_total with job=\"$job\" in a collapsed row.", func(t *testing.T) {
		d := byUID(t, ds, "rYdddlPWk")
		q := query(t, d, "CPU")
		if !strings.Contains(q.Expr, `job="$job"`) {
			t.Errorf("expr %q", q.Expr)
		}
		want := `node_cpu_seconds_total{instance="__var_node__",job="__var_job__",mode="system"}`
		if got := selectors([]dashboards.Query{q}); !slices.Contains(got, want) {
			t.Errorf("selectors %v lack %s", got, want)
		}
	})

	t.Run("Node Exporter Full's job variable selects node_uname_info.", func(t *testing.T) {
		q := query(t, byUID(t, ds, "rYdddlPWk"), `variable "job"`)
		if q.Expr != "node_uname_info" || q.Parsed == nil {
			t.Errorf("query %+v", q)
		}
	})

	t.Run("Node Exporter Full's variables: $job from node_uname_info, $nodename chained on it.", func(t *testing.T) {
		vars := byUID(t, ds, "rYdddlPWk").Variables
		if len(vars) != 4 {
			t.Fatalf("variables %+v", vars)
		}
		job, nodename := vars[1], vars[2]
		if job.Name != "job" || job.Type != "query" || !job.Prometheus || job.Function != "label_values" || job.Label != "job" ||
			job.Selector == nil || job.Selector.String() != "node_uname_info" {
			t.Errorf("job %+v", job)
		}
		if nodename.Label != "nodename" || nodename.Selector == nil || nodename.Selector.String() != `node_uname_info{job="__var_job__"}` {
			t.Errorf("nodename %+v", nodename)
		}
		if vars[0].Type != "datasource" || vars[0].Function != "" {
			t.Errorf("datasource %+v", vars[0])
		}
	})

	t.Run("The metric names a dashboard reads are those of its panels and variables, without placeholders.", func(t *testing.T) {
		names := dashboard.MetricNames([]dashboards.Dashboard{byUID(t, ds, "rYdddlPWk")})
		for _, want := range []string{"node_cpu_seconds_total", "node_uname_info", "node_memory_MemTotal_bytes"} {
			if !slices.Contains(names, want) {
				t.Errorf("%s missing from %d names", want, len(names))
			}
		}
		if !slices.IsSorted(names) || slices.ContainsFunc(names, dashboard.HasVariable) {
			t.Errorf("names %v", names)
		}
	})

	t.Run("Thanos Query, in the old rows format, rates http_requests_total of the $job variable.", func(t *testing.T) {
		d := byUID(t, ds, "af36c91291a603f1d9fbdabdd127ac4a")
		q := query(t, d, "Rate")
		want := `http_requests_total{handler="query",job=~"__var_job__"}`
		if got := selectors([]dashboards.Query{q}); !slices.Contains(got, want) {
			t.Errorf("selectors %v lack %s", got, want)
		}
		if v := query(t, d, `variable "job"`); v.Expr != `up{job=~".*thanos-query.*"}` {
			t.Errorf("job variable %q", v.Expr)
		}
	})

	t.Run("Node Exporter Full Old, in the rows format, queries the pre-0.16 node_cpu metric.", func(t *testing.T) {
		var old dashboards.Dashboard
		for _, d := range ds {
			if d.Title == "Node Exporter Full Old" {
				old = d
			}
		}
		got := selectors(old.Queries)
		if !slices.Contains(got, `node_cpu{instance=~"__var_node__:5m",job=~"__var_job__"}`) {
			t.Errorf("no node_cpu selector among %d", len(got))
		}
	})
}

const plain = `{"uid": "api", "title": "API", "panels": [
  {"title": "Requests", "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
   "targets": [{"expr": "sum(rate(http_requests_total{job=\"api\"}[$__rate_interval]))"}]},
  {"title": "Logs", "datasource": {"type": "loki", "uid": "loki"},
   "targets": [{"expr": "sum(count_over_time({job=\"api\"}[5m]))"}]},
  {"title": "Row", "type": "row", "panels": [
    {"title": "Errors", "targets": [{"expr": "rate(errors_total[5m])"}]}]}
]}`

func TestFormats(t *testing.T) {
	t.Run("A plain dashboard yields its Prometheus queries, nested panels included, and not its Loki ones.", func(t *testing.T) {
		ds, _, err := dashboards.Load([]string{write(t, "api.json", plain)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].UID != "api" || ds[0].Title != "API" {
			t.Fatalf("dashboards %+v", ds)
		}
		var panels []string
		for _, q := range ds[0].Queries {
			panels = append(panels, q.Panel)
		}
		if !slices.Equal(panels, []string{"Requests", "Errors"}) {
			t.Errorf("panels %v", panels)
		}
	})

	t.Run("The export wrapper {\"dashboard\": …} is unwrapped.", func(t *testing.T) {
		ds, _, err := dashboards.Load([]string{write(t, "api.json", `{"meta": {}, "dashboard": `+plain+`}`)})
		if err != nil || len(ds) != 1 || len(ds[0].Queries) != 2 {
			t.Fatalf("dashboards %+v, err %v", ds, err)
		}
	})

	t.Run("A ConfigMap's .json data values are dashboards; other keys and kinds are skipped.", func(t *testing.T) {
		yml := "kind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: dash}\n  data:\n    api.json: |\n" +
			indent(plain, "      ") + "\n    README: hello\n- kind: Secret\n  metadata: {name: s}\n"
		ds, skipped, err := dashboards.Load([]string{write(t, "cm.yaml", yml)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].UID != "api" || len(ds[0].Queries) != 2 {
			t.Errorf("dashboards %+v", ds)
		}
		if len(skipped) != 2 {
			t.Errorf("skipped %v", skipped)
		}
	})

	t.Run("JSON that is not a dashboard is skipped with a reason.", func(t *testing.T) {
		_, skipped, err := dashboards.Load([]string{write(t, "x.json", `{"foo": 1}`)})
		if err != nil || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "not a dashboard") {
			t.Errorf("skipped %v, err %v", skipped, err)
		}
	})

	t.Run("A malformed file is an error naming the path and line.", func(t *testing.T) {
		path := write(t, "bad.json", "{\n\"panels\": [\n}")
		_, _, err := dashboards.Load([]string{path})
		if err == nil || !strings.HasPrefix(err.Error(), path+": invalid JSON at line 3") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("A broken expression is recorded on its query, not fatal.", func(t *testing.T) {
		ds, _, err := dashboards.Load([]string{write(t, "b.json", `{"panels": [{"title": "Bad", "targets": [{"expr": "sum(rate(x[5m])"}]}]}`)})
		if err != nil || len(ds) != 1 {
			t.Fatalf("dashboards %+v, err %v", ds, err)
		}
		if q := ds[0].Queries[0]; q.Parsed != nil || q.ParseError == "" || q.Panel != "Bad" {
			t.Errorf("query %+v", q)
		}
	})
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func TestVariables(t *testing.T) {
	ds, _, err := dashboards.ParseJSON("v.json", []byte(`{"uid": "v", "panels": [], "templating": {"list": [
	  {"name": "env", "type": "custom", "query": "Production : prod, staging,a\\,b"},
	  {"name": "fixed", "type": "constant", "query": " payments "},
	  {"name": "saved", "type": "custom", "query": "", "options": [{"value": "$__all"}, {"value": "x"}]},
	  {"name": "free", "type": "textbox", "query": "api"},
	  {"name": "all", "type": "query", "query": "label_values(job)", "regex": "/api.*/", "includeAll": true},
	  {"name": "loki", "type": "query", "datasource": {"type": "loki", "uid": "l"}, "query": "label_values({app=\"x\"}, job)"},
	  {"name": "svc", "type": "query", "query": "query_result(count by (service) (up))"}]}}`))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %d", err, len(ds))
	}
	vars := ds[0].Variables
	if len(vars) != 7 {
		t.Fatalf("variables %+v", vars)
	}
	t.Run("A custom variable lists its values; text : value keeps the value and \\, escapes a comma.", func(t *testing.T) {
		if got := vars[0].Values; !slices.Equal(got, []string{"prod", "staging", "a,b"}) {
			t.Errorf("values %q", got)
		}
	})
	t.Run("A constant holds its trimmed value; a custom variable without a query, its saved options but All.", func(t *testing.T) {
		if !slices.Equal(vars[1].Values, []string{"payments"}) || !slices.Equal(vars[2].Values, []string{"x"}) {
			t.Errorf("constant %q, saved %q", vars[1].Values, vars[2].Values)
		}
	})
	t.Run("A textbox lists no values.", func(t *testing.T) {
		if vars[3].Type != "textbox" || vars[3].Values != nil {
			t.Errorf("textbox %+v", vars[3])
		}
	})
	t.Run("label_values(label) has no selector; the regex and All are kept.", func(t *testing.T) {
		v := vars[4]
		if v.Function != "label_values" || v.Label != "job" || v.Selector != nil || v.Regex != "/api.*/" || !v.IncludeAll {
			t.Errorf("all %+v", v)
		}
	})
	t.Run("A Loki variable is not Prometheus; query_result is recognised without a selector.", func(t *testing.T) {
		if vars[5].Prometheus || vars[6].Function != "query_result" || vars[6].Selector != nil {
			t.Errorf("loki %+v, svc %+v", vars[5], vars[6])
		}
	})
}

package dashboards

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/output"
	"github.com/blindspot-dev/blindspot/internal/golden"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

const hostileJob = `a"} or vector(1) #`

func fixture() ([]coverage.JobCoverage, map[string][]string, generate.Options) {
	matrix := []coverage.JobCoverage{
		{Job: hostileJob, Targets: 1},
		{
			Job: "api", Targets: 2, Up: 2,
			UpAlerts:     []coverage.RuleRef{{Name: "ApiDown", Group: "api", File: "api.yaml", Runbook: "https://runbooks.example.com/ApiDown.md"}},
			AbsentAlerts: []coverage.RuleRef{{Name: "ApiAbsent", Group: "api", File: "api.yaml"}},
			Business: []coverage.BusinessMetric{
				{Metric: "invoices_created_total", Kind: "counter", CoveredBy: []coverage.RuleRef{
					{Name: "InvoicesStopped", Group: "biz", File: "biz.yaml", Runbook: "https://runbooks.example.com/InvoicesStopped.md"},
				}},
				{Metric: "billing_last_success_timestamp_seconds", Kind: "staleness"},
			},
		},
	}
	streams := map[string][]string{"api": {`{namespace="prod", app="api"}`, `{job="api"}`}}
	o := generate.Options{GrafanaURL: "https://grafana.example.com/"}
	return matrix, streams, o
}

func generateFixture(t *testing.T) map[string][]byte {
	t.Helper()
	matrix, streams, o := fixture()
	files, err := Files(matrix, streams, o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Path] = f.Content
	}
	return out
}

func decode(t *testing.T, content []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(content, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// walk calls fn on every JSON object in v.
func walk(v any, fn func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		fn(v)
		for _, c := range v {
			walk(c, fn)
		}
	case []any:
		for _, c := range v {
			walk(c, fn)
		}
	}
}

// promExprs returns the expressions of every Prometheus query in doc.
func promExprs(doc map[string]any) []string {
	var out []string
	walk(doc, func(m map[string]any) {
		ds, _ := m["datasource"].(map[string]any)
		expr, ok := m["expr"].(string)
		if ok && ds != nil && ds["type"] == "prometheus" {
			out = append(out, expr)
		}
	})
	return out
}

func parseGrafanaPromQL(t *testing.T, expr string) parser.Expr {
	t.Helper()
	r := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "5m")
	e, err := parser.NewParser(parser.Options{}).ParseExpr(r.Replace(expr))
	if err != nil {
		t.Fatalf("%s does not parse: %v", expr, err)
	}
	return e
}

func TestGoldenFiles(t *testing.T) {
	t.Run("The dashboards of a small matrix with a hostile job name match the golden files.", func(t *testing.T) {
		for name, content := range generateFixture(t) {
			goldenPath := filepath.Join("testdata", filepath.FromSlash(name))
			golden.Check(t, goldenPath, content)
		}
	})
}

func TestFiles(t *testing.T) {
	files := generateFixture(t)
	apiName := "dashboards/" + promqlbuild.FileStem("api") + ".json"
	hostileName := "dashboards/" + promqlbuild.FileStem(hostileJob) + ".json"

	t.Run("One dashboard per job and an overview are generated.", func(t *testing.T) {
		var names []string
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		want := []string{"dashboards/a-or-vector-1.json", "dashboards/api.json", "dashboards/overview.json"}
		if !slices.Equal(names, want) {
			t.Errorf("files %v, want %v", names, want)
		}
		if hostileName != want[0] || apiName != want[1] {
			t.Errorf("stems changed: %s %s", hostileName, apiName)
		}
	})

	t.Run("The same input in another order gives the same bytes.", func(t *testing.T) {
		matrix, streams, o := fixture()
		slices.Reverse(matrix)
		slices.Reverse(streams["api"])
		again, err := Files(matrix, streams, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range again {
			if string(f.Content) != string(files[f.Path]) {
				t.Errorf("%s is not deterministic", f.Path)
			}
		}
	})

	t.Run("Every file passes the output package's generated-file check and ends with a newline.", func(t *testing.T) {
		for name, content := range files {
			if !output.Generated(name, content) {
				t.Errorf("%s is not recognised as generated", name)
			}
			if !strings.HasSuffix(string(content), "}\n") {
				t.Errorf("%s lacks a trailing newline", name)
			}
			tags, _ := decode(t, content)["tags"].([]any)
			if !slices.Contains(tags, any(Tag)) {
				t.Errorf("%s: tags %v lack %s", name, tags, Tag)
			}
		}
	})

	t.Run("Every PromQL expression parses with Grafana's intervals substituted.", func(t *testing.T) {
		n := 0
		for _, content := range files {
			for _, e := range promExprs(decode(t, content)) {
				parseGrafanaPromQL(t, e)
				n++
			}
		}
		if n < 10 {
			t.Errorf("only %d expressions found", n)
		}
	})

	t.Run("Every selector of the hostile job's dashboard matches exactly that job.", func(t *testing.T) {
		exprs := promExprs(decode(t, files[hostileName]))
		if len(exprs) == 0 {
			t.Fatal("no expressions")
		}
		for _, e := range exprs {
			for _, ms := range parser.ExtractSelectors(parseGrafanaPromQL(t, e)) {
				var job *labels.Matcher
				for _, m := range ms {
					if m.Name == "job" {
						job = m
					}
				}
				if job == nil || job.Type != labels.MatchEqual || job.Value != hostileJob {
					t.Errorf("%s: selector %v does not select exactly the job", e, ms)
				}
			}
		}
		logs := 0
		walk(decode(t, files[hostileName]), func(m map[string]any) {
			ds, _ := m["datasource"].(map[string]any)
			if expr, ok := m["expr"].(string); ok && ds != nil && ds["type"] == "loki" {
				logs++
				if !strings.Contains(expr, `{job="a\"} or vector(1) #"}`) {
					t.Errorf("Loki query %s does not quote the job", expr)
				}
			}
		})
		if logs != 2 {
			t.Errorf("%d Loki queries, want 2", logs)
		}
	})

	t.Run("Business rows hold the counter rate and the gauge's age.", func(t *testing.T) {
		exprs := promExprs(decode(t, files[apiName]))
		for _, want := range []string{
			`sum(rate(invoices_created_total{job="api"}[$__rate_interval]))`,
			`time() - billing_last_success_timestamp_seconds{job="api"}`,
			`ALERTS{job="api"} or ALERTS{alertname=~"ApiAbsent|ApiDown|InvoicesStopped"}`,
		} {
			if !slices.Contains(exprs, want) {
				t.Errorf("missing %s in %v", want, exprs)
			}
		}
	})

	t.Run("The uid is the one the rule generator writes into dashboard_url.", func(t *testing.T) {
		matrix, _, o := fixture()
		for _, jc := range matrix {
			name := "dashboards/" + promqlbuild.FileStem(jc.Job) + ".json"
			doc := decode(t, files[name])
			if doc["uid"] != promqlbuild.DashboardUID(jc.Job) {
				t.Errorf("%s: uid %v", name, doc["uid"])
			}
			if !strings.Contains(string(files["dashboards/overview.json"]), `"url": "`+o.DashboardURL(jc.Job)+`"`) {
				t.Errorf("overview lacks a link to %s", o.DashboardURL(jc.Job))
			}
		}
		if decode(t, files["dashboards/overview.json"])["uid"] != OverviewUID {
			t.Error("overview uid")
		}
	})

	t.Run("Runbooks are linked from the dashboard and from the alert-related panels.", func(t *testing.T) {
		doc := decode(t, files[apiName])
		var dashLinks []string
		for _, l := range doc["links"].([]any) {
			dashLinks = append(dashLinks, l.(map[string]any)["url"].(string))
		}
		for _, rb := range []string{"https://grafana.example.com/d/bs-overview", "https://runbooks.example.com/ApiDown.md", "https://runbooks.example.com/InvoicesStopped.md"} {
			if !slices.Contains(dashLinks, rb) {
				t.Errorf("dashboard links %v lack %s", dashLinks, rb)
			}
		}
		panelLinks := map[string][]string{}
		for _, p := range doc["panels"].([]any) {
			p := p.(map[string]any)
			links, _ := p["links"].([]any)
			for _, l := range links {
				panelLinks[p["title"].(string)] = append(panelLinks[p["title"].(string)], l.(map[string]any)["url"].(string))
			}
		}
		want := map[string][]string{
			"Targets up":                     {"https://runbooks.example.com/ApiDown.md"},
			"Rate of invoices_created_total": {"https://runbooks.example.com/InvoicesStopped.md"},
			"Alerts":                         {"https://runbooks.example.com/ApiDown.md", "https://runbooks.example.com/InvoicesStopped.md"},
		}
		for title, urls := range want {
			if !slices.Equal(panelLinks[title], urls) {
				t.Errorf("panel %q links %v, want %v", title, panelLinks[title], urls)
			}
		}
	})

	t.Run("Explore links keep the Loki variable, even for the hostile job.", func(t *testing.T) {
		for _, name := range []string{apiName, hostileName} {
			found := false
			for _, l := range decode(t, files[name])["links"].([]any) {
				u := l.(map[string]any)["url"].(string)
				if strings.Contains(u, "/explore?") {
					found = true
					if !strings.Contains(u, "%22datasource%22%3A%22${loki}%22") || strings.Contains(u, "%24%7Bloki%7D") {
						t.Errorf("%s: Explore link %s does not use ${loki} as its datasource", name, u)
					}
				}
			}
			if !found {
				t.Errorf("%s has no Explore link", name)
			}
		}
	})

	t.Run("No datasource uid is hard-coded.", func(t *testing.T) {
		for name, content := range files {
			doc := decode(t, content)
			walk(doc, func(m map[string]any) {
				ds, ok := m["datasource"].(map[string]any)
				if !ok {
					if s, isString := m["datasource"].(string); isString {
						t.Errorf("%s: datasource %q given as a string", name, s)
					}
					return
				}
				if uid := ds["uid"]; uid != "${prometheus}" && uid != "${loki}" {
					t.Errorf("%s: datasource uid %v", name, uid)
				}
			})
			var vars []string
			for _, v := range doc["templating"].(map[string]any)["list"].([]any) {
				v := v.(map[string]any)
				if v["type"] == "datasource" {
					vars = append(vars, v["name"].(string)+"="+v["query"].(string))
				}
			}
			if !slices.Equal(vars, []string{"prometheus=prometheus", "loki=loki"}) {
				t.Errorf("%s: datasource variables %v", name, vars)
			}
		}
	})
}

func TestReplaceOutsideStrings(t *testing.T) {
	t.Run("A range inside a quoted label value is left alone.", func(t *testing.T) {
		got, n := replaceOutsideStrings(`rate(x{job="[1d]\"[1d]"}[1d])`, "[1d]", "[$__rate_interval]")
		if want := `rate(x{job="[1d]\"[1d]"}[$__rate_interval])`; got != want || n != 1 {
			t.Errorf("got %s (%d), want %s", got, n, want)
		}
	})
}

func TestARunbookLinkThatIsNotAWebLinkIsNotCopiedIntoTheDashboards(t *testing.T) {
	matrix, streams, o := fixture()
	matrix[1].UpAlerts[0].Runbook = " JaVaScRiPt:alert(document.cookie)"
	matrix[1].Business[0].CoveredBy[0].Runbook = "data:text/html;base64,PHNjcmlwdD4="
	matrix[1].AbsentAlerts[0].Runbook = "runbooks/ApiAbsent.md"
	files, err := Files(matrix, streams, o)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, f := range files {
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if u, ok := v["url"].(string); ok {
					urls = append(urls, u)
				}
				for _, c := range v {
					walk(c)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			}
		}
		walk(decode(t, f.Content))
	}
	for _, u := range urls {
		if l := strings.ToLower(u); strings.Contains(l, "javascript:") || strings.HasPrefix(l, "data:") {
			t.Errorf("a dashboard links %q", u)
		}
	}
	if !slices.Contains(urls, "runbooks/ApiAbsent.md") {
		t.Errorf("the relative runbook link is missing from %v", urls)
	}
}

package report_test

import (
	"bytes"
	"cmp"
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/blindspot-dev/blindspot"
	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// demoReport is the report of the embedded demo snapshot, as `blindspot audit` with no source
// writes it.
func demoReport(t testing.TB) report.Report {
	t.Helper()
	res, err := collect.Run(context.Background(), collect.Options{
		Snapshot: blindspot.DemoSnapshot(), SnapshotName: "demo", SnapshotKind: "demo",
	})
	if err != nil {
		t.Fatal(err)
	}
	inv := res.Inventory
	return audit(inv, checks.Policy{Now: generatedAt}, coverage.Analyze(inv, coverage.Options{}).Matrix())
}

// The payloads of hostileReport. Each sets window.__pwned if it ever runs.
const (
	scriptJob    = `<script>window.__pwned="job"</script>`
	alertJob     = `<script>alert(1)</script>`
	imgJob       = `"quoted' </td></tr><img src=x onerror="window.__pwned='img'">`
	jsURL        = `javascript:window.__pwned='url'`
	hostileLine  = `</code></td><script>window.__pwned="error"</script>`
	hostileLabel = `</dd><svg onload="window.__pwned='svg'">`
)

// hostileReport is an audit whose every value from the monitored systems tries to inject
// markup or script into the HTML page: job names, a scrape error, a scrape URL and a runbook
// link with the javascript: scheme, a stream label and a secret example.
func hostileReport() report.Report {
	b := analyze.NewBuilder(collectedAt)
	b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090"})
	b.AddSource(analyze.Source{Name: "loki", Kind: "live", URL: "http://loki:3100", Notes: []string{hostileLabel}})
	for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartConfig, analyze.PartRules, analyze.PartJobMetrics, analyze.PartLogStreams, analyze.PartLogSecrets} {
		b.AddPart(p)
	}
	b.AddConfiguredJob(alertJob, []string{"static"}, 0)
	b.AddTarget(analyze.Target{Job: scriptJob, ScrapePool: scriptJob, Instance: "10.0.0.66:80", ScrapeURL: jsURL,
		Health: analyze.HealthDown, LastError: hostileLine})
	b.AddTarget(analyze.Target{Job: imgJob, ScrapePool: imgJob, Instance: "10.0.0.67:80", ScrapeURL: "http://10.0.0.67:80/metrics",
		Labels: map[string]string{"job": imgJob}, Health: analyze.HealthUp})
	b.AddTarget(analyze.Target{Job: "node", ScrapePool: "node", Instance: "10.0.0.1:9100", ScrapeURL: "http://10.0.0.1:9100/metrics",
		Labels: map[string]string{"job": "node"}, Health: analyze.HealthUp})
	b.AddRuleGroup(analyze.RuleGroup{Name: "g", File: "rules.yml", Language: "promql", Rules: []analyze.Rule{
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "ScriptDown", Group: "g", File: "rules.yml",
			Expr:        `up{job="<script>window.__pwned=\"job\"</script>"} == 0`,
			Labels:      map[string]string{"severity": "critical"},
			Annotations: map[string]string{"runbook_url": jsURL}}),
	}})
	b.SetLogs(analyze.Logs{
		Window: time.Hour,
		Streams: []analyze.LogStream{
			{Labels: map[string]string{"job": "node"}, Selector: `{job="node"}`, Entries: -1},
			{Labels: map[string]string{"job": imgJob}, Selector: `{job="` + imgJob + `"}`, Entries: -1},
		},
		Secrets: []analyze.SecretHit{{
			Stream: `{job="node"}`, Labels: map[string]string{"job": "node"}, Pattern: "bearer-token", Count: 3,
			Example: `Authorization: Bearer **** <img src=x onerror="window.__pwned='example'">`,
		}},
	})
	return buildReport(b.Build())
}

func renderHTML(t testing.TB, r report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r, report.HTMLOptions{Version: "v0.0.0-test"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parseHTML parses a page the way a browser does.
func parseHTML(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// walk calls fn on every element under n.
func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

func TestHTML(t *testing.T) {
	t.Run("The HTML report of the demo snapshot matches testdata/report.html.", func(t *testing.T) {
		golden(t, "report.html", renderHTML(t, demoReport(t)))
	})

	t.Run("The page loads nothing: no external script, style sheet, image or font.", func(t *testing.T) {
		for _, r := range []report.Report{demoReport(t), goldenReport(), hostileReport()} {
			walk(parseHTML(t, renderHTML(t, r)), func(n *html.Node) {
				for _, key := range []string{"src", "srcset", "data", "action", "poster"} {
					if v, ok := attr(n, key); ok {
						t.Errorf("<%s %s=%q> loads something", n.Data, key, v)
					}
				}
				if rel, _ := attr(n, "rel"); n.Data == "link" && rel != "" {
					t.Errorf("<link rel=%q> loads something", rel)
				}
			})
		}
	})

	t.Run("Hostile values from the monitored systems stay text: one script element, no event handler, no javascript: link.", func(t *testing.T) {
		page := renderHTML(t, hostileReport())
		if bytes.Contains(page, []byte("ZgotmplZ")) {
			t.Error("html/template had to defuse an unsafe value: the renderer handed it one (ZgotmplZ in the page)")
		}
		doc := parseHTML(t, page)
		scripts, jobs := 0, map[string]bool{}
		walk(doc, func(n *html.Node) {
			switch n.Data {
			case "script":
				scripts++
			case "img", "svg":
				t.Errorf("injected <%s> element", n.Data)
			case "th":
				if class, _ := attr(n, "class"); class == "job" {
					jobs[text(n)] = true
				}
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s %s=%q>: an event handler", n.Data, a.Key, a.Val)
				}
				if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(a.Val, "#") && !strings.HasPrefix(a.Val, "http://") && !strings.HasPrefix(a.Val, "https://") {
					t.Errorf("<%s %s=%q>: a link that is not http(s) nor an anchor", n.Data, a.Key, a.Val)
				}
			}
		})
		if scripts != 1 {
			t.Errorf("%d script elements, want the page's own", scripts)
		}
		for _, j := range []string{scriptJob, imgJob, "node"} {
			if !jobs[j] {
				t.Errorf("the matrix has no row showing job %q as text; rows: %v", j, jobs)
			}
		}
		body := text(doc)
		for _, want := range []string{hostileLine, jsURL, hostileLabel, `onerror="window.__pwned='example'"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page does not show %q as text", want)
			}
		}
	})

	t.Run("An http scrape URL in a finding's details is a link; any other scheme is text.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartTargets)
		b.AddTarget(analyze.Target{Job: "a", Instance: "a:80", ScrapeURL: "http://a:80/metrics", Health: analyze.HealthDown})
		b.AddTarget(analyze.Target{Job: "b", Instance: "b:80", ScrapeURL: "data:text/html,<b>x</b>", Health: analyze.HealthDown})
		var hrefs []string
		page := renderHTML(t, buildReport(b.Build()))
		if bytes.Contains(page, []byte("ZgotmplZ")) {
			t.Error("the data: URL reached an href (html/template defused it as ZgotmplZ)")
		}
		walk(parseHTML(t, page), func(n *html.Node) {
			if href, ok := attr(n, "href"); ok && n.Data == "a" && !strings.HasPrefix(href, "#") && !strings.Contains(href, "/docs/checks/") {
				hrefs = append(hrefs, href)
			}
		})
		if len(hrefs) != 1 || hrefs[0] != "http://a:80/metrics" {
			t.Errorf("links = %q, want only the http scrape URL", hrefs)
		}
	})

	t.Run("A source that could not be read completely is flagged, with what failed and what is missing.", func(t *testing.T) {
		doc := parseHTML(t, renderHTML(t, goldenReport()))
		var state, alarm string
		walk(doc, func(n *html.Node) {
			if class, _ := attr(n, "class"); n.Data == "tr" && class == "partial" {
				state = text(n)
			}
			if class, _ := attr(n, "class"); class == "alarm" {
				alarm = text(n)
			}
		})
		for _, want := range []string{
			"could not read metric_names, metadata: read tcp 10.0.0.1:41234->10.0.0.2:9090: connection reset by peer",
			"not available: buildinfo (/api/v1/status/buildinfo is not served (HTTP 404))",
		} {
			if !strings.Contains(state, want) {
				t.Errorf("the partial source's row lacks %q:\n%s", want, state)
			}
		}
		if !strings.Contains(alarm, "could not be read completely") {
			t.Errorf("no warning that the report is partial (got %q)", alarm)
		}
	})

	t.Run("Each gap cell links to the findings behind it.", func(t *testing.T) {
		rep := demoReport(t)
		ids := map[string]string{}
		for _, f := range rep.Findings {
			ids[f.ID] = f.Check + " " + cmp.Or(f.Subject["job"], f.Details["job"]) + f.Subject["rule"]
		}
		cells := matrixCells(t, renderHTML(t, rep))
		for _, tc := range []struct{ job, column, want string }{
			{"payments-api", "scraped", "targets/down payments-api"},
			{"legacy-app", "scraped", "jobs/no-targets legacy-app"},
			{"payments-api", "up alert", "alerts/missing-up payments-api"},
			{"legacy-app", "absence alert", "alerts/missing-absent legacy-app"},
			{"billing", "business", "alerts/missing-business billing"},
			{"node", "runbooks", "alerts/no-runbook "},
			{"pushgateway", "logs", "logs/unaggregated pushgateway"},
			{"node", "secrets", "logs/secrets node"},
			{"prometheus", "dashboards", "dashboards/missing prometheus"},
			{"legacy-app", "pages someone", "alerts/unrouted "},
		} {
			c, ok := cells[tc.job+"/"+tc.column]
			if !ok {
				t.Errorf("no cell %s/%s", tc.job, tc.column)
				continue
			}
			if c.state != "gap" || c.href == "" {
				t.Errorf("cell %s/%s = %+v, want a gap with a link", tc.job, tc.column, c)
				continue
			}
			for _, id := range strings.Fields(c.findings) {
				if got := ids[id]; !strings.HasPrefix(got, tc.want) {
					t.Errorf("cell %s/%s links finding %s (%q), want %q", tc.job, tc.column, id, got, tc.want)
				}
			}
			if c.href != "#f-"+strings.Fields(c.findings)[0] {
				t.Errorf("cell %s/%s href %q is not its first finding %q", tc.job, tc.column, c.href, c.findings)
			}
		}
		if c := cells["node/up alert"]; c.state != "covered" || c.href != "" {
			t.Errorf("node/up alert = %+v, want covered without a link", c)
		}
		for _, cell := range []string{"node/logs", "prometheus/secrets", "node/dashboards", "node/pages someone"} {
			if c := cells[cell]; c.state != "covered" || c.href != "" {
				t.Errorf("%s = %+v, want covered without a link", cell, c)
			}
		}
		// The golden audit read no Loki.
		if c := matrixCells(t, renderHTML(t, goldenReport()))["node/logs"]; c.state != "unknown" || !strings.Contains(c.title, "logs/unaggregated did not run: no log_streams") {
			t.Errorf("node/logs = %+v, want unknown saying why", c)
		}
	})
}

type htmlCell struct{ state, title, href, findings string }

// matrixCells indexes the matrix cells of a page by "job/column heading".
func matrixCells(t *testing.T, page []byte) map[string]htmlCell {
	t.Helper()
	out := map[string]htmlCell{}
	walk(parseHTML(t, page), func(n *html.Node) {
		if id, _ := attr(n, "id"); n.Data != "table" || id != "matrix" {
			return
		}
		var headings []string
		walk(n, func(tr *html.Node) {
			if tr.Data != "tr" {
				return
			}
			var job string
			col := 0
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type != html.ElementNode {
					continue
				}
				if c.Parent.Parent.Data == "thead" {
					headings = append(headings, text(c))
					continue
				}
				if c.Data == "th" {
					job = text(c)
					col = 1
					continue
				}
				cell := htmlCell{}
				cell.state, _ = attr(c, "data-state")
				cell.title, _ = attr(c, "title")
				walk(c, func(a *html.Node) {
					if a.Data == "a" {
						cell.href, _ = attr(a, "href")
						cell.findings, _ = attr(a, "data-findings")
					}
				})
				out[job+"/"+headings[col]] = cell
				col++
			}
		})
	})
	return out
}

func TestMatrixLogColumns(t *testing.T) {
	inv := func() *analyze.Inventory {
		b := analyze.NewBuilder(collectedAt)
		for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartLogStreams, analyze.PartLogSecrets} {
			b.AddPart(p)
		}
		for _, j := range []string{"api", "web", "worker"} {
			b.AddTarget(analyze.Target{Job: j, Instance: j + ":80", Labels: map[string]string{"job": j}, Health: analyze.HealthUp})
		}
		b.AddTarget(analyze.Target{Job: "down", Instance: "down:80", Labels: map[string]string{"job": "down"}, Health: analyze.HealthDown})
		b.SetLogs(analyze.Logs{
			Window: time.Hour,
			Streams: []analyze.LogStream{
				{Labels: map[string]string{"job": "api"}, Selector: `{job="api"}`, Entries: -1},
				{Labels: map[string]string{"job": "web"}, Selector: `{job="web"}`, Entries: -1},
			},
			Secrets: []analyze.SecretHit{{Stream: `{job="web"}`, Labels: map[string]string{"job": "web"}, Pattern: "aws-key", Count: 1, Example: "key=****"}},
		})
		return b.Build()
	}()
	all := auditChecks()
	row := func(t *testing.T, p checks.Policy, job string) (logs, secrets htmlCell) {
		t.Helper()
		rep := report.Build(report.Input{Inventory: inv, Result: checks.Run(inv, nil, all, p), Checks: all,
			Matrix: checks.Derive(inv, checks.Options{}).Matrix, Now: generatedAt})
		cells := matrixCells(t, renderHTML(t, rep))
		return cells[job+"/logs"], cells[job+"/secrets"]
	}

	t.Run("A job whose logs reach Loki without a secret is covered in both columns.", func(t *testing.T) {
		if logs, secrets := row(t, checks.Policy{}, "api"); logs.state != "covered" || secrets.state != "covered" {
			t.Errorf("logs %+v, secrets %+v", logs, secrets)
		}
	})
	t.Run("A job with a secret in its logs is a secrets gap linking the finding.", func(t *testing.T) {
		if logs, secrets := row(t, checks.Policy{}, "web"); logs.state != "covered" || secrets.state != "gap" || secrets.href == "" {
			t.Errorf("logs %+v, secrets %+v", logs, secrets)
		}
	})
	t.Run("A job whose logs reach no stream is a logs gap, and has no secrets to judge.", func(t *testing.T) {
		if logs, secrets := row(t, checks.Policy{}, "worker"); logs.state != "gap" || logs.href == "" || secrets.state != "none" {
			t.Errorf("logs %+v, secrets %+v", logs, secrets)
		}
	})
	t.Run("A job without a healthy target has nothing to judge.", func(t *testing.T) {
		if logs, _ := row(t, checks.Policy{}, "down"); logs.state != "none" {
			t.Errorf("logs %+v", logs)
		}
	})
	t.Run("A disabled log check leaves its column unknown and says so: only its findings tell.", func(t *testing.T) {
		logs, secrets := row(t, checks.Policy{Disabled: []string{checks.LogsUnaggregatedName}}, "worker")
		if logs.state != "unknown" || !strings.Contains(logs.title, "logs/unaggregated is disabled") || secrets.state != "covered" {
			t.Errorf("logs %+v, secrets %+v", logs, secrets)
		}
	})
}

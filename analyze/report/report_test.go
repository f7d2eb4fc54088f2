package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/report"
	goldenfile "github.com/blindspot-dev/blindspot/internal/golden"
)

var (
	collectedAt = time.Date(2026, 11, 26, 2, 59, 58, 0, time.UTC)
	// generatedAt is in another zone on purpose: reports are always written in UTC.
	generatedAt = time.Date(2026, 11, 26, 4, 0, 0, 0, time.FixedZone("CET", 3600))
)

// hostileJob carries everything a job name must not be able to do to a report: close a JSON
// string or object, start a comment, inject HTML.
const hostileJob = `evil"}# <script>alert(1)</script>`

// hostileError tries to fake a line of its own and to paint the terminal.
const hostileError = "dial tcp 10.0.0.66:80: connect: connection refused\n\x1b[31mCRITICAL everything is fine"

// auditSkipped are the checks an audit of auditInventory skips, with the parts they miss: the
// prometheus source could not read the metric names, and no history, Loki, Grafana or
// Alertmanager was read.
var auditSkipped = []report.SkippedCheck{
	// No history was read (probes/failing runs: it judges probe jobs' coverage without it).
	{Check: "jobs/vanished", Missing: []string{"history"}},
	{Check: "business/flatlined", Missing: []string{"history"}},
	{Check: "business/stale-success", Missing: []string{"history"}},
	{Check: "rules/unknown-metric", Missing: []string{"metric_names"}},
	// The runbook links were not fetched.
	{Check: "alerts/broken-runbook", Missing: []string{"runbook_links"}},
	{Check: "alerts/never-fired", Missing: []string{"history"}},
	{Check: "alerts/always-firing", Missing: []string{"history"}},
	{Check: "alerts/flapping", Missing: []string{"history"}},
	{Check: "logs/unaggregated", Missing: []string{"log_streams"}},
	{Check: "logs/secrets", Missing: []string{"log_secrets"}},
	{Check: "logs/stopped", Missing: []string{"log_history"}},
	{Check: "dashboards/missing", Missing: []string{"dashboards"}},
	// No Alertmanager was read.
	{Check: "alertmanager/not-connected", Missing: []string{"alertmanagers"}},
	{Check: "alerts/unrouted", Missing: []string{"alertmanager_config"}},
	{Check: "alerts/silenced", Missing: []string{"silences"}},
	{Check: "alertmanager/no-watchdog", Missing: []string{"alertmanager_config"}},
	{Check: "alerts/no-owner", Missing: []string{"alertmanager_config"}},
	// No kube-state-metrics series were read.
	{Check: "workloads/unscraped", Missing: []string{"kubernetes"}},
	{Check: "services/unscraped", Missing: []string{"kubernetes"}},
	{Check: "namespaces/unmonitored", Missing: []string{"kubernetes"}},
	{Check: "pods/not-ready-unalerted", Missing: []string{"kubernetes"}},
	{Check: "pods/crashloop-unalerted", Missing: []string{"kubernetes"}},
	{Check: "pods/not-ready", Missing: []string{"kubernetes"}},
	{Check: "pods/crashlooping", Missing: []string{"kubernetes"}},
}

// auditInventory is a small setup with one of everything the report shows: a partly readable
// source, a rule-files source with a note, down targets, jobs without targets for both causes,
// rules of every kind (one failing, some without runbook or severity), business metrics, and
// hostile values from the monitored systems.
func auditInventory() *analyze.Inventory {
	b := analyze.NewBuilder(collectedAt)
	b.AddSource(analyze.Source{
		Name: "prometheus", Kind: "live", URL: "http://prometheus:9090",
		Errors: []analyze.SourceError{
			{Part: analyze.PartMetricNames, Err: "read tcp 10.0.0.1:41234->10.0.0.2:9090: connection reset by peer"},
			{Part: analyze.PartMetadata, Err: "read tcp 10.0.0.1:41234->10.0.0.2:9090: connection reset by peer"},
		},
		Missing: []analyze.MissingPart{{Part: analyze.PartBuildInfo, Reason: "/api/v1/status/buildinfo is not served (HTTP 404)"}},
	})
	b.AddSource(analyze.Source{
		Name: "rules", Kind: "files", URL: "rules/a.yml,rules/b.yml",
		Notes: []string{"skipped group \"logs\" in rules/b.yml: not PromQL (type vlogs)\x1b]0;pwned\x07"},
	})
	for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartConfig, analyze.PartRules, analyze.PartJobMetrics} {
		b.AddPart(p)
	}

	b.AddConfiguredJob(hostileJob, []string{"static"}, 0)
	b.AddConfiguredJob("node", []string{"static"}, 1)
	b.AddConfiguredJob("kubernetes-pods", []string{"kubernetes"}, 3)
	b.AddConfiguredJob("blackbox", []string{"file"}, 2)
	b.SetDropped("kubernetes-pods", 4)
	b.AddTarget(analyze.Target{
		Job: hostileJob, ScrapePool: hostileJob, Instance: "10.0.0.66:80", ScrapeURL: "http://10.0.0.66:80/metrics",
		Health: analyze.HealthDown, LastError: hostileError,
		LastScrape: collectedAt.Add(-10 * time.Second), LastScrapeDuration: 2500 * time.Microsecond,
	})
	b.AddTarget(analyze.Target{
		Job: "node", ScrapePool: "node", Instance: "10.0.0.1:9100", ScrapeURL: "http://10.0.0.1:9100/metrics",
		Health: analyze.HealthUp, LastScrape: collectedAt.Add(-5 * time.Second),
	})
	b.AddTarget(analyze.Target{
		Job: "node", ScrapePool: "node", Instance: "10.0.0.2:9100", ScrapeURL: "http://10.0.0.2:9100/metrics",
		Health: analyze.HealthDown,
	})
	b.AddTarget(analyze.Target{
		Job: "pushgateway", ScrapePool: "pushgateway", Instance: "pgw:9091", ScrapeURL: "http://pgw:9091/metrics",
		Health: analyze.HealthUnknown,
	})
	b.AddJobMetric("pushgateway", "jobs_processed_total")
	b.AddJobMetric("pushgateway", "batch_last_success_timestamp_seconds")

	rule := func(group, file string, r analyze.Rule) analyze.Rule {
		r.Group, r.File = group, file
		return analyze.NewRule(r)
	}
	b.AddRuleGroup(analyze.RuleGroup{Name: "node.rules", File: "rules/a.yml", Language: "promql", Rules: []analyze.Rule{
		rule("node.rules", "rules/a.yml", analyze.Rule{
			Kind: analyze.RuleAlerting, Name: "NodeDown", Expr: `up{job="node"} == 0`, Health: "ok",
			Labels:      map[string]string{"severity": "critical"},
			Annotations: map[string]string{"runbook_url": "https://runbooks.example/NodeDown"},
		}),
		rule("node.rules", "rules/a.yml", analyze.Rule{Kind: analyze.RuleRecording, Name: "job:up:sum", Expr: `sum by (job) (up)`, Health: "ok"}),
		rule("node.rules", "rules/a.yml", analyze.Rule{Kind: analyze.RuleAlerting, Name: "Broken", Expr: `rate(x[5m]`}),
	}})
	b.AddRuleGroup(analyze.RuleGroup{Name: "batch.rules", File: "rules/batch.yml", Language: "promql", Rules: []analyze.Rule{
		rule("batch.rules", "rules/batch.yml", analyze.Rule{
			Kind: analyze.RuleAlerting, Name: "BatchStalled", Expr: `rate(jobs_processed_total{job="pushgateway"}[30m]) == 0`, Health: "ok",
			Labels: map[string]string{"severity": "warning"},
		}),
		rule("batch.rules", "rules/batch.yml", analyze.Rule{
			Kind: analyze.RuleAlerting, Name: "PaymentsErrors", Health: "err", LastError: failingRuleError,
			Expr:        `sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / on (job) rate(http_requests_total[5m]) > 0.05`,
			Labels:      map[string]string{"severity": "critical"},
			Annotations: map[string]string{"runbook_url": "https://runbooks.example/PaymentsErrors"},
		}),
	}})
	b.AddRuleGroup(analyze.RuleGroup{Name: "logs", File: "rules/b.yml", Language: "vlogs", Rules: []analyze.Rule{
		{Kind: analyze.RuleAlerting, Name: "ErrorLogs", Expr: `error | stats count()`, Group: "logs", File: "rules/b.yml", Line: 7},
	}})
	b.AddMetricNames([]string{"up", "node_load1", "go_goroutines"})
	return b.Build()
}

// failingRuleError is a real evaluation error, full of what Markdown reads as syntax.
const failingRuleError = `found duplicate series for the match group {job="payments"} on the right hand-side of the operation: ` +
	`[{__name__="http_requests_total", code="200", job="payments"}, {__name__="http_requests_total", code="500", job="payments"}];` +
	`many-to-many matching not allowed: matching labels must be unique on one side`

// auditMatrix is the coverage of auditInventory, written out: the report renders what the
// coverage analysis decided and is tested apart from how it decided.
func auditMatrix() []coverage.JobCoverage {
	nodeDown := coverage.RuleRef{Name: "NodeDown", Group: "node.rules", File: "rules/a.yml", Runbook: "https://runbooks.example/NodeDown"}
	batchStalled := coverage.RuleRef{Name: "BatchStalled", Group: "batch.rules", File: "rules/batch.yml"}
	return []coverage.JobCoverage{
		{Job: "blackbox"},
		{Job: hostileJob, Targets: 1},
		{Job: "kubernetes-pods"},
		{Job: "node", Targets: 2, Up: 1, UpAlerts: []coverage.RuleRef{nodeDown}},
		{Job: "pushgateway", Targets: 1, Business: []coverage.BusinessMetric{
			{Metric: "batch_last_success_timestamp_seconds", Kind: "staleness"},
			{Metric: "jobs_processed_total", Kind: "counter", CoveredBy: []coverage.RuleRef{batchStalled}},
		}},
	}
}

// auditPolicy turns one check off and accepts one finding, so that the report shows both.
func auditPolicy() checks.Policy {
	return checks.Policy{
		Now:      generatedAt,
		Disabled: []string{"alerts/missing-absent"},
		Ignore: []checks.Ignore{{
			Check: checks.AlertsNoSeverityName, Subject: map[string]string{"rule": "Error*"},
			Reason: "vmalert sets the severity of log alerts", Expires: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC),
		}},
	}
}

// auditChecks is the registry the audits run with: every check, in registry order.
func auditChecks() []checks.Check { return checks.All(checks.Options{}) }

// audit audits as the CLI does, with the dashboards the inventory holds, but with the
// coverage matrix given.
func audit(inv *analyze.Inventory, p checks.Policy, matrix []coverage.JobCoverage) report.Report {
	all := auditChecks()
	d := checks.Derive(inv, checks.Options{})
	return report.Build(report.Input{
		Inventory: inv,
		Result:    checks.Run(inv, d, all, p),
		Checks:    all,
		Matrix:    matrix,
		// As the CLI does: nil without an Alertmanager configuration, which leaves the column unknown.
		Pages:      d.Pages,
		Now:        generatedAt,
		Dashboards: d.Dashboards,
	})
}

// goldenReport is the report of the golden files.
func goldenReport() report.Report { return audit(auditInventory(), auditPolicy(), auditMatrix()) }

// buildReport audits inv without policy, with the coverage analysis's own matrix.
func buildReport(inv *analyze.Inventory) report.Report {
	return audit(inv, checks.Policy{Now: generatedAt}, coverage.Analyze(inv, coverage.Options{}).Matrix())
}

func renderJSON(t *testing.T, r report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func renderText(t *testing.T, r report.Report, color bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteText(&buf, r, report.TextOptions{Color: color}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func renderMarkdown(t *testing.T, r report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	rep := goldenReport()

	t.Run("The JSON report of a small audit matches testdata/report.json.", func(t *testing.T) {
		got := renderJSON(t, rep)
		if !json.Valid(got) {
			t.Fatalf("invalid JSON:\n%s", got)
		}
		golden(t, "report.json", got)
	})

	t.Run("The text report of a small audit matches testdata/report.txt.", func(t *testing.T) {
		golden(t, "report.txt", renderText(t, rep, false))
	})

	t.Run("The Markdown report of a small audit matches testdata/report.md.", func(t *testing.T) {
		golden(t, "report.md", renderMarkdown(t, rep))
	})
}

func TestJSON(t *testing.T) {
	t.Run("Hostile values cannot break out of their JSON strings or inject HTML.", func(t *testing.T) {
		data := renderJSON(t, goldenReport())
		if !json.Valid(data) {
			t.Fatalf("invalid JSON:\n%s", data)
		}
		for _, raw := range []string{"<script>", "\x1b", "\x07"} {
			if bytes.Contains(data, []byte(raw)) {
				t.Errorf("JSON contains %q unescaped", raw)
			}
		}
		var back struct {
			Findings []struct {
				Check   string            `json:"check"`
				Subject map[string]string `json:"subject"`
				Details map[string]string `json:"details"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		// The hostile job has two findings: its missing up alert and its down target, which
		// carries the hostile scrape error.
		var checksOfJob []string
		down := -1
		for i, f := range back.Findings {
			if f.Subject["job"] != hostileJob {
				continue
			}
			checksOfJob = append(checksOfJob, f.Check)
			if f.Check == checks.TargetsDownName && f.Subject["instance"] == "10.0.0.66:80" {
				down = i
			}
		}
		slices.Sort(checksOfJob)
		if want := []string{checks.AlertsMissingUpName, checks.TargetsDownName}; !slices.Equal(checksOfJob, want) {
			t.Errorf("findings with the hostile job name after the round trip: %q, want %q", checksOfJob, want)
		}
		if down < 0 {
			t.Fatalf("the down target of the hostile job did not survive the round trip")
		}
		if got := back.Findings[down].Details["last_error"]; got != hostileError {
			t.Errorf("last_error = %q, want %q", got, hostileError)
		}
	})

	t.Run("The JSON report decodes back into the same report.", func(t *testing.T) {
		rep := goldenReport()
		var back report.Report
		if err := json.Unmarshal(renderJSON(t, rep), &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.Findings, rep.Findings) {
			t.Errorf("findings after a round trip:\n%+v\nwant\n%+v", back.Findings, rep.Findings)
		}
		if !back.GeneratedAt.Equal(generatedAt) || !back.CollectedAt.Equal(collectedAt) {
			t.Errorf("times after a round trip: %v, %v", back.GeneratedAt, back.CollectedAt)
		}
		back.GeneratedAt, back.CollectedAt = rep.GeneratedAt, rep.CollectedAt
		if !reflect.DeepEqual(back, rep) {
			t.Errorf("report after a round trip:\n%+v\nwant\n%+v", back, rep)
		}
	})

	t.Run("Without findings, findings and checks_run are empty lists, not null.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090"})
		inv := b.Build() // no parts: every check is skipped
		data := renderJSON(t, buildReport(inv))
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if fs, ok := doc["findings"].([]any); !ok || len(fs) != 0 {
			t.Errorf("findings = %#v, want []", doc["findings"])
		}
		summary := doc["summary"].(map[string]any)
		if run, ok := summary["checks_run"].([]any); !ok || len(run) != 0 {
			t.Errorf("checks_run = %#v, want []", summary["checks_run"])
		}
		if !bytes.Contains(data, []byte(`"findings": []`)) {
			t.Errorf("JSON does not spell findings as []:\n%s", data)
		}
	})

	t.Run("Every field the JSON report writes is documented in docs/report.md, and every documented field is written.", func(t *testing.T) {
		documented := docFields(t)
		// A report with skipped checks writes the optional fields the golden one does not:
		// checks_skipped, and the unknown columns of the coverage row of its one job.
		partial := analyze.NewBuilder(collectedAt)
		partial.AddPart(analyze.PartTargets)
		partial.AddTarget(analyze.Target{Job: "node", ScrapePool: "node", Instance: "10.0.0.1:9100", Health: analyze.HealthUp})
		written := map[string]bool{}
		fleet := report.Merge([]report.Report{report.BuildMember(report.Input{
			Inventory: partial.Build(), Checks: checks.All(checks.Options{}), Now: collectedAt,
			Result: checks.Result{Skipped: []checks.Skipped{{Check: "jobs/no-targets", Missing: []analyze.Part{analyze.PartConfig}}}},
			Matrix: checks.Derive(partial.Build(), checks.Options{}).Matrix,
		}, map[string]string{"source": "eu"})})
		// An expired exception writes expired_exceptions.
		expired := auditPolicy()
		expired.Ignore[0].Expires = generatedAt.AddDate(0, 0, -1)
		// fullReport writes a fleet member's noise table.
		for _, r := range []report.Report{goldenReport(), buildReport(partial.Build()), fleet, audit(auditInventory(), expired, auditMatrix()), fullReport()} {
			var doc any
			if err := json.Unmarshal(renderJSON(t, r), &doc); err != nil {
				t.Fatal(err)
			}
			fieldPaths("", doc, written)
		}
		for p := range written {
			if !documented[p] {
				t.Errorf("field %s is written but not documented in docs/report.md", p)
			}
		}
		for p := range documented {
			if !written[p] {
				t.Errorf("field %s is documented in docs/report.md but never written", p)
			}
		}
	})
}

// docFields reads the field paths of the example in docs/report.md.
func docFields(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/report.md has no json example")
	}
	var example any
	if err := json.Unmarshal(m[1], &example); err != nil {
		t.Fatalf("the example in docs/report.md is not valid JSON: %v", err)
	}
	fields := map[string]bool{}
	fieldPaths("", example, fields)
	return fields
}

// fieldPaths collects the paths of object keys ("summary.targets.up", "findings[].id"). The
// keys of subject and details are data, not schema, so the walk stops there.
func fieldPaths(prefix string, v any, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			if k == "subject" || k == "details" {
				continue
			}
			fieldPaths(p, child, out)
		}
	case []any:
		for _, child := range v {
			fieldPaths(prefix+"[]", child, out)
		}
	}
}

func TestSummary(t *testing.T) {
	t.Run("The summary counts jobs, targets by health, rules by kind and the findings by severity, the suppressed apart.", func(t *testing.T) {
		got := goldenReport().Summary
		want := report.Summary{
			Jobs:        5,
			Targets:     report.TargetSummary{Up: 1, Down: 2, Unknown: 1},
			Rules:       report.RuleSummary{Groups: 3, Alerting: 5, Recording: 1, Unparseable: 1, NotPromQL: 1},
			MetricNames: 3,
			// critical: targets/down 2 (the hostile job's target, node's 10.0.0.2), alerts/missing-up
			// 4 (every job but node, whose NodeDown reads up), rules/broken 1 (PaymentsErrors);
			// warning: jobs/no-targets 2 (blackbox, kubernetes-pods), alerts/missing-business 1
			// (pushgateway's last-success gauge; BatchStalled watches its counter), alerts/no-runbook
			// 3 (BatchStalled, Broken, ErrorLogs); info: alerts/no-severity 1 (Broken; ErrorLogs's
			// is suppressed).
			Findings: report.FindingSummary{Critical: 7, Warning: 6, Info: 1, Total: 14, Suppressed: 1},
			// In registry order, without the disabled alerts/missing-absent and the skipped
			// rules/unknown-metric.
			ChecksRun: []string{
				"targets/down", "jobs/no-targets", "probes/failing", "alerts/missing-up", "alerts/missing-business",
				"rules/broken", "alerts/no-runbook", "alerts/no-severity",
			},
			// The prometheus source could not read the metric names.
			ChecksSkipped:  auditSkipped,
			ChecksDisabled: []string{"alerts/missing-absent"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("summary = %+v\nwant      %+v", got, want)
		}
	})

	t.Run("A check that did not run is listed as skipped with its missing parts, not as run.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartTargets)
		sum := buildReport(b.Build()).Summary
		if !slices.Equal(sum.ChecksRun, []string{"targets/down"}) {
			t.Errorf("checks_run = %v", sum.ChecksRun)
		}
		for _, want := range []report.SkippedCheck{
			{Check: "jobs/no-targets", Missing: []string{"config"}},
			{Check: "rules/broken", Missing: []string{"rules"}},
		} {
			if !slices.ContainsFunc(sum.ChecksSkipped, func(s report.SkippedCheck) bool { return reflect.DeepEqual(s, want) }) {
				t.Errorf("checks_skipped = %+v lacks %+v", sum.ChecksSkipped, want)
			}
		}
		if len(sum.ChecksSkipped) != len(auditChecks())-1 || sum.ChecksDisabled != nil {
			t.Errorf("checks_skipped = %+v, checks_disabled = %v", sum.ChecksSkipped, sum.ChecksDisabled)
		}
	})

	t.Run("A disabled check is listed as disabled, neither as run nor as skipped.", func(t *testing.T) {
		inv := auditInventory()
		all := auditChecks()
		rep := report.Build(report.Input{
			Inventory: inv, Checks: all, Now: generatedAt,
			Result: checks.Run(inv, nil, all, checks.Policy{Disabled: []string{"targets/down"}}),
		})
		sum := rep.Summary
		// rules/unknown-metric is skipped for lack of metric names, the log checks for lack of
		// Loki, whatever the policy.
		if slices.Contains(sum.ChecksRun, "targets/down") || !reflect.DeepEqual(sum.ChecksSkipped, auditSkipped) || !slices.Equal(sum.ChecksDisabled, []string{"targets/down"}) {
			t.Errorf("run %v, skipped %v, disabled %v", sum.ChecksRun, sum.ChecksSkipped, sum.ChecksDisabled)
		}
		// Without targets/down's two findings: critical are alerts/missing-up 4 and rules/broken 1;
		// warning now include alerts/missing-absent's 5 (no job has an absence alert), and info
		// both alerts without severity, as nothing is ignored.
		if want := (report.FindingSummary{Critical: 5, Warning: 11, Info: 2, Total: 18}); sum.Findings != want ||
			slices.ContainsFunc(rep.Findings, func(f analyze.Finding) bool { return f.Check == "targets/down" }) {
			t.Errorf("findings of the disabled check remain: %+v, want %+v", sum.Findings, want)
		}
	})

	t.Run("Reports are written in UTC whatever the zone of the clock.", func(t *testing.T) {
		rep := goldenReport()
		if rep.GeneratedAt.Location() != time.UTC || rep.GeneratedAt.Hour() != 3 {
			t.Errorf("generated_at = %v", rep.GeneratedAt)
		}
	})
}

func TestSources(t *testing.T) {
	t.Run("A report is partial when some source could not be read completely.", func(t *testing.T) {
		if !goldenReport().Partial() {
			t.Error("a report with a failed part is not partial")
		}
		b := analyze.NewBuilder(collectedAt)
		b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://thanos:9090",
			Missing: []analyze.MissingPart{{Part: analyze.PartConfig, Reason: "not served"}}})
		b.AddSource(analyze.Source{Name: "rules", Kind: "files", URL: "rules.yml"})
		if buildReport(b.Build()).Partial() {
			t.Error("a report whose sources only lack parts is partial")
		}
		if (report.Report{}).Partial() {
			t.Error("a report without sources is partial")
		}
	})

	t.Run("A source's error field joins its distinct errors, each once.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090", Errors: []analyze.SourceError{
			{Part: analyze.PartTargets, Err: "connection refused"},
			{Part: analyze.PartRules, Err: "connection refused"},
			{Part: analyze.PartConfig, Err: "HTTP 500: storage is on fire"},
		}})
		src := buildReport(b.Build()).Sources[0]
		if src.OK || src.Error != "connection refused; HTTP 500: storage is on fire" || len(src.Errors) != 3 {
			t.Errorf("source = %+v", src)
		}
	})

	t.Run("Parts that failed with the same error share one line of the text report.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddSource(analyze.Source{Name: "prometheus", Kind: "live", URL: "http://prometheus:9090", Errors: []analyze.SourceError{
			{Part: analyze.PartTargets, Err: "connection refused"},
			{Part: analyze.PartRules, Err: "HTTP 500: storage is on fire"},
			{Part: analyze.PartConfig, Err: "connection refused"},
		}})
		text := string(renderText(t, buildReport(b.Build()), false))
		for _, want := range []string{
			"    could not read targets, config: connection refused\n",
			"    could not read rules: HTTP 500: storage is on fire\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
		if n := strings.Count(text, "connection refused"); n != 1 {
			t.Errorf("the shared error is printed %d times:\n%s", n, text)
		}
	})
}

func TestText(t *testing.T) {
	rep := goldenReport()

	t.Run("Every finding is on one line of its own, with control characters shown escaped.", func(t *testing.T) {
		text := renderText(t, rep, false)
		for i, c := range text {
			if c < 0x20 && c != '\n' || c == 0x7f {
				t.Fatalf("byte %d is the control character %q:\n%s", i, c, text)
			}
		}
		lines := strings.Split(string(text), "\n")
		findingLine := regexp.MustCompile(`^  (CRITICAL|WARNING|INFO) \S+  `)
		var findings []string
		for _, l := range lines {
			if findingLine.MatchString(l) {
				findings = append(findings, l)
			}
		}
		if len(findings) != len(rep.Findings) {
			t.Fatalf("%d finding lines for %d findings:\n%s", len(findings), len(rep.Findings), text)
		}
		for i, f := range rep.Findings {
			if !strings.Contains(findings[i], f.Check) {
				t.Errorf("line %q is not about finding %d (%s)", findings[i], i, f.Check)
			}
		}
		if want := `is down: dial tcp 10.0.0.66:80: connect: connection refused\n\x1b[31mCRITICAL everything is fine`; !strings.Contains(string(text), want) {
			t.Errorf("the hostile error is not shown escaped as %q:\n%s", want, text)
		}
	})

	t.Run("Each finding shows its rule's location, its fix and its help page under its line.", func(t *testing.T) {
		text := string(renderText(t, rep, false))
		want := `  WARNING alerts/no-runbook  alert "ErrorLogs" has no runbook_url annotation
      line: 7
      in: rules/b.yml, group "logs"
      fix: blindspot generate writes runbooks/ErrorLogs.md and a runbook_url annotation in the generated rules
      help: docs/checks/alerts-no-runbook.md
`
		if !strings.Contains(text, want) {
			t.Errorf("text lacks\n%s\nin\n%s", want, text)
		}
		if n := strings.Count(text, "      help: docs/checks/"); n != len(rep.Findings) {
			t.Errorf("%d help lines for %d findings", n, len(rep.Findings))
		}
	})

	t.Run("A raw C1 byte that is not valid UTF-8 does not reach the terminal either.", func(t *testing.T) {
		// 0x9b alone is CSI to a terminal in 8-bit mode: "\x9b31m" paints like "\x1b[31m".
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartTargets)
		b.AddTarget(analyze.Target{Job: "node", Instance: "10.0.0.1:9100", Health: analyze.HealthDown, LastError: "bad \x9b31mred"})
		text := renderText(t, buildReport(b.Build()), false)
		if bytes.IndexByte(text, 0x9b) >= 0 || !utf8.Valid(text) {
			t.Errorf("raw 0x9b byte in the text report: %q", text)
		}
	})

	t.Run("With color the text has ANSI codes, without none at all.", func(t *testing.T) {
		if !bytes.Contains(renderText(t, rep, true), []byte("\x1b[")) {
			t.Error("no ANSI code with Color true")
		}
		if bytes.Contains(renderText(t, rep, false), []byte("\x1b")) {
			t.Error("an escape character with Color false")
		}
	})

	t.Run("Color paints the severities.", func(t *testing.T) {
		text := string(renderText(t, rep, true))
		for _, want := range []string{"\x1b[31mCRITICAL\x1b[0m", "\x1b[33mWARNING\x1b[0m", "\x1b[31mPARTIAL\x1b[0m"} {
			if !strings.Contains(text, want) {
				t.Errorf("colored text lacks %q", want)
			}
		}
	})

	t.Run("A report without findings says so.", func(t *testing.T) {
		b := analyze.NewBuilder(collectedAt)
		b.AddPart(analyze.PartTargets)
		text := string(renderText(t, buildReport(b.Build()), false))
		for _, want := range []string{"No findings.\n", "  check jobs/no-targets did not run: no config\n", "Findings: 0 critical, 0 warning, 0 info; 0 suppressed\n"} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("A failing writer fails the rendering.", func(t *testing.T) {
		errFull := errors.New("disk full")
		if err := report.WriteText(failingWriter{errFull}, rep, report.TextOptions{}); !errors.Is(err, errFull) {
			t.Errorf("WriteText = %v, want %v", err, errFull)
		}
		if err := report.WriteJSON(failingWriter{errFull}, rep); !errors.Is(err, errFull) {
			t.Errorf("WriteJSON = %v, want %v", err, errFull)
		}
	})
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

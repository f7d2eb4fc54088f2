package rules

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

func plan(t *testing.T, findings []analyze.Finding, o generate.Options) []generate.RuleFile {
	t.Helper()
	files, err := Plan(findings, o)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func allAlerts(files []generate.RuleFile) []generate.Alert {
	var out []generate.Alert
	for _, f := range files {
		out = append(out, f.Alerts...)
	}
	return out
}

func TestPlan(t *testing.T) {
	t.Run("A job with no up alert gets one scoped to exactly that job.", func(t *testing.T) {
		files := plan(t, []analyze.Finding{upFinding(ksmJob)}, generate.Options{Owners: []generate.Owner{{Jobs: "kube-*", Team: "platform"}}})
		if len(files) != 1 || len(files[0].Alerts) != 1 {
			t.Fatalf("got %+v", files)
		}
		f, a := files[0], files[0].Alerts[0]
		if f.Name != "kube-state-metrics" || f.Group != "blindspot-kube-state-metrics" {
			t.Errorf("file %s, group %s", f.Name, f.Group)
		}
		if a.Name != "KubeStateMetricsTargetDown" || a.Kind != generate.KindUp || a.For != 2*time.Minute {
			t.Errorf("alert %s, kind %s, for %s", a.Name, a.Kind, a.For)
		}
		if got, want := a.Expr.String(), `up{job="kube-state-metrics"} == 0`; got != want {
			t.Errorf("expr %s, want %s", got, want)
		}
		wantLabels := map[string]string{"severity": "critical", "team": "platform", "generated_by": "blindspot"}
		if !maps.Equal(a.Labels, wantLabels) {
			t.Errorf("labels %v, want %v", a.Labels, wantLabels)
		}
		if a.Runbook != "runbooks/KubeStateMetricsTargetDown.md" || a.Annotations["runbook_url"] != a.Runbook {
			t.Errorf("runbook %s, runbook_url %s", a.Runbook, a.Annotations["runbook_url"])
		}
		if _, ok := a.Annotations["dashboard_url"]; ok {
			t.Error("dashboard_url without a Grafana URL")
		}
		wantFiring := map[string]string{"job": ksmJob, "instance": "test:9100", "severity": "critical", "team": "platform", "generated_by": "blindspot"}
		if !maps.Equal(a.Test.FiringLabels, wantFiring) {
			t.Errorf("firing labels %v, want %v", a.Test.FiringLabels, wantFiring)
		}
	})

	t.Run("Absolute, relative and staleness alerts have the documented expressions.", func(t *testing.T) {
		findings := []analyze.Finding{
			businessFinding("shop", "orders_total", coverage.KindCounter),
			businessFinding("shop", "batch_last_success_timestamp_seconds", coverage.KindStaleness),
			absentFinding("shop"),
		}
		cases := []struct {
			o    generate.BusinessOptions
			want map[string]string
		}{
			{generate.BusinessOptions{}, map[string]string{
				"ShopAbsent":                `absent(up{job="shop"})`,
				"ShopOrdersStopped":         `rate(orders_total{job="shop"}[10m]) == 0`,
				"ShopBatchLastSuccessStale": `time() - batch_last_success_timestamp_seconds{job="shop"} > 90000`,
			}},
			{generate.BusinessOptions{Threshold: 0.25, Window: 5 * time.Minute, StaleAfter: time.Hour}, map[string]string{
				"ShopAbsent":                `absent(up{job="shop"})`,
				"ShopOrdersStopped":         `rate(orders_total{job="shop"}[5m]) <= 0.25`,
				"ShopBatchLastSuccessStale": `time() - batch_last_success_timestamp_seconds{job="shop"} > 3600`,
			}},
			{generate.BusinessOptions{Mode: ModeRelative, Ratio: 0.3}, map[string]string{
				"ShopAbsent":                `absent(up{job="shop"})`,
				"ShopOrdersDropped":         `rate(orders_total{job="shop"}[30m]) < 0.3 * rate(orders_total{job="shop"}[30m] offset 1w) and rate(orders_total{job="shop"}[30m] offset 1w) > 0`,
				"ShopBatchLastSuccessStale": `time() - batch_last_success_timestamp_seconds{job="shop"} > 90000`,
			}},
		}
		for _, c := range cases {
			got := map[string]string{}
			var order []string
			for _, a := range allAlerts(plan(t, findings, generate.Options{Business: c.o})) {
				got[a.Name] = a.Expr.String()
				order = append(order, a.Name)
				if a.Kind != generate.KindAbsent && a.For != 15*time.Minute {
					t.Errorf("%s: for %s, want 15m", a.Name, a.For)
				}
				if a.Labels["severity"] != "warning" {
					t.Errorf("%s: severity %s, want warning", a.Name, a.Labels["severity"])
				}
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("%+v: got %v, want %v", c.o, got, c.want)
			}
			if order[0] != "ShopAbsent" {
				t.Errorf("alerts in the order %v, want the absence alert first", order)
			}
		}
	})

	t.Run("Findings of other checks are ignored and duplicates merged.", func(t *testing.T) {
		fs := []analyze.Finding{
			upFinding("x"), upFinding("x"),
			analyze.NewFinding(checks.TargetsDownName, analyze.Warning, map[string]string{"job": "y"}, "", nil),
		}
		files := plan(t, fs, generate.Options{})
		if len(files) != 1 || len(files[0].Alerts) != 1 {
			t.Errorf("got %+v", files)
		}
		if files := plan(t, nil, generate.Options{}); len(files) != 0 {
			t.Errorf("no findings gave %+v", files)
		}
	})

	t.Run("Findings that name no job are listed as not generated, never rules that select the wrong series, and the rest is planned.", func(t *testing.T) {
		bad := []analyze.Finding{
			upFinding(""),
			analyze.NewFinding(checks.AlertsMissingAbsentName, analyze.Warning, map[string]string{}, "no subject", nil),
			businessFinding("x", "", coverage.KindCounter),
			businessFinding("x", "m_total", "histogram"),
			poolFinding(operatorPool, checks.PoolMetricNotStored),
		}
		files := plan(t, append(slices.Clone(bad), upFinding("good")), generate.Options{})
		if len(files) != 1 || files[0].Name != "good" || len(files[0].Alerts) != 1 {
			t.Errorf("planned %+v, want the up alert of job good only", files)
		}
		skipped := Unplanned(bad)
		if len(skipped) != len(bad) {
			t.Fatalf("unplanned = %q, want one line per finding", skipped)
		}
		for _, want := range []string{"names no job and no scrape pool", "names no metric", `unknown business metric kind "histogram"`, "does not store: make it scrape itself"} {
			if !slices.ContainsFunc(skipped, func(s string) bool { return strings.Contains(s, want) }) {
				t.Errorf("unplanned = %q, want a line saying %q", skipped, want)
			}
		}
	})

	t.Run("A scrape pool without targets gets an alert on Prometheus's own per-pool gauge, not absent(up{job=…}).", func(t *testing.T) {
		files := plan(t, []analyze.Finding{poolFinding(operatorPool, checks.PoolMetricStored)}, generate.Options{})
		if len(files) != 1 || len(files[0].Alerts) != 1 {
			t.Fatalf("files = %+v", files)
		}
		a := files[0].Alerts[0]
		if files[0].Name != "servicemonitor-monitoring-app-0" || a.Name != "ServiceMonitorMonitoringApp0NoTargets" ||
			a.Kind != generate.KindPoolEmpty || a.Pool != operatorPool || a.Job != "" {
			t.Errorf("file %s alert %+v", files[0].Name, a)
		}
		want := `min without (instance, job) (prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"}) == 0 or absent(prometheus_target_scrape_pool_targets{scrape_job="serviceMonitor/monitoring/app/0"})`
		if got := a.Expr.String(); got != want {
			t.Errorf("expr = %s, want %s", got, want)
		}
		if _, err := analyze.ParseExpr(a.Expr.String()); err != nil {
			t.Errorf("expr does not parse: %v", err)
		}
	})

	t.Run("A scrape pool's alert belongs to the team whose owner glob matches the pool's name.", func(t *testing.T) {
		o := generate.Options{OwnerLabel: "team", Owners: []generate.Owner{{Jobs: "app", Team: "shop"}, {Jobs: "serviceMonitor/monitoring/*", Team: "platform"}}}
		a := plan(t, []analyze.Finding{poolFinding(operatorPool, checks.PoolMetricStored)}, o)[0].Alerts[0]
		if a.Labels["team"] != "platform" || a.Test.FiringLabels["team"] != "platform" {
			t.Errorf("labels %v, firing %v: want team platform", a.Labels, a.Test.FiringLabels)
		}
		o.Owners = o.Owners[:1]
		if a := plan(t, []analyze.Finding{poolFinding(operatorPool, checks.PoolMetricStored)}, o)[0].Alerts[0]; a.Labels["team"] != "" {
			t.Errorf("labels %v: no glob matches the pool, want no team", a.Labels)
		}
	})

	t.Run("Every alert has a test case whose failing labels include the alert's labels.", func(t *testing.T) {
		for _, mode := range modes {
			for _, a := range allAlerts(plan(t, fixtureFindings(), fixtureOptions(FormatPrometheus, mode))) {
				tc := a.Test
				if tc.Interval <= 0 || tc.EvalTime <= a.For || len(tc.FailingSeries) == 0 || len(tc.HealthySeries) == 0 {
					t.Errorf("%s: incomplete test case %+v", a.Name, tc)
				}
				if tc.EvalTime%tc.Interval != 0 || tc.EvalTime%time.Minute != 0 {
					t.Errorf("%s: eval time %s is not a multiple of the interval %s and a minute", a.Name, tc.EvalTime, tc.Interval)
				}
				if a.Kind == generate.KindPoolEmpty && tc.FiringLabels["scrape_job"] != a.Pool {
					t.Errorf("%s: firing labels %v lack the scrape pool", a.Name, tc.FiringLabels)
				}
				if a.Kind != generate.KindPoolEmpty && tc.FiringLabels["job"] != a.Job {
					t.Errorf("%s: firing labels %v lack the job", a.Name, tc.FiringLabels)
				}
				for k, v := range a.Labels {
					if k != "team" && tc.FiringLabels[k] != v {
						t.Errorf("%s: firing labels %v lack %s=%s", a.Name, tc.FiringLabels, k, v)
					}
				}
				if _, ok := tc.FiringLabels["alertname"]; ok {
					t.Errorf("%s: firing labels hold alertname, which promtool adds", a.Name)
				}
			}
		}
	})
}

func TestAgreesWithTheChecks(t *testing.T) {
	t.Run("The fixes the checks announce name the files, alerts and expressions generated.", func(t *testing.T) {
		b := analyze.NewBuilder(time.Unix(0, 0))
		for _, p := range []analyze.Part{analyze.PartTargets, analyze.PartRules, analyze.PartJobMetrics} {
			b.AddPart(p)
		}
		for _, job := range []string{ksmJob, hostileJob} {
			b.AddTarget(analyze.Target{Job: job, ScrapePool: job, Instance: "x:1", Health: analyze.HealthUp,
				Labels: map[string]string{"job": job, "instance": "x:1"}})
		}
		b.AddJobMetric(hostileJob, "invoices_created_total")
		b.AddJobMetric(hostileJob, "batch_last_success_timestamp_seconds")
		inv := b.Build()
		o := checks.Options{}
		d := checks.Derive(inv, o)
		var findings []analyze.Finding
		for _, c := range []checks.Check{checks.NewAlertsMissingUp(o), checks.NewAlertsMissingAbsent(o), checks.NewAlertsMissingBusiness(o)} {
			findings = append(findings, c.Run(inv, d)...)
		}
		if len(findings) != 6 {
			t.Fatalf("%d findings, want 6: %+v", len(findings), findings)
		}
		files := plan(t, findings, generate.Options{})
		for _, f := range findings {
			i := slices.IndexFunc(files, func(rf generate.RuleFile) bool { return rf.Alerts[0].Job == f.Subject["job"] })
			var a *generate.Alert
			for j, x := range files[i].Alerts {
				if x.Metric == f.Subject["metric"] && (f.Check == checks.AlertsMissingUpName) == (x.Kind == generate.KindUp) &&
					(f.Check == checks.AlertsMissingAbsentName) == (x.Kind == generate.KindAbsent) {
					a = &files[i].Alerts[j]
				}
			}
			if a == nil {
				t.Fatalf("no alert for %+v", f)
			}
			if !strings.Contains(f.Fix, a.Expr.String()) {
				t.Errorf("the fix %q does not hold the expression %s", f.Fix, a.Expr)
			}
			if f.Check != checks.AlertsMissingBusinessName {
				if want := "rules/" + files[i].Name + ".yaml with alert " + a.Name + ": "; !strings.Contains(f.Fix, want) {
					t.Errorf("the fix %q does not say %q", f.Fix, want)
				}
				if want := " for " + model.Duration(a.For).String(); !strings.HasSuffix(f.Fix, want) {
					t.Errorf("the fix %q does not end in %q", f.Fix, want)
				}
			}
		}
	})
}

func TestExpressions(t *testing.T) {
	t.Run("Every generated expression parses back to the same tree and text.", func(t *testing.T) {
		for _, mode := range modes {
			for _, a := range allAlerts(plan(t, fixtureFindings(), fixtureOptions(FormatPrometheus, mode))) {
				s, err := printExpr(a.Expr)
				if err != nil {
					t.Errorf("%s: %v", a.Name, err)
					continue
				}
				back, err := exprParser.ParseExpr(s)
				if err != nil || back.String() != s {
					t.Errorf("%s: %s parses as %v (%v)", a.Name, s, back, err)
				}
			}
		}
	})

	t.Run("A tree that prints as a different query is rejected.", func(t *testing.T) {
		// (a and b) > 0 prints as "a and b > 0", which parses as a and (b > 0).
		wrong := &parser.BinaryExpr{
			Op:  parser.GTR,
			LHS: &parser.BinaryExpr{Op: parser.LAND, LHS: promqlbuild.Selector("a", "j"), RHS: promqlbuild.Selector("b", "j"), VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany}},
			RHS: number(0),
		}
		if _, err := printExpr(wrong); err == nil || !strings.Contains(err.Error(), "different tree") {
			t.Errorf("got %v, want a different-tree error", err)
		}
		right := &parser.BinaryExpr{Op: parser.GTR, LHS: &parser.ParenExpr{Expr: wrong.LHS}, RHS: number(0)}
		if s, err := printExpr(right); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	})

	t.Run("The hostile job's selectors match exactly that job.", func(t *testing.T) {
		var selectors int
		for _, a := range allAlerts(plan(t, fixtureFindings(), fixtureOptions(FormatPrometheus, ModeRelative))) {
			if a.Job != hostileJob {
				continue
			}
			back, err := exprParser.ParseExpr(a.Expr.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, ms := range parser.ExtractSelectors(back) {
				selectors++
				var job, name *labels.Matcher
				for _, m := range ms {
					switch m.Name {
					case "job":
						job = m
					case model.MetricNameLabel:
						name = m
					}
				}
				if len(ms) != 2 || job == nil || name == nil || job.Type != labels.MatchEqual {
					t.Fatalf("%s: selector %v is not a metric name and a job", a.Name, ms)
				}
				if !job.Matches(hostileJob) {
					t.Errorf("%s: %v does not match the job %q", a.Name, job, hostileJob)
				}
				for _, near := range []string{`a"}`, `a"} or vector(1) `, `a\"} or vector(1) #`, `A"} or vector(1) #`, ""} {
					if job.Matches(near) {
						t.Errorf("%s: %v matches %q too", a.Name, job, near)
					}
				}
				if a.Metric != "" && !name.Matches(a.Metric) {
					t.Errorf("%s: %v does not match the metric %q", a.Name, name, a.Metric)
				}
			}
		}
		// TargetDown, Absent, and 3 selectors in each of the two relative alerts.
		if selectors != 8 {
			t.Errorf("%d selectors of the hostile job, want 8", selectors)
		}
	})

	t.Run("A UTF-8 metric name is selected by its exact name.", func(t *testing.T) {
		for _, a := range allAlerts(plan(t, fixtureFindings(), fixtureOptions(FormatPrometheus, ModeAbsolute))) {
			if a.Metric != utf8Metric {
				continue
			}
			want := `rate({__name__="http.requests.total",job="payments-api"}[10m]) == 0`
			if got := a.Expr.String(); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			return
		}
		t.Fatal("no alert on the UTF-8 metric")
	})
}

func TestTemplates(t *testing.T) {
	t.Run("Literal text that contains template syntax expands to itself.", func(t *testing.T) {
		for _, s := range []string{templateMetric, `{{`, `a}}b{{c`, "line\nbreak {{ \"quoted\" }}", "plain_total"} {
			got := expand(t, templateText(s))
			if got != s {
				t.Errorf("%q expands to %q", s, got)
			}
		}
	})

	t.Run("Annotations expand with the alert's labels, never with the job name as template.", func(t *testing.T) {
		for _, a := range allAlerts(plan(t, fixtureFindings(), fixtureOptions(FormatPrometheus, ModeAbsolute))) {
			for k, v := range a.Annotations {
				if a.Job == hostileJob && strings.Contains(v, hostileJob) {
					t.Errorf("%s: annotation %s holds the job name as text: %s", a.Name, k, v)
				}
			}
			if a.Metric == templateMetric {
				got := expandWith(t, a.Annotations["summary"], map[string]string{"job": a.Job})
				if want := templateMetric + " of job " + hostileJob + " stopped increasing"; got != want {
					t.Errorf("summary expands to %q, want %q", got, want)
				}
			}
		}
	})

	t.Run("An owner team with template syntax is written escaped and expected expanded.", func(t *testing.T) {
		o := generate.Options{Owners: []generate.Owner{{Jobs: "*", Team: "{{ team }}"}}}
		a := plan(t, []analyze.Finding{upFinding("x")}, o)[0].Alerts[0]
		if a.Labels["team"] == "{{ team }}" || expand(t, a.Labels["team"]) != "{{ team }}" {
			t.Errorf("label %q", a.Labels["team"])
		}
		if a.Test.FiringLabels["team"] != "{{ team }}" {
			t.Errorf("firing label %q", a.Test.FiringLabels["team"])
		}
		if _, err := Render(plan(t, []analyze.Finding{upFinding("x")}, o)[0], o); err != nil {
			t.Error(err)
		}
	})
}

func expand(t *testing.T, text string) string { return expandWith(t, text, nil) }

// expandWith expands text as Prometheus expands annotations.
func expandWith(t *testing.T, text string, lbls map[string]string) string {
	t.Helper()
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(lbls, nil, "", promqlSample())
	e := template.NewTemplateExpander(context.Background(), defs+text, "test", data, model.Time(0), nil, nil, nil)
	out, err := e.Expand()
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return out
}

func TestNames(t *testing.T) {
	t.Run("Names are collision-free across files, also ignoring case.", func(t *testing.T) {
		findings := []analyze.Finding{
			upFinding("a-b"), upFinding("a_b"), upFinding("ab"), upFinding("AB"),
			absentFinding("a-b"),
			// Job "a" with metric "b_c" and job "a-b" with metric "c" both give ABCStopped.
			businessFinding("a", "b_c_total", coverage.KindCounter),
			businessFinding("a-b", "c_total", coverage.KindCounter),
			// Two metrics of one job with the same CamelCase form.
			businessFinding("shop", "orders_total", coverage.KindCounter),
			businessFinding("shop", "orders", coverage.KindCounter),
			// A stem of a hashed name is no refuge: a job named like one.
			upFinding("a-b-d44362d6"),
		}
		files := plan(t, findings, generate.Options{})
		stems, resources, alerts := map[string]string{}, map[string]string{}, map[string]string{}
		for _, f := range files {
			for _, c := range []struct {
				seen map[string]string
				key  string
			}{{stems, strings.ToLower(f.Name)}, {resources, resourceName(f.Name)}} {
				if other, ok := c.seen[c.key]; ok {
					t.Errorf("files %s and %s collide", other, f.Name)
				}
				c.seen[c.key] = f.Name
			}
			for _, a := range f.Alerts {
				if other, ok := alerts[strings.ToLower(a.Name)]; ok {
					t.Errorf("alerts %s and %s collide", other, a.Name)
				}
				alerts[strings.ToLower(a.Name)] = a.Name
				if !model.LegacyValidation.IsValidMetricName(a.Name) {
					t.Errorf("alert name %q is not an identifier", a.Name)
				}
			}
		}
		if len(alerts) != len(findings) {
			t.Errorf("%d alerts for %d findings", len(alerts), len(findings))
		}
	})

	t.Run("Jobs that do not collide keep the names the checks announce.", func(t *testing.T) {
		files := plan(t, []analyze.Finding{upFinding("kube-state-metrics"), upFinding("monitoring/node-exporter")}, generate.Options{})
		got := []string{files[0].Name, files[0].Alerts[0].Name, files[1].Name, files[1].Alerts[0].Name}
		want := []string{"kube-state-metrics", "KubeStateMetricsTargetDown", "monitoring-node-exporter", "MonitoringNodeExporterTargetDown"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("Very long job and metric names give bounded, unique file and alert names.", func(t *testing.T) {
		long := strings.Repeat("very-long-job-name-", 30)
		files := plan(t, []analyze.Finding{
			upFinding(long + "one"), upFinding(long + "two"),
			businessFinding(long+"one", strings.Repeat("m", 300)+"_total", coverage.KindCounter),
		}, generate.Options{})
		if len(files) != 2 || files[0].Name == files[1].Name {
			t.Fatalf("files %+v", files)
		}
		for _, f := range files {
			if len(f.Name+".test.yaml") > 255 {
				t.Errorf("file name of %d bytes", len(f.Name))
			}
			for _, a := range f.Alerts {
				if len(a.Name+".md") > 255 {
					t.Errorf("alert name of %d bytes", len(a.Name))
				}
			}
		}
	})

	t.Run("PrometheusRule names are valid Kubernetes names.", func(t *testing.T) {
		o := generate.Options{RulesFormat: FormatOperator}
		for _, f := range plan(t, []analyze.Finding{upFinding("_"), upFinding("Api.V1__x"), upFinding(hostileJob)}, o) {
			content, err := Render(f, o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(content), "name: blindspot-"+resourceName(f.Name)+"\n") {
				t.Errorf("%s:\n%s", f.Name, content)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*generate.Options)
		want   string
	}{
		{"A negative threshold", func(o *generate.Options) { o.Business.Threshold = -1 }, "business.threshold: -1 is negative"},
		{"An infinite threshold", func(o *generate.Options) { o.Business.Threshold = math.Inf(1) }, "business.threshold: +Inf is not a finite number"},
		{"A NaN threshold", func(o *generate.Options) { o.Business.Threshold = math.NaN() }, "business.threshold: NaN is not a finite number"},
		{"A ratio of 1", func(o *generate.Options) { o.Business.Ratio = 1 }, "business.ratio: 1 is not between 0 and 1 (exclusive)"},
		{"A negative ratio", func(o *generate.Options) { o.Business.Ratio = -0.5 }, "business.ratio: -0.5 is not between 0 and 1 (exclusive)"},
		{"An unknown mode", func(o *generate.Options) { o.Business.Mode = "sometimes" }, `business.mode: "sometimes" is neither "absolute" nor "relative"`},
		{"A negative window", func(o *generate.Options) { o.Business.Window = -time.Minute }, "business.window: -1m0s is not positive"},
		{"A window below a minute", func(o *generate.Options) { o.Business.Window = 30 * time.Second }, "business.window: 30s is shorter than 1m"},
		{"A relative window and for of a week", func(o *generate.Options) {
			o.Business.Mode = ModeRelative
			o.Business.For = 6 * 24 * time.Hour
		}, "business.for: with business.window"},
		{"A negative up for", func(o *generate.Options) { o.UpFor = -time.Second }, "up_for: -1s is not positive"},
		{"A sub-millisecond absent for", func(o *generate.Options) { o.AbsentFor = time.Microsecond }, "absent_for: 1µs is not a whole number of milliseconds"},
		{"A negative staleness", func(o *generate.Options) { o.Business.StaleAfter = -time.Hour }, "business.stale_after: -1h0m0s is not positive"},
		{"A negative business for", func(o *generate.Options) { o.Business.For = -time.Hour }, "business.for: -1h0m0s is not positive"},
		{"An unknown rules format", func(o *generate.Options) { o.RulesFormat = "thanos" }, `rules_format: "thanos" is neither "prometheus" nor "prometheus-operator"`},
		{"A malformed owner glob", func(o *generate.Options) { o.Owners = []generate.Owner{{Jobs: "x", Team: "a"}, {Jobs: "[", Team: "b"}} }, `owners[1].jobs: "[" is not a valid glob`},
		{"An owner without a team", func(o *generate.Options) { o.Owners = []generate.Owner{{Jobs: "x"}} }, "owners[0].team: is empty"},
		{"An owner label that replaces the severity", func(o *generate.Options) { o.OwnerLabel = "severity" }, `owner_label: "severity" would replace`},
		{"An owner label that is no label name", func(o *generate.Options) { o.OwnerLabel = "team-name" }, `owner_label: "team-name" is not a valid label name`},
		{"A Grafana URL without a scheme", func(o *generate.Options) { o.GrafanaURL = "grafana.example.com" }, `grafana_url: "grafana.example.com" is not an http(s) URL`},
		{"A runbook URL that does not parse", func(o *generate.Options) { o.RunbookBaseURL = "http://[::1" }, "runbook_base_url:"},
		{"An upper-case name prefix", func(o *generate.Options) { o.Operator.NamePrefix = "Blindspot-" }, `operator.name_prefix: "Blindspot-" cannot start`},
		{"A namespace with dots", func(o *generate.Options) { o.Operator.Namespace = "a.b" }, `operator.namespace: "a.b" is not a valid Kubernetes namespace`},
		{"A label key with spaces", func(o *generate.Options) { o.Operator.Labels = map[string]string{"a b": "c"} }, `operator.labels: "a b" is not a valid Kubernetes label key`},
		{"A label value too long", func(o *generate.Options) { o.Operator.Labels = map[string]string{"a": strings.Repeat("x", 64)} }, "operator.labels: the value"},
		{"A monitor label key with spaces", func(o *generate.Options) { o.Kubernetes.Labels = map[string]string{"a b": "c"} }, `kubernetes.labels: "a b" is not a valid Kubernetes label key`},
		{"A selector label that is no label key", func(o *generate.Options) { o.Kubernetes.SelectorLabel = "app name" }, `kubernetes.selector_label: "app name" is not a valid Kubernetes label key`},
	}
	for _, c := range cases {
		t.Run(c.name+" is an error naming the option.", func(t *testing.T) {
			o := fixtureOptions(FormatPrometheus, ModeAbsolute)
			c.modify(&o)
			for _, err := range []error{
				func() error { _, err := Plan(fixtureFindings(), o); return err }(),
				func() error { _, err := Render(generate.RuleFile{Name: "x", Group: "x"}, o); return err }(),
			} {
				var oe *OptionError
				if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), c.want) {
					t.Errorf("got %v, want an OptionError starting with %q", err, c.want)
				}
			}
		})
	}
	t.Run("The fixture's and the default options are valid.", func(t *testing.T) {
		for _, o := range []generate.Options{{}, fixtureOptions(FormatOperator, ModeRelative)} {
			if err := validateOptions(generate.DefaultOptions(o)); err != nil {
				t.Error(err)
			}
		}
	})
}

func TestRender(t *testing.T) {
	t.Run("A rule file that rulefmt rejects is an error naming the file and the rule.", func(t *testing.T) {
		f := generate.RuleFile{Name: "broken", Group: "blindspot-broken", Alerts: []generate.Alert{{
			Name: "Broken", Expr: number(1), For: time.Minute,
			Annotations: map[string]string{"summary": "{{ .Unclosed "},
		}}}
		_, err := Render(f, generate.Options{})
		if err == nil || !strings.Contains(err.Error(), "rule file broken") || !strings.Contains(err.Error(), "Broken") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("An alert without an expression is an error.", func(t *testing.T) {
		_, err := Render(generate.RuleFile{Name: "x", Group: "x", Alerts: []generate.Alert{{Name: "X"}}}, generate.Options{})
		if err == nil || !strings.Contains(err.Error(), "no expression") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("Every file starts with the generated-code header.", func(t *testing.T) {
		for _, format := range formats {
			for name, content := range renderAll(t, format, ModeAbsolute) {
				if !strings.HasPrefix(string(content), "# "+generate.Header+"\n") {
					t.Errorf("%s/%s starts with %.60q", format, name, content)
				}
			}
		}
	})
}

func promqlSample() promql.Sample { return promql.Sample{} }

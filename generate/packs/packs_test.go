package packs_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/rulefiles"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/packs"
	"github.com/blindspot-dev/blindspot/generate/rules"
	"github.com/blindspot-dev/blindspot/generate/unittests"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
	"github.com/blindspot-dev/blindspot/rulesets"
)

const (
	hostileJob  = `a"} or vector(1) #`
	backtickJob = "``` {{ .Job }} `x`"
)

// inventory holds one job per pack, a job with business metrics only, and the hostile jobs,
// the way the collector reports job_metrics (sorted names per job).
func inventory() *analyze.Inventory {
	return &analyze.Inventory{
		Parts: []analyze.Part{analyze.PartJobMetrics},
		JobMetrics: map[string][]string{
			"alertmanager": {"alertmanager_build_info", "alertmanager_config_last_reload_successful"},
			"billing":      {"billing_last_success_timestamp_seconds", "invoices_created_total", "push_time_seconds"},
			"blackbox":     {"probe_success"},
			"node":         {"node_cpu_seconds_total", "node_exporter_build_info"},
			"prometheus":   {"prometheus_build_info"},
			"shop":         {"orders_total"},
			hostileJob:     {"node_exporter_build_info"},
			backtickJob:    {"probe_success"},
		},
	}
}

var options = generate.Options{
	Owners:         []generate.Owner{{Jobs: "node", Team: "infra"}},
	GrafanaURL:     "https://grafana.example.com",
	RunbookBaseURL: "https://git.example.com/generated/",
}

func instantiate(t *testing.T, inv *analyze.Inventory, o generate.Options) []generate.RuleFile {
	t.Helper()
	files, _, err := packs.Instantiate(inv, o)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestInstantiate(t *testing.T) {
	t.Parallel()

	t.Run("A pack is instantiated for every job exposing one of its detect names, and for no other.", func(t *testing.T) {
		var got []string
		for _, f := range instantiate(t, inventory(), options) {
			got = append(got, f.Name+" "+f.Group)
		}
		want := []string{
			"a-or-vector-1-node-exporter blindspot-a-or-vector-1-node-exporter",
			"alertmanager-alertmanager blindspot-alertmanager-alertmanager",
			"billing-pushgateway blindspot-billing-pushgateway",
			"blackbox-blackbox-exporter blindspot-blackbox-blackbox-exporter",
			"job-x-blackbox-exporter blindspot-job-x-blackbox-exporter",
			"node-node-exporter blindspot-node-node-exporter",
			"prometheus-prometheus blindspot-prometheus-prometheus",
		}
		if !slices.Equal(got, want) {
			t.Errorf("files\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("Every selector of every expression selects exactly the job, hostile job names included.", func(t *testing.T) {
		for _, f := range instantiate(t, inventory(), options) {
			for _, a := range f.Alerts {
				printed := a.Expr.String()
				if strings.Count(printed, "job=") == 0 {
					t.Errorf("%s: %s names no job", a.Name, printed)
				}
				e, err := parser.NewParser(parser.Options{}).ParseExpr(printed)
				if err != nil {
					t.Errorf("%s: %s does not parse: %v", a.Name, printed, err)
					continue
				}
				for _, sel := range parser.ExtractSelectors(e) {
					var jobs []*labels.Matcher
					for _, m := range sel {
						if m.Name == "job" {
							jobs = append(jobs, m)
						}
					}
					if len(jobs) != 1 || jobs[0].Type != labels.MatchEqual || jobs[0].Value != a.Job {
						t.Errorf("%s: a selector of %s does not select exactly job %q", a.Name, printed, a.Job)
					}
				}
				if a.Kind != generate.KindRuleset || a.Job == "" || a.Metric == "" || a.Pack != strings.TrimPrefix(f.Name, filePrefix(f)) {
					t.Errorf("%s: kind %s, job %q, metric %q, pack %q", a.Name, a.Kind, a.Job, a.Metric, a.Pack)
				}
			}
		}
	})

	t.Run("Test series carry the job label and the firing labels the job and the alert's labels.", func(t *testing.T) {
		p := parser.NewParser(parser.Options{})
		for _, f := range instantiate(t, inventory(), options) {
			for _, a := range f.Alerts {
				for _, s := range slices.Concat(a.Test.FailingSeries, a.Test.HealthySeries) {
					lbls, _, err := p.ParseSeriesDesc(s.Series + " " + s.Values)
					if err != nil || lbls.Get("job") != a.Job {
						t.Errorf("%s: series %s reads as %v (%v)", a.Name, s.Series, lbls, err)
					}
				}
				if a.Test.FiringLabels["job"] != a.Job || a.Test.FiringLabels["severity"] != a.Labels["severity"] ||
					a.Test.FiringLabels["generated_by"] != "blindspot" || a.Test.EvalTime < a.For {
					t.Errorf("%s: test case %+v", a.Name, a.Test)
				}
			}
		}
	})

	t.Run("Alerts are named after the job and carry severity, owner, generated_by, runbook and dashboard.", func(t *testing.T) {
		files := instantiate(t, inventory(), options)
		i := slices.IndexFunc(files, func(f generate.RuleFile) bool { return f.Name == "node-node-exporter" })
		a := files[i].Alerts[0]
		if a.Name != "NodeOutOfMemory" || a.PackAlert != "OutOfMemory" || a.Runbook != "runbooks/NodeOutOfMemory.md" || a.For != 2*time.Minute {
			t.Errorf("alert %s, pack alert %s, runbook %s, for %s", a.Name, a.PackAlert, a.Runbook, a.For)
		}
		wantLabels := map[string]string{"severity": "warning", "team": "infra", "generated_by": "blindspot"}
		if !maps.Equal(a.Labels, wantLabels) {
			t.Errorf("labels %v, want %v", a.Labels, wantLabels)
		}
		if a.Annotations["runbook_url"] != "https://git.example.com/generated/runbooks/NodeOutOfMemory.md" ||
			!strings.HasPrefix(a.Annotations["dashboard_url"], "https://grafana.example.com/d/bs-") ||
			a.Annotations["summary"] == "" || a.Annotations["description"] == "" {
			t.Errorf("annotations %v", a.Annotations)
		}

		bare := instantiate(t, inventory(), generate.Options{})
		a = bare[slices.IndexFunc(bare, func(f generate.RuleFile) bool { return f.Name == "node-node-exporter" })].Alerts[0]
		if _, ok := a.Annotations["dashboard_url"]; ok || a.Annotations["runbook_url"] != "runbooks/NodeOutOfMemory.md" || len(a.Labels) != 2 {
			t.Errorf("without options: labels %v, annotations %v", a.Labels, a.Annotations)
		}
	})

	t.Run("A runbook base URL with template braces is written as a template constant.", func(t *testing.T) {
		o := options
		o.RunbookBaseURL = "https://wiki.example.com/{{ .Space }}/"
		files := instantiate(t, inventory(), o)
		a := files[0].Alerts[0]
		if want := `{{ "https://wiki.example.com/{{ .Space }}/` + a.Runbook + `" }}`; a.Annotations["runbook_url"] != want {
			t.Errorf("runbook_url %s, want %s", a.Annotations["runbook_url"], want)
		}
		render(t, files[0]) // the unit-test renderer expands the annotations as Prometheus does
	})

	t.Run("Jobs whose alert names would collide get the hash of the job in their names.", func(t *testing.T) {
		inv := &analyze.Inventory{Parts: []analyze.Part{analyze.PartJobMetrics}, JobMetrics: map[string][]string{
			"a-b": {"probe_success"}, "a_b": {"probe_success"}, "A.B": {"probe_success"},
		}}
		hashed := regexp.MustCompile(`^AB[0-9a-f]{8}[A-Z]`)
		seen := map[string]bool{}
		var names []string
		for _, f := range instantiate(t, inv, options) {
			names = append(names, f.Name)
			for _, a := range f.Alerts {
				if seen[strings.ToLower(a.Name)] || !hashed.MatchString(a.Name) {
					t.Errorf("alert %s of file %s", a.Name, f.Name)
				}
				seen[strings.ToLower(a.Name)] = true
			}
		}
		// The file stems differ already and keep their plain names.
		if want := []string{"a-b-blackbox-exporter", "a.b-blackbox-exporter", "a_b-blackbox-exporter"}; !slices.Equal(names, want) {
			t.Errorf("files %q, want %q", names, want)
		}
		if len(seen) != 3*6 {
			t.Errorf("%d distinct alerts, want 18", len(seen))
		}
	})

	t.Run("With the server's metric names known, an alert on a metric the server lacks is left out.", func(t *testing.T) {
		inv := &analyze.Inventory{
			Parts:       []analyze.Part{analyze.PartJobMetrics, analyze.PartMetricNames},
			MetricNames: []string{"probe_duration_seconds", "probe_success", "up"},
			JobMetrics:  map[string][]string{"blackbox": {"probe_success"}, "node": {"node_exporter_build_info"}},
		}
		files := instantiate(t, inv, options)
		if len(files) != 1 || files[0].Name != "blackbox-blackbox-exporter" {
			t.Fatalf("files %v", files)
		}
		var names []string
		for _, a := range files[0].Alerts {
			names = append(names, a.Name)
		}
		if want := []string{"BlackboxProbeFailed", "BlackboxSlowProbe"}; !slices.Equal(names, want) {
			t.Errorf("alerts %q, want %q", names, want)
		}
	})

	t.Run("Without job_metrics no pack is recognised.", func(t *testing.T) {
		if files := instantiate(t, &analyze.Inventory{}, options); len(files) != 0 {
			t.Errorf("files %v", files)
		}
	})

	t.Run("Adapted packs carry their attribution; the Pushgateway pack, written for blindspot, none.", func(t *testing.T) {
		for _, f := range instantiate(t, inventory(), options) {
			pack := f.Alerts[0].Pack
			switch {
			case pack == "pushgateway" && len(f.Attribution) != 0:
				t.Errorf("%s: attribution %q", f.Name, f.Attribution)
			case pack == "node-exporter" || pack == "blackbox-exporter":
				if len(f.Attribution) != 1 || !strings.Contains(f.Attribution[0], "Samuel Berthe and contributors") || !strings.Contains(f.Attribution[0], "CC-BY-4.0") {
					t.Errorf("%s: attribution %q", f.Name, f.Attribution)
				}
			case pack == "prometheus":
				if len(f.Attribution) != 2 {
					t.Errorf("%s: attribution %q", f.Name, f.Attribution)
				}
			}
		}
	})

	t.Run("Instantiating twice gives the same files.", func(t *testing.T) {
		// Files are compared rendered: expression trees hold regexp caches.
		dump := func(files []generate.RuleFile) string {
			var b strings.Builder
			for _, f := range files {
				content, tests := render(t, f)
				b.Write(content)
				b.Write(tests)
				fmt.Fprintf(&b, "%q\n", f.Attribution)
				for _, a := range f.Alerts {
					fmt.Fprintf(&b, "%s %s %s %s %s %s\n", a.Name, a.Kind, a.Job, a.Metric, a.Pack, a.PackAlert)
				}
			}
			return b.String()
		}
		if a, b := dump(instantiate(t, inventory(), options)), dump(instantiate(t, inventory(), options)); a != b {
			t.Errorf("two instantiations differ:\n%s\n%s", a, b)
		}
	})
}

// filePrefix is the job part of a rule file's name.
func filePrefix(f generate.RuleFile) string {
	return strings.TrimSuffix(f.Name, f.Alerts[0].Pack)
}

// TestPromtool renders every pack, instantiated for a hostile job, with the rule and unit-test
// renderers of generate, and runs the real promtool on the result: the rule files pass
// `promtool check rules`, and each alert fires with exactly its test case's labels and
// annotations on the failing series and stays silent on the healthy ones.
func TestPromtool(t *testing.T) {
	t.Parallel()
	servers.ForEachPromtool(t, func(t *testing.T, promtool string) {

		all, err := rulesets.Packs()
		if err != nil {
			t.Fatal(err)
		}
		jobMetrics := map[string][]string{}
		for _, p := range all {
			jobMetrics[hostileJob+" "+p.Name] = []string{p.Detect[0]}
		}
		files := instantiate(t, &analyze.Inventory{Parts: []analyze.Part{analyze.PartJobMetrics}, JobMetrics: jobMetrics}, options)
		if len(files) != len(all) {
			t.Fatalf("%d files for %d packs", len(files), len(all))
		}

		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
			t.Fatal(err)
		}
		var ruleFiles, testFiles []string
		for _, f := range files {
			content, tests := render(t, f)
			rulePath := filepath.Join(dir, f.Name+".yaml")
			testPath := filepath.Join(dir, "tests", f.Name+".test.yaml")
			for path, data := range map[string][]byte{rulePath: content, testPath: tests} {
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ruleFiles = append(ruleFiles, rulePath)
			testFiles = append(testFiles, testPath)
		}
		for _, args := range [][]string{append([]string{"check", "rules"}, ruleFiles...), append([]string{"test", "rules"}, testFiles...)} {
			out, err := exec.Command(promtool, args...).CombinedOutput()
			if err != nil {
				t.Errorf("promtool %s: %v\n%s", args[0]+" "+args[1], err, out)
			}
		}
	})
}

// render is what generate writes for a rule file: the rules and their promtool tests.
func render(t *testing.T, f generate.RuleFile) (rulesFile, testsFile []byte) {
	t.Helper()
	content, err := rules.Render(f, options)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := unittests.Render(f, options)
	if err != nil {
		t.Fatal(err)
	}
	return content, tests
}

// corpusRules reads a third-party rule file of the corpus as the collector would.
func corpusRules(t *testing.T, name string) []analyze.RuleGroup {
	t.Helper()
	res, err := rulefiles.Load([]string{testcorpus.File(t, "rules/"+name)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Groups
}

func alertNames(files []generate.RuleFile) []string {
	var names []string
	for _, f := range files {
		for _, a := range f.Alerts {
			names = append(names, a.Name)
		}
	}
	slices.Sort(names)
	return names
}

func TestInstantiateLeavesOutLoadedAlerts(t *testing.T) {
	t.Parallel()
	// A blackbox job and a Prometheus job, with the server's metric names and rules.
	inv := func(groups ...analyze.RuleGroup) *analyze.Inventory {
		return &analyze.Inventory{
			Parts:       []analyze.Part{analyze.PartJobMetrics, analyze.PartMetricNames, analyze.PartRules},
			MetricNames: []string{"probe_duration_seconds", "probe_success", "prometheus_build_info", "prometheus_rule_evaluation_failures_total", "up"},
			JobMetrics: map[string][]string{
				"blackbox":   {"probe_duration_seconds", "probe_success"},
				"prometheus": {"prometheus_build_info", "prometheus_rule_evaluation_failures_total"},
			},
			RuleGroups: groups,
		}
	}
	group := func(rules ...analyze.Rule) analyze.RuleGroup {
		g := analyze.RuleGroup{Name: "mine", File: "/etc/prometheus/mine.yml", Language: "promql"}
		for _, r := range rules {
			r.Kind = analyze.RuleAlerting
			g.Rules = append(g.Rules, analyze.NewRule(r))
		}
		return g
	}

	t.Run("Without loaded rules every pack alert on existing metrics is generated.", func(t *testing.T) {
		files, skipped, err := packs.Instantiate(inv(), options)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"BlackboxProbeFailed", "BlackboxSlowProbe", "PrometheusRuleEvaluationFailures"}
		if got := alertNames(files); !slices.Equal(got, want) || len(skipped) != 0 {
			t.Errorf("alerts %q skipped %v, want %q and none", got, skipped, want)
		}
	})

	t.Run("Pack alerts named like the awesome-prometheus-alerts rules loaded are left out, and the rule file and the result say so.", func(t *testing.T) {
		loaded := slices.Concat(corpusRules(t, "blackbox-exporter.yml"), corpusRules(t, "awesome-prometheus-alerts_prometheus-self-monitoring_embedded-exporter.yml"))
		files, skipped, err := packs.Instantiate(inv(loaded...), options)
		if err != nil {
			t.Fatal(err)
		}
		if got := alertNames(files); len(got) != 0 {
			t.Errorf("alerts %q generated, want none: every one is loaded already", got)
		}
		var got []string
		for _, s := range skipped {
			got = append(got, s.Job+" "+s.Pack+" "+s.Alert)
			if !strings.HasPrefix(s.Reason, "an alert of that name is already loaded (group ") || !strings.Contains(s.Reason, "corpus/rules/") {
				t.Errorf("%s: reason %q", s.Alert, s.Reason)
			}
		}
		want := []string{
			"blackbox blackbox-exporter BlackboxProbeFailed",
			"blackbox blackbox-exporter BlackboxSlowProbe",
			"prometheus prometheus PrometheusRuleEvaluationFailures",
		}
		if !slices.Equal(got, want) {
			t.Errorf("skipped %q, want %q", got, want)
		}
	})

	t.Run("A pack alert whose expression is loaded under another name is left out, scoped to the job or for every job.", func(t *testing.T) {
		files, skipped, err := packs.Instantiate(inv(group(
			// The pack's SlowProbe for job blackbox, written differently.
			analyze.Rule{Name: "SlowBlackbox", Expr: `avg_over_time( probe_duration_seconds{job="blackbox"}[60s] )>1`},
			// The pack's RuleEvaluationFailures for every job.
			analyze.Rule{Name: "RuleFailures", Expr: `increase(prometheus_rule_evaluation_failures_total[5m]) > 0`},
		)), options)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := alertNames(files), []string{"BlackboxProbeFailed"}; !slices.Equal(got, want) {
			t.Errorf("alerts %q, want %q", got, want)
		}
		reasons := map[string]string{}
		for _, s := range skipped {
			reasons[s.Alert] = s.Reason
		}
		want := map[string]string{
			"BlackboxSlowProbe":                `alert "SlowBlackbox" (group "mine", file "/etc/prometheus/mine.yml") already evaluates the same expression`,
			"PrometheusRuleEvaluationFailures": `alert "RuleFailures" (group "mine", file "/etc/prometheus/mine.yml") already evaluates the same expression`,
		}
		if !maps.Equal(reasons, want) {
			t.Errorf("skipped %q, want %q", reasons, want)
		}
		for _, f := range files {
			if f.Name == "blackbox-blackbox-exporter" && !slices.Contains(f.Attribution, "Left out BlackboxSlowProbe: "+want["BlackboxSlowProbe"]+".") {
				t.Errorf("the rule file does not say what it left out: %q", f.Attribution)
			}
		}
	})

	t.Run("A loaded alert on the same metric with another window, or on another job, is no duplicate.", func(t *testing.T) {
		files, skipped, err := packs.Instantiate(inv(group(
			analyze.Rule{Name: "SlowProbeShort", Expr: `avg_over_time(probe_duration_seconds{job="blackbox"}[30s]) > 1`},
			analyze.Rule{Name: "OtherProbeFailed", Expr: `probe_success{job="other"} == 0`},
		)), options)
		if err != nil {
			t.Fatal(err)
		}
		if got := alertNames(files); len(got) != 3 || len(skipped) != 0 {
			t.Errorf("alerts %q skipped %v, want all three and none skipped", got, skipped)
		}
	})

	t.Run("Alerts blindspot generated do not count as loaded, so deploying the output does not shrink it.", func(t *testing.T) {
		first, _, err := packs.Instantiate(inv(), options)
		if err != nil {
			t.Fatal(err)
		}
		deployed := analyze.RuleGroup{Name: "deployed", File: "/etc/prometheus/generated/rules.yaml", Language: "promql"}
		for _, f := range first {
			for _, a := range f.Alerts {
				deployed.Rules = append(deployed.Rules, analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: a.Name, Expr: a.Expr.String(), Labels: a.Labels}))
			}
		}
		again, skipped, err := packs.Instantiate(inv(deployed), options)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(alertNames(again), alertNames(first)) || len(skipped) != 0 {
			t.Errorf("after deploying: alerts %q skipped %v, want %q", alertNames(again), skipped, alertNames(first))
		}
	})

	t.Run("A recording rule of the alert's name is no duplicate.", func(t *testing.T) {
		g := analyze.RuleGroup{Name: "rec", Language: "promql", Rules: []analyze.Rule{
			analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: "BlackboxProbeFailed", Expr: `probe_success == 0`}),
		}}
		files, _, err := packs.Instantiate(inv(g), options)
		if err != nil {
			t.Fatal(err)
		}
		if got := alertNames(files); len(got) != 3 {
			t.Errorf("alerts %q, want all three", got)
		}
	})
}

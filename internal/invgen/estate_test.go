package invgen_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/promconfig"
	"github.com/blindspot-dev/blindspot/internal/invgen"
)

var small = invgen.Estate{Jobs: 3, TargetsPerJob: 2, OwnCounters: 2, BigCounters: 4, Rules: 6}

func TestTheEstatesConfigurationScrapesEveryTargetFromTheExporterKeepingItsInstance(t *testing.T) {
	data, err := small.Config("127.0.0.1:9999", "1m", "/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := promconfig.Parse(data)
	if err != nil {
		t.Fatalf("the configuration does not parse: %v\n%s", err, data)
	}
	var jobs []string
	for _, j := range cfg.Jobs {
		jobs = append(jobs, j.Name)
	}
	if want := []string{invgen.BigJob, "job-0000", "job-0001", "job-0002"}; !slices.Equal(jobs, want) {
		t.Errorf("jobs %q, want %q", jobs, want)
	}
	var raw struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
			RelabelConfigs []map[string]any `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	targets := 0
	for _, sc := range raw.ScrapeConfigs {
		if want := "/metrics/" + sc.JobName; sc.MetricsPath != want {
			t.Errorf("%s scrapes %s, want %s", sc.JobName, sc.MetricsPath, want)
		}
		for _, st := range sc.StaticConfigs {
			targets += len(st.Targets)
		}
		if len(sc.RelabelConfigs) != 2 || sc.RelabelConfigs[0]["target_label"] != "instance" || sc.RelabelConfigs[1]["replacement"] != "127.0.0.1:9999" {
			t.Errorf("%s relabels %v, want the address kept as instance, then the exporter's", sc.JobName, sc.RelabelConfigs)
		}
	}
	if targets != small.Targets() || small.Targets() != 7 {
		t.Errorf("%d targets in the configuration, Targets() = %d, want 7", targets, small.Targets())
	}
	if !slices.Equal(raw.RuleFiles, []string{"/rules.yml"}) {
		t.Errorf("rule files %q", raw.RuleFiles)
	}
}

func TestTheEstatesExporterServesEachJobsCounters(t *testing.T) {
	srv := httptest.NewServer(small.Handler())
	t.Cleanup(srv.Close)
	names := func(job string) []string {
		resp, err := srv.Client().Get(srv.URL + "/metrics/" + job)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", job, err)
		}
		var out []string
		for name := range families {
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}
	if got, want := names(invgen.BigJob), []string{invgen.BigCounter(0), invgen.BigCounter(1), invgen.BigCounter(2), invgen.BigCounter(3)}; !slices.Equal(got, want) {
		t.Errorf("big: %q, want %q", got, want)
	}
	got := names("job-0001")
	for k := range small.OwnCounters {
		if !slices.Contains(got, invgen.OwnCounter("job-0001", k)) {
			t.Errorf("job-0001 lacks %s: %q", invgen.OwnCounter("job-0001", k), got)
		}
	}
	if len(got) != small.OwnCounters+5 {
		t.Errorf("job-0001 exposes %q, want its %d counters and 5 runtime metrics", got, small.OwnCounters)
	}
}

func TestTheEstatesRulesAreValidAndReadTheJobsCounters(t *testing.T) {
	data, err := small.RuleFile()
	if err != nil {
		t.Fatal(err)
	}
	var groups struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(data, &groups); err != nil {
		t.Fatal(err)
	}
	var alerts, records int
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts++
			} else {
				records++
			}
			if _, err := analyze.ParseExpr(r.Expr); err != nil {
				t.Errorf("%s%s: %v", r.Alert, r.Record, err)
			}
			if !strings.Contains(r.Expr, "_events_") {
				t.Errorf("%s%s reads no job's counter: %s", r.Alert, r.Record, r.Expr)
			}
		}
	}
	if alerts != 3 || records != 3 {
		t.Errorf("%d alerts, %d recording rules, want 3 and 3", alerts, records)
	}
}

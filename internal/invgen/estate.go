package invgen

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Estate is a Prometheus setup to load a real server with: Jobs jobs of TargetsPerJob targets,
// each target exposing OwnCounters counters named after its job and the SharedMetrics every
// target has, one more job ("big") of one target exposing BigCounters counters, and Rules
// rules (half recording rules, half alerts, each on a job's own counters). One exporter
// (Handler) serves every target: a job's targets differ only in their instance label, which
// relabelling keeps from their static address while sending the scrape to the exporter.
type Estate struct {
	Jobs, TargetsPerJob, OwnCounters, BigCounters, Rules int
}

// ScaleEstate is the estate blindspot's time and memory goals are stated for: 1,001 jobs,
// 10,001 targets, about 100,000 metric names and 5,000 rules.
var ScaleEstate = Estate{Jobs: 1000, TargetsPerJob: 10, OwnCounters: 10, BigCounters: 87_500, Rules: 5000}

// BigJob is the job of the one target with BigCounters counters.
const BigJob = "big"

// sharedMetrics are exposed by every target, as runtime metrics are.
var sharedMetrics = []struct{ name, kind string }{
	{"process_cpu_seconds_total", "counter"},
	{"process_resident_memory_bytes", "gauge"},
	{"go_goroutines", "gauge"},
	{"go_gc_duration_seconds_count", "counter"},
	{"http_requests_total", "counter"},
}

// EstateJob is the name of small job i.
func EstateJob(i int) string { return fmt.Sprintf("job-%04d", i) }

// OwnCounter is counter k of job.
func OwnCounter(job string, k int) string {
	return fmt.Sprintf("%s_events_%02d_total", strings.ReplaceAll(job, "-", "_"), k)
}

// BigCounter is counter k of the big job.
func BigCounter(k int) string { return fmt.Sprintf("shop_operation_%05d_total", k) }

// Targets is the number of targets the estate scrapes.
func (e Estate) Targets() int { return e.Jobs*e.TargetsPerJob + 1 }

// Handler serves /metrics/<job> in the text exposition format. The counters rise by one at
// every scrape (the n-th scrape of the exporter exposes a job's counters at 7+n, the big job's
// counter k at k+n), so that the history reads them as steady business counters.
func (e Estate) Handler() http.Handler {
	var scrapes atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		n := scrapes.Add(1)
		job := path.Base(r.URL.Path)
		var body bytes.Buffer
		if job == BigJob {
			for k := range e.BigCounters {
				fmt.Fprintf(&body, "# TYPE %[1]s counter\n%[1]s %d\n", BigCounter(k), int64(k)+n)
			}
			_, _ = w.Write(body.Bytes())
			return
		}
		for _, m := range sharedMetrics {
			fmt.Fprintf(&body, "# TYPE %[1]s %s\n%[1]s 1\n", m.name, m.kind)
		}
		for k := range e.OwnCounters {
			fmt.Fprintf(&body, "# TYPE %[1]s counter\n%[1]s %d\n", OwnCounter(job, k), 7+n)
		}
		_, _ = w.Write(body.Bytes())
	})
}

// Config is the Prometheus configuration of the estate, scraping the exporter at
// exporterAddr (host:port) every interval and loading rulesFile.
func (e Estate) Config(exporterAddr, interval, rulesFile string) ([]byte, error) {
	type relabel struct {
		SourceLabels []string `yaml:"source_labels,omitempty"`
		TargetLabel  string   `yaml:"target_label"`
		Replacement  string   `yaml:"replacement,omitempty"`
	}
	type static struct {
		Targets []string `yaml:"targets"`
	}
	type scrape struct {
		JobName       string    `yaml:"job_name"`
		MetricsPath   string    `yaml:"metrics_path"`
		StaticConfigs []static  `yaml:"static_configs"`
		Relabel       []relabel `yaml:"relabel_configs"`
	}
	// The static address becomes the instance; the scrape goes to the exporter.
	relabels := []relabel{
		{SourceLabels: []string{"__address__"}, TargetLabel: "instance"},
		{TargetLabel: "__address__", Replacement: exporterAddr},
	}
	job := func(name string, targets int) scrape {
		s := scrape{JobName: name, MetricsPath: "/metrics/" + name, Relabel: relabels, StaticConfigs: []static{{}}}
		for t := range targets {
			s.StaticConfigs[0].Targets = append(s.StaticConfigs[0].Targets, fmt.Sprintf("%s-%d.example:9100", name, t))
		}
		return s
	}
	cfg := struct {
		Global        map[string]string `yaml:"global"`
		RuleFiles     []string          `yaml:"rule_files"`
		ScrapeConfigs []scrape          `yaml:"scrape_configs"`
	}{
		Global:    map[string]string{"scrape_interval": interval, "scrape_timeout": "10s", "evaluation_interval": "5m"},
		RuleFiles: []string{rulesFile},
	}
	cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, job(BigJob, 1))
	for i := range e.Jobs {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, job(EstateJob(i), e.TargetsPerJob))
	}
	return yaml.Marshal(cfg)
}

// RuleFile is the estate's rule file: rules in groups of 100, alternately a recording rule
// summing the rate of one of a job's counters and an alert on another of them stopping.
func (e Estate) RuleFile() ([]byte, error) {
	type rule struct {
		Alert  string `yaml:"alert,omitempty"`
		Record string `yaml:"record,omitempty"`
		Expr   string `yaml:"expr"`
	}
	type group struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	}
	selector := func(name string) *parser.VectorSelector {
		return &parser.VectorSelector{Name: name, LabelMatchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name)}}
	}
	rate := func(name string, d time.Duration) parser.Expr {
		return &parser.Call{Func: parser.Functions["rate"], Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: selector(name), Range: d}}}
	}
	var groups []group
	for i := range e.Rules {
		if i%100 == 0 {
			groups = append(groups, group{Name: fmt.Sprintf("estate-%03d", i/100)})
		}
		g := &groups[len(groups)-1]
		job := EstateJob((i / 2) % max(e.Jobs, 1))
		k := (i / 2 / max(e.Jobs, 1)) % max(e.OwnCounters, 1)
		if i%2 == 0 {
			expr := &parser.AggregateExpr{Op: parser.SUM, Grouping: []string{"job"}, Expr: rate(OwnCounter(job, k), 5*time.Minute)}
			g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("job:%s:rate5m", strings.TrimSuffix(OwnCounter(job, k), "_total")), Expr: expr.String()})
			continue
		}
		expr := &parser.BinaryExpr{Op: parser.EQLC, LHS: rate(OwnCounter(job, (k+1)%max(e.OwnCounters, 1)), 10*time.Minute), RHS: &parser.NumberLiteral{Val: 0}}
		g.Rules = append(g.Rules, rule{Alert: fmt.Sprintf("Stopped%05d", i), Expr: expr.String()})
	}
	return yaml.Marshal(map[string]any{"groups": groups})
}

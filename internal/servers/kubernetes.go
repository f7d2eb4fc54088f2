package servers

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// KubeTarget is one target of an operator-style pool: an address and the labels the
// Prometheus Operator's relabeling leaves (namespace, pod, service, container, endpoint).
type KubeTarget struct {
	Addr   string
	Labels map[string]string
}

// KubeAlert is an alerting rule of a Kubernetes scenario.
type KubeAlert struct {
	Name, Expr, For string
}

// KubePrometheusOptions describe a Prometheus of a cluster: kube-state-metrics scraped with
// honor_labels (as kube-prometheus' ServiceMonitor does, so that its series keep their
// namespace and pod), and pools named as the operator names them
// (serviceMonitor/<namespace>/<name>/<endpoint>).
type KubePrometheusOptions struct {
	// KubeStateMetrics is the host:port of kube-state-metrics' /metrics.
	KubeStateMetrics string
	// Pools map job_name to targets; each target's job label is its pool's Service.
	Pools map[string][]KubeTarget
	// Alerts go into one rule group, "kubernetes" (SetKubeAlerts replaces them).
	Alerts []KubeAlert
}

// KubePrometheus is a running Prometheus of a cluster.
type KubePrometheus struct {
	*Prometheus
	rulesFile string
}

// StartKubePrometheus starts the Prometheus at binary scraping kube-state-metrics and the
// pools, and returns once every target was scraped and the rules evaluated.
func StartKubePrometheus(t testing.TB, binary string, o KubePrometheusOptions) *KubePrometheus {
	t.Helper()
	addr, dir := FreeAddress(t), t.TempDir()
	p := &KubePrometheus{Prometheus: &Prometheus{URL: "http://" + addr, DataDir: filepath.Join(dir, "data")}, rulesFile: filepath.Join(dir, "rules.yml")}
	cfg := promConfig{
		Global: globalConfig{ScrapeInterval: scenarioInterval, ScrapeTimeout: scenarioInterval, EvaluationInterval: scenarioInterval},
		ScrapeConfigs: []scrapeConfig{{
			JobName: "serviceMonitor/monitoring/kube-state-metrics/0", HonorLabels: true,
			StaticConfigs: []staticConfig{{Targets: []string{o.KubeStateMetrics}, Labels: map[string]string{"job": "kube-state-metrics"}}},
		}},
		RuleFiles: []string{p.rulesFile},
	}
	want := 1
	for _, pool := range slices.Sorted(func(yield func(string) bool) {
		for k := range o.Pools {
			if !yield(k) {
				return
			}
		}
	}) {
		sc := scrapeConfig{JobName: pool}
		for _, tg := range o.Pools[pool] {
			sc.StaticConfigs = append(sc.StaticConfigs, staticConfig{Targets: []string{tg.Addr}, Labels: tg.Labels})
			want++
		}
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, sc)
	}
	writeYAML(t, p.rulesFile, kubeRules(o.Alerts))
	config := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, config, cfg)
	p.Process = StartProcess(t, "prometheus-"+addr, binary,
		"--config.file="+config, "--storage.tsdb.path="+p.DataDir, "--web.listen-address="+addr,
		"--web.enable-lifecycle", "--scrape.discovery-reload-interval=100ms")
	p.Process.WaitReady(t, p.URL+"/-/ready")
	waitScraped(t, p.URL, want)
	p.waitRules(t, o.Alerts)
	return p
}

func kubeRules(alerts []KubeAlert) ruleFile {
	g := ruleGroup{Name: "kubernetes", Rules: []rule{}}
	for _, a := range alerts {
		g.Rules = append(g.Rules, rule{Alert: a.Name, Expr: a.Expr, For: a.For})
	}
	return ruleFile{Groups: []ruleGroup{g}}
}

// SetKubeAlerts replaces the alerts, reloads the Prometheus and waits until they were
// evaluated.
func (p *KubePrometheus) SetKubeAlerts(t testing.TB, alerts []KubeAlert) {
	t.Helper()
	writeYAML(t, p.rulesFile, kubeRules(alerts))
	postReload(t, &http.Client{Timeout: 10 * time.Second}, p.URL, "Prometheus")
	p.waitRules(t, alerts)
}

// waitRules polls the rules API until the group holds exactly the alerts, each evaluated.
func (p *KubePrometheus) waitRules(t testing.TB, alerts []KubeAlert) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	WaitFor(t, "the Kubernetes alerts to be loaded and evaluated", func() bool {
		var rules rulesData
		if err := getAPI(client, p.URL, "/api/v1/rules", &rules); err != nil || len(rules.Groups) != 1 || len(rules.Groups[0].Rules) != len(alerts) {
			return false
		}
		for i, r := range rules.Groups[0].Rules {
			if r.Name != alerts[i].Name || r.LastEvaluation.IsZero() {
				return false
			}
		}
		return true
	})
}

package coverage

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/memstore"
)

// This file decides which loaded alerts page when a pod fails on Kubernetes, with the same
// two worlds as the rest of coverage but evaluated by Prometheus' own PromQL engine over
// described kube-state-metrics series: a pod of a Deployment, Running and ready in the
// healthy world; Running and failing its readiness probe (kube_pod_status_ready
// {condition="true"} 0) in the not-ready world; crash-looping (restarts rising every 5
// minutes, waiting with reason CrashLoopBackOff, not ready) in the crash-loop world. An alert
// covers a failure when it fires in the failing world for its whole `for` and its expression
// is empty in the healthy one. Deciding by evaluation rather than by name is what tells an
// old kubernetes-mixin KubePodNotReady (phase=~"Pending|Unknown" only: silent for a Running
// pod that is not ready) from the fixed one.

// Pod failures the Kubernetes worlds describe.
const (
	KubeNotReady  = "not-ready"
	KubeCrashLoop = "crashloop"
)

// KubeWorldNamespace is the namespace of the described pod: an alert restricted to some
// namespaces does not cover every namespace, and no real namespace is called so.
const KubeWorldNamespace = "blindspot-world"

// DefaultKubeJob is kube-state-metrics' job label when the inventory does not say another.
const DefaultKubeJob = "kube-state-metrics"

// kubeWorldLength is how long each world lasts, and kubeWorldStep its scrape interval: alerts
// with a `for` up to kubeWorldLength-kubeMaxRange are judged.
const (
	kubeWorldLength = 3 * time.Hour
	kubeWorldStep   = 30 * time.Second
	kubeMaxRange    = time.Hour
	kubeEvalStep    = time.Minute
)

// KubeCoverage is which alerts page for each pod failure.
type KubeCoverage struct {
	// Job is the job label the worlds' kube-state-metrics series carry.
	Job string
	// NotReady and CrashLoop are the alerts that cover each failure, in rule order.
	NotReady, CrashLoop []RuleRef
	// Read are the alerts that read kube-state-metrics' pod series and were evaluated.
	Read []RuleRef
	// ReadNotReady and ReadCrashLoop are the alerts that read the series of each failure
	// (phase or readiness; restarts or waiting reasons) and do not cover it: an old
	// kubernetes-mixin KubePodNotReady, say.
	ReadNotReady, ReadCrashLoop []RuleRef
}

// KubePods evaluates the inventory's alerts in the Kubernetes worlds. job is the job label of
// kube-state-metrics' series ("" for DefaultKubeJob).
func KubePods(inv *analyze.Inventory, job string, o Options) KubeCoverage {
	if o.RunbookAnnotation == "" {
		o.RunbookAnnotation = DefaultRunbookAnnotation
	}
	if job == "" {
		job = DefaultKubeJob
	}
	kc := KubeCoverage{Job: job}
	rules := newRuleIndex(inv)
	var candidates []*analyze.Rule
	for _, name := range kubeWorldMetrics {
		for _, r := range rules.alertsByMetric[name] {
			if !slices.Contains(candidates, r) {
				candidates = append(candidates, r)
			}
		}
	}
	if len(candidates) == 0 {
		return kc
	}
	// Rule order, as the report lists alerts.
	order := map[*analyze.Rule]int{}
	for i, r := range rules.alerts {
		order[r] = i
	}
	slices.SortFunc(candidates, func(a, b *analyze.Rule) int { return order[a] - order[b] })

	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples: 5_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
		EnableAtModifier: true, EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return kubeEvalStep.Milliseconds() },
	})
	defer engine.Close()
	healthy := newKubeWorld(engine, rules, kubeWorldSeries(job, ""))
	worlds := map[string]*kubeWorld{
		KubeNotReady:  newKubeWorld(engine, rules, kubeWorldSeries(job, KubeNotReady)),
		KubeCrashLoop: newKubeWorld(engine, rules, kubeWorldSeries(job, KubeCrashLoop)),
	}
	for _, r := range candidates {
		ref := refOf(r, o.RunbookAnnotation)
		kc.Read = append(kc.Read, ref)
		if healthy.activeAt(r.Parsed, kubeWorldEnd) {
			continue // fires when nothing fails: it says nothing of a failure
		}
		reads := func(names ...string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return slices.Contains(rules.alertsByMetric[n], r) })
		}
		switch {
		case worlds[KubeNotReady].firing(r):
			kc.NotReady = append(kc.NotReady, ref)
		case reads("kube_pod_status_ready", "kube_pod_status_phase", "kube_pod_container_status_ready"):
			kc.ReadNotReady = append(kc.ReadNotReady, ref)
		}
		switch {
		case worlds[KubeCrashLoop].firing(r):
			kc.CrashLoop = append(kc.CrashLoop, ref)
		case reads("kube_pod_container_status_restarts_total", "kube_pod_container_status_waiting_reason", "kube_pod_container_status_waiting"):
			kc.ReadCrashLoop = append(kc.ReadCrashLoop, ref)
		}
	}
	return kc
}

// kubeWorldMetrics are the names the worlds hold series of.
var kubeWorldMetrics = []string{
	"kube_pod_info", "kube_pod_owner", "kube_replicaset_owner", "kube_pod_status_phase", "kube_pod_status_ready",
	"kube_pod_container_status_ready", "kube_pod_container_status_running", "kube_pod_container_status_waiting",
	"kube_pod_container_status_waiting_reason", "kube_pod_container_status_restarts_total",
	"kube_pod_container_status_last_terminated_reason",
}

var kubeWorldEnd = time.Unix(0, 0).Add(kubeWorldLength)

// kubeWorldSeries are the series of one pod of Deployment "world" as kube-state-metrics
// exposes them, healthy (failure "") or failing.
func kubeWorldSeries(job, failure string) []memstore.Series {
	base := []string{"job", job, "instance", "kube-state-metrics:8080", "namespace", KubeWorldNamespace, "pod", "world-5f7d8-x2x9z", "uid", "00000000-0000-0000-0000-000000000001"}
	var out []memstore.Series
	add := func(name string, value func(t time.Duration) float64, extra ...string) {
		ls := labels.FromStrings(slices.Concat([]string{"__name__", name}, base, extra)...)
		s := memstore.Series{Labels: ls}
		for t := time.Duration(0); t <= kubeWorldLength; t += kubeWorldStep {
			s.Samples = append(s.Samples, memstore.Sample{T: t.Milliseconds(), F: value(t)})
		}
		out = append(out, s)
	}
	is := func(v float64) func(time.Duration) float64 { return func(time.Duration) float64 { return v } }
	b := func(c bool) func(time.Duration) float64 {
		if c {
			return is(1)
		}
		return is(0)
	}
	ready := failure == ""
	crash := failure == KubeCrashLoop
	add("kube_pod_info", is(1), "node", "node-1", "host_ip", "10.0.0.1", "pod_ip", "10.1.0.7", "created_by_kind", "ReplicaSet", "created_by_name", "world-5f7d8", "priority_class", "", "host_network", "false")
	add("kube_pod_owner", is(1), "owner_kind", "ReplicaSet", "owner_name", "world-5f7d8", "owner_is_controller", "true")
	// The ReplicaSet's series carry no pod label.
	rs := labels.FromStrings("__name__", "kube_replicaset_owner", "job", job, "instance", "kube-state-metrics:8080", "namespace", KubeWorldNamespace,
		"replicaset", "world-5f7d8", "owner_kind", "Deployment", "owner_name", "world", "owner_is_controller", "true")
	rsSeries := memstore.Series{Labels: rs}
	for t := time.Duration(0); t <= kubeWorldLength; t += kubeWorldStep {
		rsSeries.Samples = append(rsSeries.Samples, memstore.Sample{T: t.Milliseconds(), F: 1})
	}
	out = append(out, rsSeries)
	for _, phase := range []string{"Pending", "Succeeded", "Failed", "Unknown", "Running"} {
		add("kube_pod_status_phase", b(phase == "Running"), "phase", phase)
	}
	add("kube_pod_status_ready", b(ready), "condition", "true")
	add("kube_pod_status_ready", b(!ready), "condition", "false")
	add("kube_pod_status_ready", is(0), "condition", "unknown")
	add("kube_pod_container_status_ready", b(ready), "container", "app")
	add("kube_pod_container_status_running", b(!crash), "container", "app")
	add("kube_pod_container_status_waiting", b(crash), "container", "app")
	restarts := is(0)
	if crash {
		restarts = func(t time.Duration) float64 { return math.Floor(float64(t / (5 * time.Minute))) }
		add("kube_pod_container_status_waiting_reason", is(1), "container", "app", "reason", "CrashLoopBackOff")
		add("kube_pod_container_status_last_terminated_reason", is(1), "container", "app", "reason", "Error")
	}
	add("kube_pod_container_status_restarts_total", restarts, "container", "app")
	return out
}

// kubeWorld is one world's series, with the recording rules the alerts read evaluated into it.
type kubeWorld struct {
	engine *promql.Engine
	rules  *ruleIndex
	series []memstore.Series
	store  *memstore.Storage
	// recorded are the recorded metric names already evaluated into series.
	recorded map[string]bool
}

func newKubeWorld(engine *promql.Engine, rules *ruleIndex, series []memstore.Series) *kubeWorld {
	return &kubeWorld{engine: engine, rules: rules, series: series, store: memstore.New(series), recorded: map[string]bool{}}
}

// record evaluates the recording rules expr reads (those reading others first), over the
// world's whole length, and adds their series.
func (w *kubeWorld) record(expr parser.Expr, depth int) {
	if depth > maxRecordingDepth {
		return
	}
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if name := MetricName(vs); name != "" && !w.recorded[name] && len(w.rules.recordings[name]) > 0 {
				names = append(names, name)
			}
		}
		return nil
	})
	added := false
	for _, name := range names {
		if w.recorded[name] {
			continue
		}
		w.recorded[name] = true
		for _, rec := range w.rules.recordings[name] {
			w.record(rec.Parsed, depth+1)
			m, err := w.rangeQuery(rec.Parsed)
			if err != nil {
				continue
			}
			for _, s := range m {
				b := labels.NewBuilder(s.Metric)
				b.Set(labels.MetricName, rec.Name)
				for k, v := range rec.Labels {
					b.Set(k, v)
				}
				ms := memstore.Series{Labels: b.Labels()}
				for _, p := range s.Floats {
					ms.Samples = append(ms.Samples, memstore.Sample{T: p.T, F: p.F})
				}
				w.series = append(w.series, ms)
				added = true
			}
		}
	}
	if added {
		w.store = memstore.New(w.series)
	}
}

func (w *kubeWorld) rangeQuery(expr parser.Expr) (promql.Matrix, error) {
	q, err := w.engine.NewRangeQuery(context.Background(), w.store, nil, expr.String(), time.Unix(0, 0), kubeWorldEnd, kubeWorldStep)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		return nil, res.Err
	}
	m, _ := res.Value.(promql.Matrix)
	return m, nil
}

// activeAt says whether expr returns anything at t.
func (w *kubeWorld) activeAt(expr parser.Expr, t time.Time) bool {
	w.record(expr, 0)
	q, err := w.engine.NewInstantQuery(context.Background(), w.store, nil, expr.String(), t)
	if err != nil {
		return false
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		return false
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return len(v) > 0
	case promql.Scalar:
		return true
	}
	return false
}

// firing says whether the alerting rule r fires at the world's end: its expression returns
// something at every evaluation over its `for`.
func (w *kubeWorld) firing(r *analyze.Rule) bool {
	if r.For > kubeWorldLength-kubeMaxRange {
		return false
	}
	for t := kubeWorldEnd; !t.Before(kubeWorldEnd.Add(-r.For)); t = t.Add(-kubeEvalStep) {
		if !w.activeAt(r.Parsed, t) {
			return false
		}
	}
	return true
}

package kubernetes

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/rules"
)

// FileName is the stem of the pods' rule file: rules/kubernetes-pods.yaml.
const FileName = "kubernetes-pods"

// The alert names (documented in docs/generate.md).
const (
	AlertPodNotReady     = "KubernetesPodNotReady"
	AlertPodCrashLooping = "KubernetesPodCrashLooping"
)

// podFor is how long a pod must stay not ready or crash-looping before the alert fires, as
// the kubernetes-mixin waits.
const podFor = 15 * time.Minute

// PodAlerts plans the rule file of the readiness and crash-loop alerts over every namespace,
// each only when its check (pods/not-ready-unalerted, pods/crashloop-unalerted) found that
// no loaded alert covers the failure.
type PodAlerts struct{}

func (PodAlerts) Name() string   { return "Kubernetes pod alerts" }
func (PodAlerts) Dirs() []string { return nil }

func (PodAlerts) Generate(in generate.Input, out *generate.Output) error {
	f, ok := RuleFile(in.Findings, in.Options)
	if !ok {
		return nil
	}
	files, err := rules.Scoped([]generate.RuleFile{f}, in.Options.Scope)
	if err != nil {
		return err
	}
	out.RuleFiles = append(out.RuleFiles, files...)
	return nil
}

// RuleFile is the pods' rule file for the findings, false when neither check found its gap.
func RuleFile(findings []analyze.Finding, o generate.Options) (generate.RuleFile, bool) {
	o = generate.DefaultOptions(o)
	var alerts []generate.Alert
	for _, id := range []string{checks.PodsNotReadyUnalertedName, checks.PodsCrashloopUnalertedName} {
		for _, f := range findings {
			if f.Check != id {
				continue
			}
			job := f.Subject["job"]
			if job == "" {
				job = coverage.DefaultKubeJob
			}
			if id == checks.PodsNotReadyUnalertedName {
				alerts = append(alerts, notReady(job, o))
			} else {
				alerts = append(alerts, crashLooping(job, o))
			}
			break
		}
	}
	if len(alerts) == 0 {
		return generate.RuleFile{}, false
	}
	for i := range alerts {
		if team := o.OwnerOf(alerts[i].Job); team != "" {
			alerts[i].Labels[o.OwnerLabel] = team
			alerts[i].Test.FiringLabels[o.OwnerLabel] = team
		}
	}
	return generate.RuleFile{Name: FileName, Group: FileName, Alerts: alerts}, true
}

func selector(name, job string, extra ...string) *parser.VectorSelector {
	ms := []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name),
		labels.MustNewMatcher(labels.MatchEqual, "job", job),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, extra[i], extra[i+1]))
	}
	return &parser.VectorSelector{Name: name, LabelMatchers: ms}
}

func base(name, job string, o generate.Options) generate.Alert {
	runbook := "runbooks/" + name + ".md"
	return generate.Alert{
		Name:        name,
		Kind:        generate.KindKubePods,
		Job:         job,
		For:         podFor,
		Runbook:     runbook,
		Labels:      map[string]string{"generated_by": "blindspot", "severity": "warning"},
		Annotations: map[string]string{"runbook_url": o.RunbookURL(runbook)},
	}
}

// notReady fires for each Running pod whose Ready condition is false, in every namespace:
//
//	min by (namespace, pod) (kube_pod_status_ready{condition="true",job="…"}) == 0
//	  and on (namespace, pod)
//	max by (namespace, pod) (kube_pod_status_phase{job="…",phase="Running"}) == 1
func notReady(job string, o generate.Options) generate.Alert {
	a := base(AlertPodNotReady, job, o)
	a.Expr = &parser.BinaryExpr{
		Op: parser.LAND,
		LHS: &parser.BinaryExpr{
			Op:  parser.EQLC,
			LHS: &parser.AggregateExpr{Op: parser.MIN, Grouping: []string{"namespace", "pod"}, Expr: selector("kube_pod_status_ready", job, "condition", "true")},
			RHS: &parser.NumberLiteral{Val: 0},
		},
		RHS: &parser.BinaryExpr{
			Op:  parser.EQLC,
			LHS: &parser.AggregateExpr{Op: parser.MAX, Grouping: []string{"namespace", "pod"}, Expr: selector("kube_pod_status_phase", job, "phase", "Running")},
			RHS: &parser.NumberLiteral{Val: 1},
		},
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany, On: true, MatchingLabels: []string{"namespace", "pod"}},
	}
	a.Annotations["summary"] = "Pod {{ $labels.namespace }}/{{ $labels.pod }} is Running and not ready"
	a.Annotations["description"] = "Pod {{ $labels.pod }} in namespace {{ $labels.namespace }} has been Running and failing its readiness probe for more than 15m: its Services send it no traffic."
	a.Impact = "The pod receives no traffic from its Services while it is not ready. When every pod of a workload is not ready, " +
		"its Service has no endpoints and its users get errors, even though the pods run and no restart shows it."
	a.Mitigation = []string{
		"Read why the probe fails: `kubectl describe pod -n <namespace> <pod>` (Events, the readiness probe) and `kubectl logs -n <namespace> <pod>`.",
		"Check what the readiness probe depends on: a database, a queue, a downstream service, a slow start after a deployment.",
		"Roll back the last deployment of the workload if the pods stopped being ready with it.",
	}
	a.Test = podTest(
		[]generate.Series{
			{Series: series("kube_pod_status_ready", job, "condition", "true", "namespace", "shop", "pod", "db-0"), Values: "0x30"},
			{Series: series("kube_pod_status_phase", job, "namespace", "shop", "phase", "Running", "pod", "db-0"), Values: "1x30"},
		},
		[]generate.Series{
			{Series: series("kube_pod_status_ready", job, "condition", "true", "namespace", "shop", "pod", "db-0"), Values: "1x30"},
			{Series: series("kube_pod_status_phase", job, "namespace", "shop", "phase", "Running", "pod", "db-0"), Values: "1x30"},
		},
		map[string]string{"namespace": "shop", "pod": "db-0"})
	// A Job's pod that Succeeded is not ready and not Running: silent.
	a.Test.ExtraHealthy = [][]generate.Series{{
		{Series: series("kube_pod_status_ready", job, "condition", "true", "namespace", "batch", "pod", "report-1"), Values: "0x30"},
		{Series: series("kube_pod_status_phase", job, "namespace", "batch", "phase", "Running", "pod", "report-1"), Values: "0x30"},
	}}
	return a
}

// crashLooping fires for each container waiting in CrashLoopBackOff, in every namespace:
//
//	max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{job="…",reason="CrashLoopBackOff"}[5m])) >= 1
func crashLooping(job string, o generate.Options) generate.Alert {
	a := base(AlertPodCrashLooping, job, o)
	a.Expr = &parser.BinaryExpr{
		Op: parser.GTE,
		LHS: &parser.AggregateExpr{
			Op: parser.MAX, Grouping: []string{"namespace", "pod", "container"},
			Expr: &parser.Call{Func: parser.Functions["max_over_time"], Args: parser.Expressions{&parser.MatrixSelector{
				VectorSelector: selector("kube_pod_container_status_waiting_reason", job, "reason", "CrashLoopBackOff"),
				Range:          5 * time.Minute,
			}}},
		},
		RHS: &parser.NumberLiteral{Val: 1},
	}
	a.Annotations["summary"] = "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping"
	a.Annotations["description"] = "Container {{ $labels.container }} of pod {{ $labels.pod }} in namespace {{ $labels.namespace }} has been waiting in CrashLoopBackOff for more than 15m: it starts, exits and is restarted with a growing back-off."
	a.Impact = "The container does not run most of the time: what it serves fails or answers from fewer pods, " +
		"and a workload whose every pod crash-loops is down while its Deployment still looks rolled out."
	a.Mitigation = []string{
		"Read why it exits: `kubectl logs -n <namespace> <pod> -c <container> --previous` and the last state in `kubectl describe pod -n <namespace> <pod>` (OOMKilled, Error, exit code).",
		"Check its configuration and dependencies: a missing Secret or ConfigMap, a database it cannot reach, a memory limit too low.",
		"Roll back the last deployment of the workload if the crash loop started with it.",
	}
	a.Test = podTest(
		[]generate.Series{{Series: series("kube_pod_container_status_waiting_reason", job, "container", "api", "namespace", "payments", "pod", "api-6b9c-x1", "reason", "CrashLoopBackOff"), Values: "1x30"}},
		[]generate.Series{{Series: series("kube_pod_container_status_waiting_reason", job, "container", "api", "namespace", "payments", "pod", "api-6b9c-x1", "reason", "CrashLoopBackOff"), Values: "0x30"}},
		map[string]string{"container": "api", "namespace": "payments", "pod": "api-6b9c-x1"})
	return a
}

// series prints a test series name{job="…",…} with the library.
func series(name, job string, extra ...string) string {
	return selector(name, job, extra...).String()
}

// podTest evaluates 20m into a minute-interval world, past the 15m `for`.
func podTest(failing, healthy []generate.Series, firing map[string]string) generate.TestCase {
	firing["generated_by"] = "blindspot"
	firing["severity"] = "warning"
	return generate.TestCase{
		Interval:      time.Minute,
		FailingSeries: failing,
		HealthySeries: healthy,
		EvalTime:      20 * time.Minute,
		FiringLabels:  firing,
	}
}

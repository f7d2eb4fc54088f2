package rules

import (
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
)

// WatchdogName is the name of the generated heartbeat alert, and WatchdogFile the stem of its
// rule file: rules/blindspot-watchdog.yaml.
const (
	WatchdogName = "Watchdog"
	WatchdogFile = "blindspot-watchdog"
)

// severityWatchdog says the heartbeat pages nobody by itself: a dead man's switch outside the
// cluster pages when it stops arriving.
const severityWatchdog = "none"

// Watchdog returns the heartbeat rule file when the findings include alertmanager/no-watchdog,
// or nothing.
func Watchdog(findings []analyze.Finding, o generate.Options) []generate.RuleFile {
	found := false
	for _, f := range findings {
		if f.Check == checks.AlertmanagerNoWatchdogName {
			found = true
		}
	}
	if !found {
		return nil
	}
	o = generate.DefaultOptions(o)
	runbook := "runbooks/" + WatchdogName + ".md"
	a := generate.Alert{
		Name:    WatchdogName,
		Kind:    generate.KindWatchdog,
		Expr:    &parser.Call{Func: parser.Functions["vector"], Args: parser.Expressions{number(1)}},
		Runbook: runbook,
		Labels:  map[string]string{"generated_by": GeneratedBy, "severity": severityWatchdog},
		Annotations: map[string]string{
			"runbook_url": templateText(runbookURL(o.RunbookBaseURL, runbook)),
			"summary":     "The alerting pipeline is alive",
			"description": "This alert always fires. Route it to a dead man's switch outside the cluster, which pages when the heartbeat stops: then Prometheus, Alertmanager or the route between them is down.",
		},
		// A heartbeat has no healthy world: it must fire at every evaluation.
		Test: generate.TestCase{
			Interval:     time.Minute,
			EvalTime:     5 * time.Minute,
			FiringLabels: map[string]string{"generated_by": GeneratedBy, "severity": severityWatchdog},
		},
	}
	return []generate.RuleFile{{Name: WatchdogFile, Group: "blindspot-watchdog", Alerts: []generate.Alert{a}}}
}

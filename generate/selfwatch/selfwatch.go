// Package selfwatch writes the alerts that watch blindspot itself: the nightly gap check is a
// batch job like any other, and a check that silently stopped running is one more blind spot.
// They read the gap metrics `blindspot check` writes (analyze/gapmetrics) through node
// exporter's textfile collector or a Pushgateway, so they match on the metric names only, not
// on the job that scraped them.
package selfwatch

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/gapmetrics"
	"github.com/blindspot-dev/blindspot/generate"
)

// FileName is the stem of the rule file: rules/blindspot-self.yaml.
const FileName = "blindspot-self"

// The alert names (documented in docs/ci.md).
const (
	AlertCheckStale = "BlindspotCheckStale"
	AlertNewGaps    = "BlindspotNewGaps"
)

// generatedBy is the generated_by label, as on every generated alert.
const generatedBy = "blindspot"

// Series labels of the test worlds: the Pushgateway's job and an empty instance, as pushed.
var pushed = []*labels.Matcher{
	labels.MustNewMatcher(labels.MatchEqual, "instance", "pushgateway:9091"),
	labels.MustNewMatcher(labels.MatchEqual, "job", gapmetrics.Job),
}

// Exported reports whether the gap metrics the alerts read reach the audited server: the
// configuration says blindspot check exports them (o.GapMetrics), or the server already has
// them (every run writes gapmetrics.LastRun). Otherwise the alerts would read metrics nobody
// exports: the next audit would report them under rules/unknown-metric, and
// BlindspotCheckStale would fire for ever through its absent().
func Exported(inv *analyze.Inventory, o generate.Options) bool {
	if o.GapMetrics {
		return true
	}
	if !inv.Has(analyze.PartMetricNames) {
		return false
	}
	_, found := slices.BinarySearch(inv.MetricNames, gapmetrics.LastRun)
	return found
}

// RuleFile returns the rule file of the two alerts. o.CheckStaleAfter is how long a check may
// go without succeeding (default 36h).
func RuleFile(o generate.Options) generate.RuleFile {
	o = generate.DefaultOptions(o)
	alerts := []generate.Alert{checkStale(o), newGaps(o)}
	// Whoever runs the check owns these alerts: a generate.owners entry for job "blindspot"
	// (the job the gap metrics are pushed under) names the team.
	if team := o.OwnerOf(gapmetrics.Job); team != "" {
		for i := range alerts {
			alerts[i].Labels[o.OwnerLabel] = team
			alerts[i].Test.FiringLabels[o.OwnerLabel] = team
		}
	}
	return generate.RuleFile{Name: FileName, Group: FileName, Alerts: alerts}
}

func selector(name string, extra ...*labels.Matcher) *parser.VectorSelector {
	return &parser.VectorSelector{
		Name:          name,
		LabelMatchers: append([]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name)}, extra...),
	}
}

func series(name string, extra ...*labels.Matcher) string {
	return selector(name, append(extra, pushed...)...).String()
}

func base(name string, o generate.Options) generate.Alert {
	return generate.Alert{
		Name:        name,
		Kind:        generate.KindSelf,
		Job:         gapmetrics.Job,
		Runbook:     "runbooks/" + name + ".md",
		Labels:      map[string]string{"generated_by": generatedBy, "severity": "warning"},
		Annotations: map[string]string{"runbook_url": o.RunbookURL("runbooks/" + name + ".md")},
	}
}

// checkStale fires when no check has succeeded for CheckStaleAfter, or none ever reported:
//
//	time() - max(blindspot_last_success_timestamp_seconds) > 129600
//	  or absent(blindspot_last_success_timestamp_seconds)
func checkStale(o generate.Options) generate.Alert {
	a := base(AlertCheckStale, o)
	stale := o.CheckStaleAfter
	a.Expr = &parser.BinaryExpr{
		Op: parser.LOR,
		LHS: &parser.BinaryExpr{
			Op: parser.GTR,
			LHS: &parser.BinaryExpr{
				Op:  parser.SUB,
				LHS: &parser.Call{Func: parser.Functions["time"], Args: parser.Expressions{}},
				RHS: &parser.AggregateExpr{Op: parser.MAX, Expr: selector(gapmetrics.LastSuccess)},
			},
			RHS: &parser.NumberLiteral{Val: stale.Seconds()},
		},
		RHS:            &parser.Call{Func: parser.Functions["absent"], Args: parser.Expressions{selector(gapmetrics.LastSuccess)}},
		VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany},
	}
	a.For = 10 * time.Minute
	a.Annotations["summary"] = fmt.Sprintf("No blindspot check has succeeded for more than %s", model.Duration(stale))
	a.Annotations["description"] = fmt.Sprintf(
		"No run of blindspot check that read every source has reported %s for more than %s, or none ever did: the gaps it would find go unnoticed.",
		gapmetrics.LastSuccess, model.Duration(stale))
	a.Impact = "Nobody learns about new blind spots: an exporter without an up alert, a job that lost its targets, " +
		"an expired exception. The monitoring keeps drifting while the check looks green because it does not run."
	a.Mitigation = []string{
		"Check that the scheduler (cron, CI schedule, Kubernetes CronJob) still starts `blindspot check`, and read the log of its last run.",
		"If it ran but exited 3, a source could not be read: read `blindspot_source_up` and fix the credentials or the network path to that server.",
		"If it ran but the metrics did not arrive, check the `--metrics-file` directory of node exporter's textfile collector or the `--pushgateway` URL.",
		"Run `blindspot check` by hand once fixed, and watch `" + gapmetrics.LastSuccess + "` change.",
	}

	// Samples every 5 minutes, the longest interval under the 5m lookback: the gauge must not
	// go stale between samples.
	const interval = 5 * time.Minute
	eval := stale + a.For + 2*interval
	n := int(eval/interval) + 10
	a.Test = generate.TestCase{
		Interval: interval,
		// The last success was at 0s and never again.
		FailingSeries: []generate.Series{{Series: series(gapmetrics.LastSuccess), Values: fmt.Sprintf("0x%d", n)}},
		// No success ever reported, though the check runs.
		ExtraFailing: [][]generate.Series{{{Series: series(gapmetrics.LastRun), Values: fmt.Sprintf("0+%dx%d", int(interval.Seconds()), n)}}},
		// A success at every sample: the value is its own time.
		HealthySeries: []generate.Series{{Series: series(gapmetrics.LastSuccess), Values: fmt.Sprintf("0+%dx%d", int(interval.Seconds()), n)}},
		EvalTime:      eval,
		FiringLabels:  map[string]string{"generated_by": generatedBy, "severity": "warning"},
	}
	return a
}

// newGaps fires per check while the last check found gaps its baseline does not hold:
//
//	sum by (check) (blindspot_new_findings) > 0
func newGaps(o generate.Options) generate.Alert {
	a := base(AlertNewGaps, o)
	a.Expr = &parser.BinaryExpr{
		Op:  parser.GTR,
		LHS: &parser.AggregateExpr{Op: parser.SUM, Grouping: []string{"check"}, Expr: selector(gapmetrics.NewFindings)},
		RHS: &parser.NumberLiteral{Val: 0},
	}
	a.Annotations["summary"] = "blindspot found new gaps of check {{ $labels.check }}"
	a.Annotations["description"] = "The last blindspot check found {{ $value }} gaps of check {{ $labels.check }} that its baseline does not hold."
	a.Impact = "The monitoring has new blind spots: something changed (a new job, a rule edited, a target gone) and " +
		"a failure there would page nobody. Each check's page under docs/checks says what its gaps mean."
	a.Mitigation = []string{
		"Read the report of the last run (its Markdown summary, JUnit or SARIF output in CI) for the new findings of the check.",
		"Close the gaps: `blindspot generate` writes the missing alerts, runbooks and pipelines; commit and deploy them.",
		"If a gap is accepted, add an `ignore:` entry with a `reason` and an `expires` date; if it is known, run `blindspot check --update-baseline` and commit the baseline.",
	}
	const interval = time.Minute
	check := labels.MustNewMatcher(labels.MatchEqual, "check", "targets/down")
	sev := labels.MustNewMatcher(labels.MatchEqual, "severity", "critical")
	a.Test = generate.TestCase{
		Interval:      interval,
		FailingSeries: []generate.Series{{Series: series(gapmetrics.NewFindings, check, sev), Values: "2x20"}},
		HealthySeries: []generate.Series{{Series: series(gapmetrics.NewFindings, check, sev), Values: "0x20"}},
		EvalTime:      5 * time.Minute,
		FiringLabels:  map[string]string{"check": "targets/down", "generated_by": generatedBy, "severity": "warning"},
	}
	return a
}

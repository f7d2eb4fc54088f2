package checks_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// ruleInventory holds one PromQL group in rules/app.yml with the given rules, each filled in
// with its group and file as the collectors do.
func ruleInventory(rs ...analyze.Rule) *analyze.Inventory {
	b := newBuilder(analyze.PartRules)
	b.AddRuleGroup(promqlGroup("app.rules", "rules/app.yml", rs...))
	return b.Build()
}

// promqlGroup is a PromQL rule group of file holding rs, each filled in with its group and
// file as the collectors do.
func promqlGroup(name, file string, rs ...analyze.Rule) analyze.RuleGroup {
	g := analyze.RuleGroup{Name: name, File: file, Language: "promql"}
	for _, r := range rs {
		r.Group, r.File = g.Name, g.File
		g.Rules = append(g.Rules, analyze.NewRule(r))
	}
	return g
}

func alert(name string, labels, annotations map[string]string) analyze.Rule {
	return analyze.Rule{Kind: analyze.RuleAlerting, Name: name, Expr: `up == 0`, Labels: labels, Annotations: annotations}
}

// complete is an alert with everything the rule checks look for.
func complete(name string) analyze.Rule {
	return alert(name, map[string]string{"severity": "critical"}, map[string]string{"runbook_url": "https://runbooks.example/" + name})
}

func ruleNames(fs []analyze.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Subject["rule"])
	}
	return out
}

func TestRulesBroken(t *testing.T) {
	t.Run("A rule whose evaluation fails is reported with its last error, group and file.", func(t *testing.T) {
		r := complete("HighErrorRate")
		r.Health, r.LastError = "err", "found duplicate series for the match group"
		f := only(t, runOne(checks.RulesBroken{}, ruleInventory(complete("NodeDown"), r)))

		if checks.RulesBrokenName != "rules/broken" || f.Check != checks.RulesBrokenName || f.Severity != analyze.Critical {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		if want := map[string]string{"rule": "HighErrorRate"}; !maps.Equal(f.Subject, want) || f.ID != analyze.FindingID("rules/broken", want) {
			t.Errorf("subject %v, ID %s", f.Subject, f.ID)
		}
		if want := `alerting rule "HighErrorRate" fails to evaluate: found duplicate series for the match group`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		if f.File != "rules/app.yml" || f.Group != "app.rules" {
			t.Errorf("file %q, group %q", f.File, f.Group)
		}
		want := map[string]string{"last_error": "found duplicate series for the match group", "expr": "up == 0"}
		if !maps.Equal(f.Details, want) {
			t.Errorf("details = %v, want %v", f.Details, want)
		}
		if f.Fix == "" {
			t.Error("no fix: the finding must say what to do even when generate cannot help")
		}
	})

	t.Run("A failing recording rule is reported too: every alert reading its output goes blind.", func(t *testing.T) {
		r := analyze.Rule{Kind: analyze.RuleRecording, Name: "job:errors:rate5m", Expr: `sum by (job) (rate(errors_total[5m]))`,
			Health: "err", LastError: "query timed out in expression evaluation"}
		f := only(t, runOne(checks.RulesBroken{}, ruleInventory(r)))
		if want := `recording rule "job:errors:rate5m" fails to evaluate: query timed out in expression evaluation`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
	})

	t.Run("A failing rule without an error message says so instead of ending the message on a colon.", func(t *testing.T) {
		r := complete("Silent")
		r.Health = "err"
		f := only(t, runOne(checks.RulesBroken{}, ruleInventory(r)))
		if want := `alerting rule "Silent" fails to evaluate: no error reported`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
	})

	t.Run("Rules that are ok, not evaluated yet, or read from files without a health are not reported.", func(t *testing.T) {
		ok, unknown, fromFile := complete("A"), complete("B"), complete("C")
		ok.Health, unknown.Health = "ok", "unknown"
		ok.LastError = "stale error from an earlier evaluation"
		if fs := runOne(checks.RulesBroken{}, ruleInventory(ok, unknown, fromFile)); len(fs) != 0 {
			t.Errorf("findings = %+v", fs)
		}
	})

	t.Run("A rule from a file carries its line among the details.", func(t *testing.T) {
		r := complete("FromFile")
		r.Health, r.Line = "err", 42
		f := only(t, runOne(checks.RulesBroken{}, ruleInventory(r)))
		if f.Details["line"] != "42" {
			t.Errorf("details = %v", f.Details)
		}
	})

	t.Run("The check needs the rules and nothing else.", func(t *testing.T) {
		if got := (checks.RulesBroken{}).Meta().Requires; !slices.Equal(got, []analyze.Part{analyze.PartRules}) {
			t.Errorf("Requires = %v", got)
		}
	})
}

func TestAlertsNoRunbook(t *testing.T) {
	check := checks.NewAlertsNoRunbook(checks.Options{})

	t.Run("An alert without a runbook_url annotation is reported, and the fix names the runbook generate writes.", func(t *testing.T) {
		f := only(t, runOne(check, ruleInventory(complete("NodeDown"), alert("DiskFull", map[string]string{"severity": "warning"}, nil))))
		if checks.AlertsNoRunbookName != "alerts/no-runbook" || f.Check != checks.AlertsNoRunbookName || f.Severity != analyze.Warning {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		if !maps.Equal(f.Subject, map[string]string{"rule": "DiskFull"}) {
			t.Errorf("subject = %v", f.Subject)
		}
		if want := `alert "DiskFull" has no runbook_url annotation`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		if want := "blindspot generate writes runbooks/DiskFull.md and a runbook_url annotation in the generated rules"; f.Fix != want {
			t.Errorf("fix = %q, want %q", f.Fix, want)
		}
		if f.File != "rules/app.yml" || f.Group != "app.rules" || len(f.Details) != 0 {
			t.Errorf("file %q, group %q, details %v", f.File, f.Group, f.Details)
		}
	})

	t.Run("An alert whose runbook annotation is blank is reported as having an empty one.", func(t *testing.T) {
		f := only(t, runOne(check, ruleInventory(alert("Blank", nil, map[string]string{"runbook_url": " "}))))
		if want := `alert "Blank" has an empty runbook_url annotation`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
	})

	t.Run("An alert whose runbook is a javascript:, data: or vbscript: URL has no runbook and is reported.", func(t *testing.T) {
		var rules []analyze.Rule
		for i, u := range []string{"javascript:alert(document.cookie)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
			"data:text/html;base64,PHNjcmlwdD4=", "VBScript:msgbox(1)"} {
			rules = append(rules, alert(fmt.Sprintf("Bad%d", i), nil, map[string]string{"runbook_url": u}))
		}
		rules = append(rules, alert("Relative", nil, map[string]string{"runbook_url": "runbooks/Relative.md"}), complete("NodeDown"))
		fs := runOne(check, ruleInventory(rules...))
		if got, want := ruleNames(fs), []string{"Bad0", "Bad1", "Bad2", "Bad3", "Bad4"}; !slices.Equal(got, want) {
			t.Fatalf("reported %v, want %v", got, want)
		}
		if want := `alert "Bad0" has a runbook_url annotation that is not an http, https or relative link`; fs[0].Message != want {
			t.Errorf("message = %q, want %q", fs[0].Message, want)
		}
	})

	t.Run("Alerts with a runbook and recording rules are not reported.", func(t *testing.T) {
		rec := analyze.Rule{Kind: analyze.RuleRecording, Name: "job:up:sum", Expr: `sum by (job) (up)`}
		if fs := runOne(check, ruleInventory(complete("NodeDown"), rec)); len(fs) != 0 {
			t.Errorf("findings = %+v", fs)
		}
	})

	t.Run("The annotation name comes from the options, in the message and in the fix.", func(t *testing.T) {
		custom := checks.NewAlertsNoRunbook(checks.Options{RunbookAnnotation: "playbook"})
		// complete() has runbook_url, which no longer counts.
		fs := runOne(custom, ruleInventory(complete("NodeDown"), alert("Linked", nil, map[string]string{"playbook": "https://wiki/linked"})))
		f := only(t, fs)
		if f.Subject["rule"] != "NodeDown" || f.Message != `alert "NodeDown" has no playbook annotation` {
			t.Errorf("finding = %+v", f)
		}
		if want := "blindspot generate writes runbooks/NodeDown.md and a playbook annotation in the generated rules"; f.Fix != want {
			t.Errorf("fix = %q, want %q", f.Fix, want)
		}
	})

	t.Run("The zero value reads runbook_url, like the constructor without options.", func(t *testing.T) {
		fs := runOne(checks.AlertsNoRunbook{}, ruleInventory(complete("NodeDown"), alert("Bare", nil, nil)))
		if got := ruleNames(fs); !slices.Equal(got, []string{"Bare"}) {
			t.Errorf("reported %v", got)
		}
	})

	t.Run("Alerts of rule groups that are not PromQL need a runbook as much and are reported.", func(t *testing.T) {
		b := newBuilder(analyze.PartRules)
		b.AddRuleGroup(analyze.RuleGroup{Name: "logs", File: "rules/logs.yml", Language: "vlogs", Rules: []analyze.Rule{
			{Kind: analyze.RuleAlerting, Name: "ErrorLogs", Expr: `error | stats count()`, Group: "logs", File: "rules/logs.yml"},
		}})
		f := only(t, runOne(check, b.Build()))
		if f.Subject["rule"] != "ErrorLogs" || f.File != "rules/logs.yml" || f.Group != "logs" {
			t.Errorf("finding = %+v", f)
		}
	})

	t.Run("A rule without its own group and file is located by the group that holds it.", func(t *testing.T) {
		b := newBuilder(analyze.PartRules)
		b.AddRuleGroup(analyze.RuleGroup{Name: "g", File: "f.yml", Language: "promql", Rules: []analyze.Rule{alert("Bare", nil, nil)}})
		f := only(t, runOne(check, b.Build()))
		if f.File != "f.yml" || f.Group != "g" {
			t.Errorf("file %q, group %q", f.File, f.Group)
		}
	})
}

func TestAlertsNoSeverity(t *testing.T) {
	check := checks.NewAlertsNoSeverity(checks.Options{})

	t.Run("An alert without a severity label is reported, and the fix names the label.", func(t *testing.T) {
		f := only(t, runOne(check, ruleInventory(complete("NodeDown"), alert("DiskFull", nil, map[string]string{"runbook_url": "x"}))))
		if checks.AlertsNoSeverityName != "alerts/no-severity" || f.Check != checks.AlertsNoSeverityName || f.Severity != analyze.Info {
			t.Errorf("check %q severity %v", f.Check, f.Severity)
		}
		if !maps.Equal(f.Subject, map[string]string{"rule": "DiskFull"}) || f.File != "rules/app.yml" || f.Group != "app.rules" {
			t.Errorf("subject %v, file %q, group %q", f.Subject, f.File, f.Group)
		}
		if want := `alert "DiskFull" has no severity label`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
		if want := "blindspot generate writes a severity label in the generated rules; on this rule, add severity: critical (pages) or warning (tickets) to its labels"; f.Fix != want {
			t.Errorf("fix = %q, want %q", f.Fix, want)
		}
	})

	t.Run("An alert whose severity label is empty is reported as having an empty one.", func(t *testing.T) {
		f := only(t, runOne(check, ruleInventory(alert("Blank", map[string]string{"severity": ""}, nil))))
		if want := `alert "Blank" has an empty severity label`; f.Message != want {
			t.Errorf("message = %q, want %q", f.Message, want)
		}
	})

	t.Run("The label name comes from the options; a severity annotation does not count.", func(t *testing.T) {
		custom := checks.NewAlertsNoSeverity(checks.Options{SeverityLabel: "priority"})
		fs := runOne(custom, ruleInventory(
			alert("Prioritized", map[string]string{"priority": "P1"}, nil),
			alert("Annotated", nil, map[string]string{"priority": "P1"}),
			complete("NodeDown"),
		))
		if got := ruleNames(fs); !slices.Equal(got, []string{"Annotated", "NodeDown"}) {
			t.Errorf("reported %v", got)
		}
		if fs[0].Message != `alert "Annotated" has no priority label` {
			t.Errorf("message = %q", fs[0].Message)
		}
	})

	t.Run("Recording rules are not alerts and need no severity.", func(t *testing.T) {
		rec := analyze.Rule{Kind: analyze.RuleRecording, Name: "job:up:sum", Expr: `sum by (job) (up)`}
		if fs := runOne((checks.AlertsNoSeverity{}), ruleInventory(rec)); len(fs) != 0 {
			t.Errorf("findings = %+v", fs)
		}
	})
}

func TestRuleChecksUnderPolicy(t *testing.T) {
	o := checks.Options{}
	ruleChecks := []checks.Check{checks.RulesBroken{}, checks.NewAlertsNoRunbook(o), checks.NewAlertsNoSeverity(o)}

	t.Run("Without the rules part none of the rule checks runs, and each says so.", func(t *testing.T) {
		res := checks.Run(newBuilder(analyze.PartTargets).Build(), nil, ruleChecks, checks.Policy{})
		if len(res.Findings) != 0 || len(res.Skipped) != 3 {
			t.Errorf("result = %+v", res)
		}
	})

	t.Run("Two alerts of one name without a runbook are one finding.", func(t *testing.T) {
		warn := alert("DiskFull", map[string]string{"severity": "warning"}, nil)
		crit := alert("DiskFull", map[string]string{"severity": "critical"}, nil)
		res := checks.Run(ruleInventory(warn, crit), nil, ruleChecks, checks.Policy{})
		if len(res.Findings) != 1 || res.Findings[0].Check != checks.AlertsNoRunbookName {
			t.Errorf("findings = %+v", res.Findings)
		}
	})

	t.Run("An ignore entry with a glob on the rule suppresses its findings with the reason, and help links every finding.", func(t *testing.T) {
		inv := ruleInventory(alert("DebugAlertA", nil, nil), alert("DebugAlertB", nil, nil), alert("Real", nil, nil))
		res := checks.Run(inv, nil, ruleChecks, checks.Policy{
			Disabled: []string{checks.AlertsNoSeverityName},
			Severity: map[string]analyze.Severity{checks.AlertsNoRunbookName: analyze.Info},
			Ignore: []checks.Ignore{{
				Check: checks.AlertsNoRunbookName, Subject: map[string]string{"rule": "Debug*"}, Reason: "test alerts",
			}},
		})
		f := only(t, res.Findings)
		if f.Subject["rule"] != "Real" || f.Severity != analyze.Info || f.Help != "docs/checks/alerts-no-runbook.md" {
			t.Errorf("finding = %+v", f)
		}
		if len(res.Suppressed) != 2 || res.Suppressed[0].Reason != "test alerts" {
			t.Errorf("suppressed = %+v", res.Suppressed)
		}
		if !slices.Equal(res.Disabled, []string{checks.AlertsNoSeverityName}) {
			t.Errorf("disabled = %v", res.Disabled)
		}
	})
}

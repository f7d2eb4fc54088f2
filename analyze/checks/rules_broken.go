package checks

import (
	"cmp"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// RulesBrokenName is the ID of the RulesBroken check.
const RulesBrokenName = "rules/broken"

// RulesBroken reports every loaded rule whose last evaluation failed. A failing alerting rule
// never fires, and a failing recording rule starves every alert that reads its output, so the
// server's own verdict is worth more than anything a static check could infer.
type RulesBroken struct{}

func (RulesBroken) Meta() Meta {
	return Meta{ID: RulesBrokenName, Severity: analyze.Critical, Scope: ScopeRule,
		Requires: []analyze.Part{analyze.PartRules}, SubjectKeys: []string{"rule"},
		Summary: "a loaded rule whose evaluation fails",
		Finds:   "a loaded rule whose last evaluation failed (health `err`); the message has the error. Details: `last_error`, `expr`",
	}
}

func (c RulesBroken) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	var out findingBuffer
	for g, r := range eachRule(inv) {
		// Rules read from files have no health: only a server that evaluated them can say.
		if r.Health != "err" {
			continue
		}
		lastError := r.LastError
		if lastError == "" {
			lastError = "no error reported"
		}
		out.add(findingAboutRule(c.Meta(), g, r,
			fmt.Sprintf("%s rule %s fails to evaluate: %s", r.Kind, strconv.Quote(r.Name), lastError),
			"blindspot generate cannot fix this: change the rule so that it evaluates without the error above "+
				"(run its expression in the Prometheus UI to see it), then reload the rules",
			map[string]string{"last_error": r.LastError, "expr": r.Expr}))
	}
	return out.findings()
}

// eachRule yields every rule of inv with the group it belongs to.
func eachRule(inv *analyze.Inventory) iter.Seq2[*analyze.RuleGroup, *analyze.Rule] {
	return func(yield func(*analyze.RuleGroup, *analyze.Rule) bool) {
		for gi := range inv.RuleGroups {
			g := &inv.RuleGroups[gi]
			for ri := range g.Rules {
				if !yield(g, &g.Rules[ri]) {
					return
				}
			}
		}
	}
}

// eachAlertingRule yields the alerting rules of inv, whatever their language: a vmalert alert on
// logs pages someone just the same and needs a runbook and a severity as much.
func eachAlertingRule(inv *analyze.Inventory) iter.Seq2[*analyze.RuleGroup, *analyze.Rule] {
	return func(yield func(*analyze.RuleGroup, *analyze.Rule) bool) {
		for g, r := range eachRule(inv) {
			if r.Kind == analyze.RuleAlerting && !yield(g, r) {
				return
			}
		}
	}
}

// findingAboutRule is a finding about one rule: its subject is the rule's name, and it points at the
// file, group and, for rule files, the line the rule came from.
func findingAboutRule(m Meta, g *analyze.RuleGroup, r *analyze.Rule, msg, fix string, details map[string]string) analyze.Finding {
	if r.Line > 0 {
		if details == nil {
			details = map[string]string{}
		}
		details["line"] = strconv.Itoa(r.Line)
	}
	f := m.finding(map[string]string{"rule": r.Name}, msg, details)
	f.Fix = fix
	f.File = cmp.Or(r.File, g.File)
	f.Group = cmp.Or(r.Group, g.Name)
	return f
}

// missingValue describes what is wrong with key in m, or returns "" when it holds a value. An empty
// value is as useless as none, but saying which it is saves a puzzled look at the rule.
func missingValue(m map[string]string, key, what string) string {
	v, ok := m[key]
	switch {
	case !ok:
		return fmt.Sprintf("no %s %s", key, what)
	case strings.TrimSpace(v) == "":
		return fmt.Sprintf("an empty %s %s", key, what)
	}
	return ""
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// withLinks is the rule inventory of rs with what the runbook links answered.
func withLinks(links []analyze.RunbookLink, rs ...analyze.Rule) func(*testing.T) *analyze.Inventory {
	return func(*testing.T) *analyze.Inventory {
		b := newBuilder(analyze.PartRules)
		b.AddRuleGroup(promqlGroup("app.rules", "rules/app.yml", rs...))
		inv := b.Build()
		inv.SetRunbookLinks(links)
		return inv
	}
}

func runbook(name, link string) analyze.Rule {
	return alert(name, map[string]string{"severity": "critical"}, map[string]string{"runbook_url": link})
}

func TestCheckAlertsBrokenRunbook(t *testing.T) {
	id := checks.AlertsBrokenRunbookName
	runTests(t, id, []checkTest{
		{description: "Links answering 404, 500 and no answer are reported; one answering 200, and links not fetched, are not.",
			inv: withLinks([]analyze.RunbookLink{
				{Link: "https://wiki.example/ok", URL: "https://wiki.example/ok", Status: 200},
				{Link: "https://wiki.example/gone", URL: "https://wiki.example/gone", Status: 404},
				{Link: "https://wiki.example/boom", URL: "https://wiki.example/boom", Status: 500},
				{Link: "https://nowhere.invalid/x", URL: "https://nowhere.invalid/x", Err: "no such host"},
				{Link: "runbooks/Relative.md", Skipped: "a relative link, and generate.runbook_base_url is not set"},
				{Link: "https://wiki.example/{{ $labels.job }}", Skipped: "a templated link"},
			},
				runbook("Ok", "https://wiki.example/ok"),
				runbook("Gone", "https://wiki.example/gone"),
				runbook("AlsoGone", " https://wiki.example/gone "),
				runbook("Boom", "https://wiki.example/boom"),
				runbook("Nowhere", "https://nowhere.invalid/x"),
				runbook("Relative", "runbooks/Relative.md"),
				runbook("Templated", "https://wiki.example/{{ $labels.job }}"),
				runbook("Unchecked", "https://wiki.example/never-fetched"),
				alert("NoRunbook", nil, nil),
			),
			want: []string{
				`rule=AlsoGone: alert "AlsoGone" has a runbook link that does not resolve (https://wiki.example/gone: HTTP 404)`,
				`rule=Boom: alert "Boom" has a runbook link that does not resolve (https://wiki.example/boom: HTTP 500)`,
				`rule=Gone: alert "Gone" has a runbook link that does not resolve (https://wiki.example/gone: HTTP 404)`,
				`rule=Nowhere: alert "Nowhere" has a runbook link that does not resolve (https://nowhere.invalid/x: no such host)`,
			}},
		{description: "A link with a credential is looked up redacted and reported without it.",
			inv: withLinks([]analyze.RunbookLink{
				{Link: "https://wiki.example/x?token=xxxxx", URL: "https://wiki.example/x?token=xxxxx", Status: 401},
			}, runbook("Secret", "https://user:pw@wiki.example/x?token=s3cr3t")),
			want: []string{
				`rule=Secret: alert "Secret" has a runbook link that does not resolve (https://wiki.example/x?token=xxxxx: HTTP 401)`,
			}},
		{description: "The annotation the options name is the one read.",
			opts: checks.Options{RunbookAnnotation: "playbook"},
			inv: withLinks([]analyze.RunbookLink{{Link: "https://wiki.example/gone", URL: "https://wiki.example/gone", Status: 404}},
				alert("ByPlaybook", nil, map[string]string{"playbook": "https://wiki.example/gone"}),
				alert("ByRunbookURL", nil, map[string]string{"runbook_url": "https://wiki.example/gone"})),
			want: []string{
				`rule=ByPlaybook: alert "ByPlaybook" has a runbook link that does not resolve (https://wiki.example/gone: HTTP 404)`,
			}},
	})
}

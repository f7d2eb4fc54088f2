package collect_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
)

func TestFleetSharedSources(t *testing.T) {
	_, url := startMimir(t, map[string]tenant{
		"team-a": {up: [][3]string{{"api", "10.0.0.1:8080", "1"}}},
		"team-b": {up: [][3]string{{"db", "10.0.1.2:9187", "1"}}},
	})
	b := analyze.NewBuilder(analyze.Inventory{}.CollectedAt)
	b.SetLogs(analyze.Logs{Streams: []analyze.LogStream{{Selector: `{job="api"}`, Labels: map[string]string{"job": "api"}, Entries: 3}}})
	b.AddPart(analyze.PartLogStreams)
	b.AddRuleGroup(analyze.RuleGroup{Name: "shared", File: "rules.yaml", Rules: []analyze.Rule{{Name: "DbDown", Kind: analyze.RuleAlerting, Expr: `up{job="db"} == 0`}}})
	b.AddPart(analyze.PartRules)
	shared := b.Build()

	t.Run("Every member sees the shared streams and rule files' groups, referenced rather than copied.", func(t *testing.T) {
		_, members := audit(t, collect.FleetOptions{Shared: shared, Sources: []collect.FleetSource{
			mimirSource("team-a", url, "team-a", ""), mimirSource("team-b", url, "team-b", ""),
		}})
		if len(members) != 2 {
			t.Fatalf("%d members, want 2", len(members))
		}
		for _, m := range members {
			inv := m.Inventory
			if !inv.Has(analyze.PartLogStreams) || len(inv.Logs.Streams) != 1 || &inv.Logs.Streams[0] != &shared.Logs.Streams[0] {
				t.Errorf("%v: streams %v (parts %v), want the shared ones, not a copy", m.Scope, inv.Logs.Streams, inv.Parts)
			}
			var groups []string
			for _, g := range inv.RuleGroups {
				groups = append(groups, g.Name)
			}
			if len(groups) != 1 || groups[0] != "shared" {
				t.Errorf("%v: rule groups %v, want the rule file's", m.Scope, groups)
			}
			if m.Owns(analyze.Finding{Group: "shared", File: "rules.yaml"}) {
				t.Errorf("%v owns a finding about the rule file's group, which the shared sources report once", m.Scope)
			}
		}
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckRulesBroken(t *testing.T) {
	id := checks.RulesBrokenName
	runTests(t, id, []checkTest{
		{description: "A rule the server failed to evaluate is reported; a healthy one and one that was never evaluated are not.", inv: func(*testing.T) *analyze.Inventory {
			failing, healthy := complete("HighErrorRate"), complete("NodeDown")
			failing.Health, failing.LastError = "err", "found duplicate series for the match group"
			healthy.Health = "ok"
			return ruleInventory(failing, healthy, complete("FromAFile"))
		}, want: []string{
			`rule=HighErrorRate: alerting rule "HighErrorRate" fails to evaluate: found duplicate series for the match group`,
		}},
	})
}

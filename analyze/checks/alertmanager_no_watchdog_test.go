package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckAlertmanagerNoWatchdog(t *testing.T) {
	id := checks.AlertmanagerNoWatchdogName
	runTests(t, id, []checkTest{
		onHollow(`alertmanager=http://am:9093: no always-firing heartbeat alert (vector(1)) exists: if Prometheus or Alertmanager dies, nothing notices`),
		onHoled(`alertmanager=http://am:9093: no always-firing heartbeat alert (vector(1)) exists: if Prometheus or Alertmanager dies, nothing notices`),
		{description: "The Alertmanager configuration part without a configuration: nothing is reported.", inv: configlessInventory},
		{description: "A heartbeat alert routed to a receiver that notifies is not reported.", inv: func(t *testing.T) *analyze.Inventory {
			return routingInventory(t, amConfig, []analyze.Rule{rule("Watchdog", `vector(1)`, map[string]string{"severity": "none"})}, nil)
		}},
		{description: "Without a heartbeat alert the Alertmanager is reported.", inv: func(t *testing.T) *analyze.Inventory {
			return routingInventory(t, amConfig, []analyze.Rule{rule("PaymentsDown", `up{job="api"} == 0`, map[string]string{"team": "payments"})}, nil)
		}, want: []string{
			`alertmanager=http://am:9093: no always-firing heartbeat alert (vector(1)) exists: if Prometheus or Alertmanager dies, nothing notices`,
		}},
	})
}

package checks_test

import (
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestCheckServicesUnscraped(t *testing.T) {
	id := checks.ServicesUnscrapedName
	runTests(t, id, []checkTest{
		{description: "Services with a metrics port whose endpoints no target scrapes are reported; one without a metrics port is not.",
			inv: func(*testing.T) *analyze.Inventory { return kubeCluster(analyze.PartTargets).Build() },
			want: []string{
				`namespace=shop service=cart: Service cart in namespace "shop" has metrics port metrics (9100) and no target scrapes its 1 endpoint(s)`,
				`namespace=kube-system service=node-agent: Service node-agent in namespace "kube-system" has metrics port metrics (9101) and no target scrapes its 2 endpoint(s)`,
			}},
		{description: "A target carrying the Service's namespace and service labels, or an endpoint's address, scrapes it.",
			inv: func(*testing.T) *analyze.Inventory {
				b := kubeCluster(analyze.PartTargets)
				cart := target("cart", "serviceMonitor/shop/cart/0", "cart.shop.svc:9100", analyze.HealthUp, "")
				cart.Labels["namespace"], cart.Labels["service"] = "shop", "cart"
				b.AddTarget(cart)
				b.AddTarget(target("node-agent", "node-agent", "10.0.0.2:9101", analyze.HealthUp, ""))
				return b.Build()
			}},
	})
}

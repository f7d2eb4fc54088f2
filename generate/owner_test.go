package generate

import "testing"

func TestOwnerOf(t *testing.T) {
	o := Options{Owners: []Owner{
		{Jobs: "kube-*", Team: "platform"},
		{Jobs: "serviceMonitor/shop/*", Team: "shop"},
		{Jobs: `literal\*`, Team: "escaped"},
		{Jobs: "*", Team: "sre"},
	}}
	for _, tc := range []struct{ name, want string }{
		{"kube-state-metrics", "platform"},
		{"serviceMonitor/shop/cart/0", "shop"},
		{"serviceMonitor/billing/api/0", "sre"},
		{"literal*", "escaped"},
		{"a/b", "sre"},
	} {
		if got := o.OwnerOf(tc.name); got != tc.want {
			t.Errorf("OwnerOf(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := (Options{Owners: []Owner{{Jobs: "shop", Team: "x"}}}).OwnerOf("shop/0"); got != "" {
		t.Errorf("a literal glob matched a longer name: %q", got)
	}
}

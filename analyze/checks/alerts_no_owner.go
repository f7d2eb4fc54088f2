package checks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
)

// AlertsNoOwnerName is the ID of the AlertsNoOwner check.
const AlertsNoOwnerName = "alerts/no-owner"

// AlertsNoOwner reports alerting rules with no owner label that only reach the root route's
// default receiver: nobody in particular is responsible when they fire.
type AlertsNoOwner struct{ routes *lazyRouting }

func (AlertsNoOwner) Name() string               { return AlertsNoOwnerName }
func (AlertsNoOwner) Severity() analyze.Severity { return analyze.Warning }
func (AlertsNoOwner) Requires() []analyze.Part {
	return []analyze.Part{analyze.PartRules, analyze.PartAlertmanagerConfig}
}

func (c AlertsNoOwner) Run(inv *analyze.Inventory) []analyze.Finding {
	r := c.routes.get(inv)
	o := c.routes.options()
	var out []analyze.Finding
alerts:
	for _, a := range r.alerts {
		for _, l := range o.OwnerLabels {
			if strings.TrimSpace(a.Rule.Labels[l]) != "" {
				continue alerts
			}
		}
		var receivers []string
		for _, ls := range a.LabelSets {
			route := r.tree.Match(ls.Labels)
			if !route.Default {
				continue alerts
			}
			receivers = route.Receivers
		}
		out = append(out, findingAboutRule(c, a.Group, a.Rule,
			fmt.Sprintf("alert %s has no %s label and only reaches the default receiver %s", strconv.Quote(a.Rule.Name), strings.Join(o.OwnerLabels, " or "), strings.Join(receivers, ",")),
			fmt.Sprintf("add a %s label to the rule and a route for that team; blindspot generate writes alertmanager/routes.yaml with one", o.OwnerLabels[0]),
			map[string]string{"receiver": strings.Join(receivers, ",")}))
	}
	return out
}

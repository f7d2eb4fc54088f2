// Package alertmanager writes alertmanager/routes.yaml: a suggested Alertmanager routing tree
// that pages someone for every critical alert. One route per team of generate.owners (by the
// owner label, and by the jobs the team owns for alerts without that label), critical alerts
// to the team's pager receiver and the rest to its chat receiver; the Watchdog to a heartbeat
// receiver; warnings inhibited while a critical alert of the same job fires.
//
// The file is a complete configuration, so that Alertmanager's loader (and amtool
// check-config) can validate it; the receivers are placeholders without integrations, named
// <team>-pager, <team>-chat, default-pager, default-chat and heartbeat. Until they are filled
// in, blindspot's alerts/unrouted reports the alerts they receive.
package alertmanager

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"go.yaml.in/yaml/v3"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/generate"
)

// Path is where the routing tree is written in the output directory.
const Path = "alertmanager/routes.yaml"

// Labels and values the routes match, as the generated rules write them.
const (
	severityLabel = "severity"
	critical      = "critical"
	warning       = "warning"
	watchdog      = "Watchdog"
)

// triggers are the findings that make the routing tree worth writing.
var triggers = []string{
	checks.AlertsUnroutedName, checks.AlertsNoOwnerName, checks.AlertmanagerNoWatchdogName, checks.AlertmanagerNotConnectedName,
}

// Files returns alertmanager/routes.yaml when the findings include a routing gap, or nothing.
func Files(inv *analyze.Inventory, findings []analyze.Finding, o generate.Options) ([]generate.File, error) {
	if !slices.ContainsFunc(findings, func(f analyze.Finding) bool { return slices.Contains(triggers, f.Check) }) {
		return nil, nil
	}
	o = generate.DefaultOptions(o)
	content, err := Render(teamsOf(inv, o), o)
	if err != nil {
		return nil, err
	}
	return []generate.File{{Path: Path, Content: content}}, nil
}

// Team is a team of generate.owners with the jobs of the inventory it owns, sorted.
type Team struct {
	Name string
	Jobs []string
}

// teamsOf maps the inventory's jobs to their teams, sorted by team; teams owning no job of
// the inventory still get a route on their label.
func teamsOf(inv *analyze.Inventory, o generate.Options) []Team {
	byName := map[string]*Team{}
	for _, ow := range o.Owners {
		if byName[ow.Team] == nil {
			byName[ow.Team] = &Team{Name: ow.Team}
		}
	}
	for _, j := range inv.Jobs {
		if team := o.OwnerOf(j.Name); team != "" {
			byName[team].Jobs = append(byName[team].Jobs, j.Name)
		}
	}
	out := make([]Team, 0, len(byName))
	for _, t := range byName {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Team) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Render writes the routing tree for teams and checks it with Alertmanager's loader.
func Render(teams []Team, o generate.Options) ([]byte, error) {
	o = generate.DefaultOptions(o)
	cfg := config{
		Route: route{
			Receiver: "default-chat",
			GroupBy:  []string{"alertname", "job"},
			Routes: []route{{
				Receiver: "heartbeat", Matchers: []string{equal("alertname", watchdog)},
				// The dead man's switch expects the heartbeat often.
				GroupWait: "0s", GroupInterval: "1m", RepeatInterval: "1m",
			}},
		},
		InhibitRules: []inhibitRule{{
			SourceMatchers: []string{equal(severityLabel, critical)},
			TargetMatchers: []string{equal(severityLabel, warning)},
			Equal:          []string{"job"},
		}},
		Receivers: []receiver{{Name: "heartbeat"}},
	}
	for _, t := range teams {
		pager, chat := t.Name+"-pager", t.Name+"-chat"
		bySeverity := []route{{Receiver: pager, Matchers: []string{equal(severityLabel, critical)}}}
		cfg.Route.Routes = append(cfg.Route.Routes, route{Receiver: chat, Matchers: []string{equal(o.OwnerLabel, t.Name)}, Routes: bySeverity})
		if len(t.Jobs) > 0 {
			// Alerts of the team's jobs that carry no owner label.
			cfg.Route.Routes = append(cfg.Route.Routes, route{Receiver: chat, Matchers: []string{anyOf("job", t.Jobs)}, Routes: bySeverity})
		}
		cfg.Receivers = append(cfg.Receivers, receiver{Name: pager}, receiver{Name: chat})
	}
	cfg.Route.Routes = append(cfg.Route.Routes, route{Receiver: "default-pager", Matchers: []string{equal(severityLabel, critical)}})
	cfg.Receivers = append(cfg.Receivers, receiver{Name: "default-pager"}, receiver{Name: "default-chat"})
	if err := uniqueReceivers(cfg.Receivers); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s\n", generate.Header)
	for _, line := range []string{
		"A suggested Alertmanager routing tree: critical alerts page the owning team, the rest go to",
		"its chat; the Watchdog goes to a heartbeat receiver; warnings are inhibited while a critical",
		"alert of the same job fires. The receivers are placeholders without integrations: give each",
		"one (pagerduty_configs, opsgenie_configs, slack_configs, webhook_configs, …), or merge the",
		"routes into your configuration. Check it with: amtool check-config routes.yaml",
	} {
		fmt.Fprintf(&buf, "# %s\n", line)
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", Path, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", Path, err)
	}
	if _, err := amconfig.Load(buf.String()); err != nil {
		return nil, fmt.Errorf("rendering %s: Alertmanager refuses it: %w", Path, err)
	}
	return buf.Bytes(), nil
}

// equal is the matcher name="value", printed by Alertmanager's library.
func equal(name, value string) string {
	m := amlabels.Matcher{Type: amlabels.MatchEqual, Name: name, Value: value}
	return m.String()
}

// anyOf is the matcher name=~"a|b" matching exactly the given values.
func anyOf(name string, values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	if len(values) == 1 {
		return equal(name, values[0])
	}
	// Escaped with QuoteMeta, the alternatives always compile; the loader checks the file anyway.
	m, err := amlabels.NewMatcher(amlabels.MatchRegexp, name, strings.Join(quoted, "|"))
	if err != nil {
		return ""
	}
	return m.String()
}

func uniqueReceivers(rs []receiver) error {
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Name] {
			return fmt.Errorf("rendering %s: two teams give the receiver name %q", Path, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// The configuration fields written, in the order of Alertmanager's documentation.
type config struct {
	Route        route         `yaml:"route"`
	InhibitRules []inhibitRule `yaml:"inhibit_rules"`
	Receivers    []receiver    `yaml:"receivers"`
}

type route struct {
	Receiver       string   `yaml:"receiver"`
	GroupBy        []string `yaml:"group_by,omitempty"`
	Matchers       []string `yaml:"matchers,omitempty"`
	GroupWait      string   `yaml:"group_wait,omitempty"`
	GroupInterval  string   `yaml:"group_interval,omitempty"`
	RepeatInterval string   `yaml:"repeat_interval,omitempty"`
	Routes         []route  `yaml:"routes,omitempty"`
}

type inhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

type receiver struct {
	Name string `yaml:"name"`
}

package pipelines

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze/checks"

	"github.com/blindspot-dev/blindspot/analyze/secrets"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// lokiRuleGroup is the rule group of loki-rules/secrets.yaml.
const lokiRuleGroup = "blindspot-log-secrets"

// The Loki ruler reads Prometheus' rule file format, with LogQL expressions.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// AlertName names the alert of a pattern: LogSecret and the id in CamelCase.
func AlertName(patternID string) string {
	var b strings.Builder
	b.WriteString("LogSecret")
	for _, w := range strings.Split(patternID, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// secretExpr counts the lines of the stream that hold a secret of p: the keyword filter
// first, which Loki can test as substrings, then the pattern itself.
func secretExpr(selector string, p *rulesets.SecretPattern) string {
	filter := secrets.LineFilter([]rulesets.SecretPattern{*p})
	return fmt.Sprintf("sum by (job) (count_over_time(%s %s |~ %s [5m])) > 0", selector, filter, strconv.Quote(p.Regex.String()))
}

// renderLokiRules writes one alert per leaking stream and pattern. Annotations name no label
// value: the ruler expands templates in them, and a value may hold "{{".
func renderLokiRules(found []stream, o Options) ([]byte, error) {
	g := ruleGroup{Name: lokiRuleGroup}
	for _, s := range found {
		for _, p := range s.Patterns {
			name := AlertName(p.ID)
			g.Rules = append(g.Rules, rule{
				Alert: name,
				Expr:  secretExpr(s.Selector, p),
				Labels: map[string]string{
					"severity":     "critical",
					"generated_by": "blindspot",
					"pattern":      p.ID,
				},
				Annotations: map[string]string{
					"summary": fmt.Sprintf("Logs of job {{ $labels.job }} hold a secret (%s).", p.ID),
					"description": fmt.Sprintf("A line matching the %s pattern reached Loki in the last 5 minutes. "+
						"Rotate the secret, and mask it before it is shipped (pipelines/ in the blindspot output).", p.ID),
					// What to do about a leaked secret is the same for every pattern: the
					// check's page is the runbook.
					"runbook_url": checks.HelpURL(checks.LogsSecretsName),
				},
			})
		}
	}
	return yamlFile(ruleFile{Groups: []ruleGroup{g}},
		"Loki ruler alerts: a secret pattern the audit found shows up in a stream's logs again.")
}

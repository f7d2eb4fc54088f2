// Package checks derives findings from an inventory. One file per check; each check is a
// pure function of the inventory, and the registry below lists them in report order.
package checks

import (
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// Check finds one kind of gap.
type Check interface {
	// Name is the check ID, part of the public contract ("targets/down").
	Name() string
	// Severity of the findings the check reports.
	Severity() analyze.Severity
	// Requires lists the inventory parts the check needs; without them it does not run, so
	// that missing information is never reported as a gap.
	Requires() []analyze.Part
	Run(inv *analyze.Inventory) []analyze.Finding
}

// Options configure the checks.
type Options struct {
	// RunbookAnnotation is the annotation holding an alert's runbook (default runbook_url).
	RunbookAnnotation string
	// SeverityLabel is the label holding an alert's severity (default severity).
	SeverityLabel string
	Business      coverage.BusinessOptions
	// LogPairs map jobs to Loki streams; empty means logmatch.DefaultPairs.
	LogPairs []logmatch.Pair
	// Dashboards are the dashboards read with --dashboards (the inventory then holds
	// PartDashboards); nil when none were read.
	Dashboards []dashboards.Dashboard
	// Routing says which alerts are critical, which receivers page, which labels name an
	// owner and how long a silence may last (SeverityLabel is taken from above when unset).
	Routing routing.Options
}

func (o Options) withDefaults() Options {
	if o.RunbookAnnotation == "" {
		o.RunbookAnnotation = coverage.DefaultRunbookAnnotation
	}
	if o.SeverityLabel == "" {
		o.SeverityLabel = "severity"
	}
	return o
}

// All returns every check in registry order.
func All(o Options) []Check {
	o = o.withDefaults()
	cov := newLazyCoverage(o)
	if o.Routing.SeverityLabel == "" {
		o.Routing.SeverityLabel = o.SeverityLabel
	}
	routes := newLazyRouting(cov, o.Routing)
	return []Check{
		TargetsDown{},
		JobsNoTargets{},
		AlertsMissingUp{cov: cov},
		AlertsMissingAbsent{cov: cov},
		AlertsMissingBusiness{cov: cov},
		RulesUnknownMetric{},
		RulesBroken{},
		NewAlertsNoRunbook(o),
		NewAlertsNoSeverity(o),
		LogsUnaggregated{Pairs: o.LogPairs},
		LogsSecrets{Pairs: o.LogPairs},
		DashboardsMissing{Dashboards: o.Dashboards},
		AlertmanagerNotConnected{},
		AlertsUnrouted{routes: routes},
		AlertsSilenced{routes: routes},
		AlertmanagerNoWatchdog{routes: routes},
		AlertsNoOwner{routes: routes},
	}
}

// newLazyCoverage prepares the coverage analysis the options ask for.
func newLazyCoverage(o Options) *lazyCoverage {
	o = o.withDefaults()
	return &lazyCoverage{opts: coverage.Options{RunbookAnnotation: o.RunbookAnnotation, Business: o.Business}}
}

// coverageUser is a check that reads the shared coverage analysis.
type coverageUser interface {
	coverageAnalysis(inv *analyze.Inventory) *coverage.Analysis
}

// Matrix returns the coverage matrix of inv, reusing the analysis the checks built (or
// building one with default options when no coverage check is in the list).
func Matrix(inv *analyze.Inventory, list []Check) []coverage.JobCoverage {
	for _, c := range list {
		if u, ok := c.(coverageUser); ok {
			return u.coverageAnalysis(inv).Matrix()
		}
	}
	return coverage.Analyze(inv, coverage.Options{}).Matrix()
}

// lazyCoverage builds the coverage analysis once per inventory, for the checks that share it.
type lazyCoverage struct {
	opts coverage.Options
	mu   sync.Mutex
	inv  *analyze.Inventory
	a    *coverage.Analysis
}

func (l *lazyCoverage) get(inv *analyze.Inventory) *coverage.Analysis {
	if l == nil {
		// A check built as a zero value analyses with the defaults.
		return coverage.Analyze(inv, coverage.Options{})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inv != inv {
		l.inv, l.a = inv, coverage.Analyze(inv, l.opts)
	}
	return l.a
}

// Policy is what the user decided about checks: which are off, which severities differ from
// the defaults, and which findings are accepted.
type Policy struct {
	Disabled []string
	Severity map[string]analyze.Severity
	Ignore   []Ignore
	// Now decides whether an exception has expired; zero means time.Now.
	Now time.Time
	// Scope is added to the subject of every finding before its ID is computed: the member of
	// a fleet the inventory is ({"source": "eu-1"}, {"cluster": "b"}). Empty for one server.
	Scope map[string]string
}

// Ignore suppresses the findings of a check whose subject matches, for a stated reason.
type Ignore struct {
	Check string
	// Subject maps subject keys to globs (path.Match syntax) the values must match.
	Subject map[string]string
	Reason  string
	// Expires is the first day the exception no longer applies; zero means never.
	Expires time.Time
}

func (ig Ignore) matches(f analyze.Finding) bool {
	if ig.Check != f.Check {
		return false
	}
	for k, pattern := range ig.Subject {
		v, ok := f.Subject[k]
		if !ok {
			return false
		}
		if matched, err := path.Match(pattern, v); err != nil || !matched {
			return false
		}
	}
	return true
}

// Result is the outcome of running checks over an inventory.
type Result struct {
	Findings []analyze.Finding
	// Suppressed are findings an ignore entry accepted.
	Suppressed []Suppressed
	// Skipped lists checks that did not run, with the parts they lacked.
	Skipped []Skipped
	// Disabled lists checks turned off by configuration.
	Disabled []string
	// Expired are the ignore entries past their expiry, in configuration order: they no
	// longer suppress anything and are reported so that they are renewed or removed.
	Expired []Expired
}

// Expired is an ignore entry past its expiry and the reported findings it matches.
type Expired struct {
	Ignore Ignore
	// Findings are the IDs of the reported findings the entry would suppress, sorted.
	Findings []string
}

// Suppressed is a finding accepted by an ignore entry.
type Suppressed struct {
	Finding analyze.Finding
	Reason  string
}

// Skipped is a check that did not run for lack of information.
type Skipped struct {
	Check   string
	Missing []analyze.Part
}

// HelpBaseURL is where the documentation pages of the checks are published.
const HelpBaseURL = "https://github.com/blindspot-dev/blindspot/blob/main/"

// HelpURL is the published documentation page of a check.
func HelpURL(check string) string { return HelpBaseURL + HelpPath(check) }

// HelpPath is the documentation page of a check, relative to the repository root.
func HelpPath(check string) string {
	return "docs/checks/" + strings.ReplaceAll(check, "/", "-") + ".md"
}

// Run runs checks over inv under a policy and returns their findings sorted.
func Run(inv *analyze.Inventory, checks []Check, p Policy) Result {
	var res Result
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	var perCheck [][]analyze.Finding
	total := 0
	for _, c := range checks {
		if slices.Contains(p.Disabled, c.Name()) {
			res.Disabled = append(res.Disabled, c.Name())
			continue
		}
		var missing []analyze.Part
		for _, part := range c.Requires() {
			if !inv.Has(part) {
				missing = append(missing, part)
			}
		}
		if len(missing) > 0 {
			res.Skipped = append(res.Skipped, Skipped{Check: c.Name(), Missing: missing})
			continue
		}
		help := HelpPath(c.Name())
		found := c.Run(inv)
		kept := found[:0] // filtered in place: a check may return hundreds of thousands
		seen := make(map[string]bool, len(found))
	findings:
		for _, f := range found {
			f = scoped(f, p.Scope)
			// Two rules of one name (a warning and a critical variant, say) are one subject.
			if seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			if sev, ok := p.Severity[c.Name()]; ok {
				f.Severity = sev
			}
			if f.Check == c.Name() {
				f.Help = help // one string shared by every finding of the check
			} else {
				f.Help = HelpPath(f.Check)
			}
			for _, ig := range p.Ignore {
				if ig.matches(f) && (ig.Expires.IsZero() || now.Before(ig.Expires)) {
					res.Suppressed = append(res.Suppressed, Suppressed{Finding: f, Reason: ig.Reason})
					continue findings
				}
			}
			kept = append(kept, f)
		}
		perCheck = append(perCheck, kept)
		total += len(kept)
	}
	// One slice of the exact size: appending check after check would copy the findings at
	// every growth.
	if total > 0 {
		res.Findings = make([]analyze.Finding, 0, total)
		for _, fs := range perCheck {
			res.Findings = append(res.Findings, fs...)
		}
	}
	analyze.SortFindings(res.Findings)
	res.Expired = expired(p.Ignore, res.Findings, now)
	return res
}

// expired lists the ignore entries that have expired by now, with the findings they match.
func expired(ignores []Ignore, findings []analyze.Finding, now time.Time) []Expired {
	var out []Expired
	for _, ig := range ignores {
		if ig.Expires.IsZero() || now.Before(ig.Expires) {
			continue
		}
		e := Expired{Ignore: ig, Findings: []string{}}
		for _, f := range findings {
			if ig.matches(f) {
				e.Findings = append(e.Findings, f.ID)
			}
		}
		slices.Sort(e.Findings)
		out = append(out, e)
	}
	return out
}

// Names returns the IDs of checks.
func Names(checks []Check) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.Name()
	}
	return slices.Clip(out)
}

// scoped adds the keys of a fleet member to a finding's subject and derives its ID again.
func scoped(f analyze.Finding, scope map[string]string) analyze.Finding {
	if len(scope) == 0 {
		return f
	}
	subject := maps.Clone(f.Subject)
	if subject == nil {
		subject = map[string]string{}
	}
	maps.Copy(subject, scope)
	f.Subject = subject
	f.ID = analyze.FindingID(f.Check, subject)
	return f
}

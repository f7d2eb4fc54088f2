// Package checks derives findings from an inventory. One file per check; each check is a
// pure function of the inventory and of what Derive computes from it once (the coverage and
// routing analyses, the dashboards of each job), and declares itself in one Meta value (ID,
// severity, parts it needs, subject, summary, matrix column) from which the README's and
// docs/report.md's check tables, the report's matrix and JUnit's grouping are derived. The
// registry (All) lists the checks in report order.
//
// The package reads the Inventory only: it imports no collector (TestImportsNoCollector).
package checks

import (
	"cmp"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/analyze/routing"
)

// Check finds one kind of gap.
type Check interface {
	// Meta is what the check declares about itself: its ID, severity, the parts it needs.
	Meta() Meta
	// Run returns the check's findings on inv; d is what Derive computed from inv.
	Run(inv *analyze.Inventory, d *Derived) []analyze.Finding
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
	// Routing says which alerts are critical, which receivers page, which labels name an
	// owner and how long a silence may last (SeverityLabel is taken from above when unset).
	Routing routing.Options
	// Generated is what blindspot generate is configured to write, for the fixes that name
	// its files.
	Generated Generated
	// History tunes the checks that read the history.
	History History
	// Kubernetes scopes the Kubernetes checks.
	Kubernetes Kubernetes
}

// History tunes the checks that read the history (the history section).
type History struct {
	// MinFlat is the shortest flat stretch of a business counter business/flatlined reports
	// (default DefaultMinFlat).
	MinFlat time.Duration
	// VanishedTargetShare is the share of its targets a job must have lost for jobs/vanished
	// to report it (default DefaultVanishedTargetShare).
	VanishedTargetShare float64
	// FlapEpisodes is how many times a day, on average, an alert may begin to fire before
	// alerts/flapping reports it (default DefaultFlapEpisodes).
	FlapEpisodes int
}

// Generated are the options of blindspot generate that the fixes quote (generate.up_for,
// generate.absent_for, generate.business.window and stale_after), resolved as generate
// resolves them. Zero values take generate's defaults.
type Generated struct {
	UpFor     time.Duration // default 2m
	AbsentFor time.Duration // default 5m
	// BusinessWindow is the range over which a business counter must increase (default 10m).
	BusinessWindow time.Duration
	// StaleAfter is how old a last-success gauge may grow (default 25h).
	StaleAfter time.Duration
}

// generate's defaults, for the fixes of checks configured without its options.
const (
	defaultUpFor          = 2 * time.Minute
	defaultAbsentFor      = 5 * time.Minute
	defaultBusinessWindow = 10 * time.Minute
	defaultStaleAfter     = 25 * time.Hour
)

func (o Options) withDefaults() Options {
	if o.RunbookAnnotation == "" {
		o.RunbookAnnotation = coverage.DefaultRunbookAnnotation
	}
	if o.SeverityLabel == "" {
		o.SeverityLabel = "severity"
	}
	if o.Routing.SeverityLabel == "" {
		o.Routing.SeverityLabel = o.SeverityLabel
	}
	o.Routing = o.Routing.WithDefaults()
	g := &o.Generated
	g.UpFor = cmp.Or(g.UpFor, defaultUpFor)
	g.AbsentFor = cmp.Or(g.AbsentFor, defaultAbsentFor)
	g.BusinessWindow = cmp.Or(g.BusinessWindow, defaultBusinessWindow)
	g.StaleAfter = cmp.Or(g.StaleAfter, defaultStaleAfter)
	o.History.MinFlat = cmp.Or(o.History.MinFlat, DefaultMinFlat)
	o.History.VanishedTargetShare = cmp.Or(o.History.VanishedTargetShare, DefaultVanishedTargetShare)
	o.History.FlapEpisodes = cmp.Or(o.History.FlapEpisodes, DefaultFlapEpisodes)
	return o
}

// All returns every check in registry order.
func All(o Options) []Check {
	o = o.withDefaults()
	return []Check{
		TargetsDown{},
		JobsNoTargets{},
		NewJobsVanished(o),
		ProbesFailing{},
		NewAlertsMissingUp(o),
		NewAlertsMissingAbsent(o),
		NewAlertsMissingBusiness(o),
		NewBusinessFlatlined(o),
		NewBusinessStaleSuccess(o),
		RulesUnknownMetric{},
		RulesBroken{},
		NewAlertsNoRunbook(o),
		NewAlertsBrokenRunbook(o),
		NewAlertsNoSeverity(o),
		AlertsNeverFired{},
		AlertsAlwaysFiring{},
		NewAlertsFlapping(o),
		LogsUnaggregated{Pairs: o.LogPairs},
		LogsSecrets{Pairs: o.LogPairs},
		LogsStopped{},
		DashboardsMissing{},
		AlertmanagerNotConnected{},
		AlertsUnrouted{},
		AlertsSilenced{},
		AlertmanagerNoWatchdog{},
		AlertsNoOwner{},
		WorkloadsUnscraped{Namespaces: o.Kubernetes},
		ServicesUnscraped{Namespaces: o.Kubernetes},
		NamespacesUnmonitored{Namespaces: o.Kubernetes},
		PodsNotReadyUnalerted{},
		PodsCrashloopUnalerted{},
		PodsNotReady{Namespaces: o.Kubernetes},
		PodsCrashlooping{Namespaces: o.Kubernetes},
	}
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

// Run runs checks over inv under a policy and returns their findings sorted. d is Derive's
// value for inv (nil derives one with default options).
func Run(inv *analyze.Inventory, d *Derived, checks []Check, p Policy) Result {
	if d == nil {
		d = Derive(inv, Options{})
	}
	var res Result
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	var perCheck [][]analyze.Finding
	total := 0
	for _, c := range checks {
		m := c.Meta()
		if slices.Contains(p.Disabled, m.ID) {
			res.Disabled = append(res.Disabled, m.ID)
			continue
		}
		var missing []analyze.Part
		for _, part := range m.Requires {
			if !inv.Has(part) {
				missing = append(missing, part)
			}
		}
		if len(missing) > 0 {
			res.Skipped = append(res.Skipped, Skipped{Check: m.ID, Missing: missing})
			continue
		}
		help := HelpPath(m.ID)
		found := c.Run(inv, d)
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
			if sev, ok := p.Severity[m.ID]; ok {
				f.Severity = sev
			}
			if f.Check == m.ID {
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
		out[i] = c.Meta().ID
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

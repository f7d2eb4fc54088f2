package coverage

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
)

// upIndex maps each job to the alerting rules that fire when all its targets are down.
//
// Only the alerts that read up, directly or through recording rules, are considered, and each
// only for the jobs its up selectors can select. For each such pair the alert is evaluated
// twice by the abstract evaluator (eval.go): with the job's targets down and with them up,
// every other target up. It covers the job when it may fire on the job's series in the first
// world and does not surely fire on them in the second.
type upIndex struct {
	byJob map[string][]*analyze.Rule
}

func newUpIndex(inv *analyze.Inventory, rules *ruleIndex) *upIndex {
	idx := &upIndex{byJob: map[string][]*analyze.Rule{}}
	alerts := rules.alertsByMetric["up"]
	if len(alerts) == 0 {
		return idx
	}
	u := newEvalContext(inv, rules)
	for _, a := range alerts {
		for job := range u.candidates(a.Parsed, 0) {
			if u.covers(a.Parsed, "up", job) {
				idx.byJob[job] = append(idx.byJob[job], a)
			}
		}
	}
	for _, rs := range idx.byJob {
		sortRules(rs)
	}
	return idx
}

func (idx *upIndex) alertsFor(job string) []*analyze.Rule { return idx.byJob[job] }

// sortRules orders rules by file, group and name, keeping the load order of equal ones.
func sortRules(rs []*analyze.Rule) {
	slices.SortStableFunc(rs, func(a, b *analyze.Rule) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Group, b.Group), cmp.Compare(a.Name, b.Name))
	})
}

// evalContext is what the evaluator needs to know about the inventory, computed once.
type evalContext struct {
	inv   *analyze.Inventory
	rules *ruleIndex
	jobs  []string // every job of the inventory, sorted
	known map[string]bool
	// targets holds each job's targets with the names of their labels.
	targets map[string][]namedTarget

	upSelectors map[*parser.VectorSelector]*upSelector
	filters     map[*parser.VectorSelector]*jobFilter
	readsMemo   map[[2]string]bool         // (recorded metric, subject) → whether it is computed from the subject
	recCands    map[string]map[string]bool // recorded metric → jobs its up selectors select

	// exposers maps a metric name to the jobs whose series carry it, for the names the
	// collector asked about (JobMetrics); built on first use.
	exposers  map[string][]string
	exposures map[*parser.VectorSelector]exposure

	// probeJobs are the probe jobs, sorted, when the subject is probe_success; probeSelectors
	// memoises probeSelectorOf.
	probeJobs      []string
	probeSelectors map[*parser.VectorSelector]*upSelector
}

type namedTarget struct {
	t     *analyze.Target
	names labelNames
}

func newEvalContext(inv *analyze.Inventory, rules *ruleIndex) *evalContext {
	u := &evalContext{
		inv:         inv,
		rules:       rules,
		known:       make(map[string]bool, len(inv.Jobs)),
		targets:     map[string][]namedTarget{},
		upSelectors: map[*parser.VectorSelector]*upSelector{},
		filters:     map[*parser.VectorSelector]*jobFilter{},
		readsMemo:   map[[2]string]bool{},
		exposures:   map[*parser.VectorSelector]exposure{},
		recCands:    map[string]map[string]bool{},
	}
	for _, j := range inv.Jobs {
		u.jobs = append(u.jobs, j.Name)
		u.known[j.Name] = true
	}
	intern := map[string]labelNames{}
	for i := range inv.Targets {
		t := &inv.Targets[i]
		u.targets[t.Job] = append(u.targets[t.Job], namedTarget{t: t, names: targetNames(t, intern)})
	}
	return u
}

// targetNames are the names of the labels of a target's up series, job and __name__ aside.
// Label sets repeat across targets, so they are interned.
func targetNames(t *analyze.Target, intern map[string]labelNames) labelNames {
	ns := make([]string, 0, len(t.Labels)+1)
	for k := range t.Labels {
		if k != "job" && k != labels.MetricName {
			ns = append(ns, k)
		}
	}
	if _, ok := t.Labels["instance"]; !ok && t.Instance != "" {
		ns = append(ns, "instance")
	}
	slices.Sort(ns)
	key := strings.Join(ns, "\x00")
	if n, ok := intern[key]; ok {
		return n
	}
	n := labelNames{known: true, names: ns}
	intern[key] = n
	return n
}

// targetLabel is the value of a label of a target's up series.
func targetLabel(t *analyze.Target, name string) string {
	if v, ok := t.Labels[name]; ok {
		return v
	}
	switch name {
	case "job":
		return t.Job
	case "instance":
		return t.Instance
	}
	return ""
}

// upSelector is what one up selector selects: how many series of each job, and their label
// names when they are alike.
type upSelector struct {
	perJob     map[string]int
	names      map[string]labelNames
	otherNames labelNames // of all selected series, when alike
	total      int
}

// upSelectorOf judges a selector's matchers against every target's labels with Prometheus's
// own matcher (fully anchored regular expressions). A job without targets is judged on its
// job label alone, as if it had one target.
func (u *evalContext) upSelectorOf(vs *parser.VectorSelector) *upSelector {
	if s, ok := u.upSelectors[vs]; ok {
		return s
	}
	s := u.selectTargets(vs, u.jobs)
	u.upSelectors[vs] = s
	return s
}

// selectTargets is what a selector of a per-target metric (up, probe_success) selects among
// the targets of jobs, a sorted subset of the inventory's.
func (u *evalContext) selectTargets(vs *parser.VectorSelector, jobs []string) *upSelector {
	// Job matchers are judged once per job, the others per target.
	var jobMs, ms []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		switch m.Name {
		case labels.MetricName:
		case "job":
			jobMs = append(jobMs, m)
		default:
			ms = append(ms, m)
		}
	}
	s := &upSelector{perJob: map[string]int{}, names: map[string]labelNames{}}
	for _, m := range jobMs {
		if m.Type == labels.MatchEqual {
			_, found := slices.BinarySearch(jobs, m.Value)
			jobs = nil
			if found {
				jobs = []string{m.Value}
			}
			break
		}
	}
	selected := func(job string, n labelNames) {
		s.perJob[job]++
		if prev, ok := s.names[job]; !ok {
			s.names[job] = n
		} else if !prev.equal(n) {
			s.names[job] = unknownNames
		}
		if s.total == 0 {
			s.otherNames = n
		} else if !s.otherNames.equal(n) {
			s.otherNames = unknownNames
		}
		s.total++
	}
	for _, job := range jobs {
		if !matchesAll(jobMs, func(string) string { return job }) {
			continue
		}
		ts := u.targets[job]
		if len(ts) == 0 {
			if matchesAll(ms, func(string) string { return "" }) {
				selected(job, noNames)
			}
			continue
		}
		for _, t := range ts {
			if matchesAll(ms, func(name string) string { return targetLabel(t.t, name) }) {
				selected(job, t.names)
			}
		}
	}
	return s
}

func matchesAll(ms []*labels.Matcher, value func(name string) string) bool {
	for _, m := range ms {
		if !m.Matches(value(m.Name)) {
			return false
		}
	}
	return true
}

// jobFilter holds the job matchers of a selector that does not read up.
type jobFilter struct {
	matchers     []*labels.Matcher
	accepted     int // known jobs the matchers accept
	acceptsEmpty bool
	// pinned is set when an equality matcher names a known job (or none), so that the
	// matchers accept no job the inventory does not know.
	pinned bool
}

func (u *evalContext) filterOf(vs *parser.VectorSelector) *jobFilter {
	if f, ok := u.filters[vs]; ok {
		return f
	}
	f := &jobFilter{}
	for _, m := range vs.LabelMatchers {
		if m.Name == "job" {
			f.matchers = append(f.matchers, m)
			if m.Type == labels.MatchEqual && (m.Value == "" || u.known[m.Value]) {
				f.pinned = true
			}
		}
	}
	if len(f.matchers) > 0 {
		f.acceptsEmpty = f.accepts("")
		for _, j := range u.jobs {
			if f.accepts(j) {
				f.accepted++
			}
		}
	}
	u.filters[vs] = f
	return f
}

func (f *jobFilter) accepts(job string) bool {
	return matchesAll(f.matchers, func(string) string { return job })
}

// restrict narrows a job label set to what the matchers accept when job is under test, and
// says whether nothing was lost (every element of the set is accepted). unknownJobs lets the
// "other jobs" include jobs the inventory does not know: series of other metrics may carry
// them (a job missing from a partial inventory, a pushed job label).
func (f *jobFilter) restrict(set jobLabel, job string, known int, unknownJobs bool) (jobLabel, bool) {
	if len(f.matchers) == 0 {
		return set, true
	}
	var out jobLabel
	lossless := true
	acceptsJob := f.accepts(job)
	if set&jobIsTested != 0 {
		if acceptsJob {
			out |= jobIsTested
		} else {
			lossless = false
		}
	}
	if set&jobIsOther != 0 {
		others := f.accepted
		if acceptsJob {
			others--
		}
		if others > 0 || (unknownJobs && !f.pinned) {
			out |= jobIsOther
		}
		if others < known-1 {
			lossless = false
		}
	}
	if set&jobIsAbsent != 0 {
		if f.acceptsEmpty {
			out |= jobIsAbsent
		} else {
			lossless = false
		}
	}
	return out, lossless
}

// reads says whether a recorded metric is computed from the subject metric, through any
// number of recording rules.
func (u *evalContext) reads(name, subject string) bool {
	key := [2]string{name, subject}
	if v, ok := u.readsMemo[key]; ok {
		return v
	}
	found := false
	for _, rec := range u.rules.recordings[name] {
		u.rules.walkMetrics(rec.Parsed, 1, func(m string) { found = found || m == subject })
	}
	u.readsMemo[key] = found
	return found
}

// exposure is which jobs carry a metric, among those a selector's job matchers accept.
type exposure struct {
	// known is false when the collector did not ask about the metric: any job may carry it.
	known    bool
	accepted map[string]bool
}

func (x exposure) byJob(job string) bool { return !x.known || x.accepted[job] }

// others counts the jobs but job that carry the metric.
func (x exposure) others(job string) int {
	if !x.known {
		return manyElements
	}
	n := len(x.accepted)
	if x.accepted[job] {
		n--
	}
	return n
}

// exposureOf says which jobs carry the metric a selector names, as far as the inventory
// knows: up is carried by the jobs with targets; a name the server does not have at all
// (metric_names), and no recording rule produces, by no job; a name the collector asked
// about (job_metrics: business candidates, ruleset signatures, the metrics alerts join with)
// by the jobs it was found on.
func (u *evalContext) exposureOf(vs *parser.VectorSelector, name string) exposure {
	if x, ok := u.exposures[vs]; ok {
		return x
	}
	f := u.filterOf(vs)
	x := exposure{accepted: map[string]bool{}}
	accept := func(jobs []string) {
		x.known = true
		for _, j := range jobs {
			if f.accepts(j) {
				x.accepted[j] = true
			}
		}
	}
	if u.exposers == nil {
		u.exposers = map[string][]string{}
		if u.inv.Has(analyze.PartJobMetrics) {
			for job, ms := range u.inv.JobMetrics {
				for _, m := range ms {
					u.exposers[m] = append(u.exposers[m], job)
				}
			}
		}
	}
	switch {
	case name == "":
		// {__name__=~"…"} or no name at all: any metric.
	case name == "up":
		if u.inv.Has(analyze.PartTargets) {
			accept(slices.Collect(maps.Keys(u.targets)))
		}
	case u.exposers[name] != nil:
		accept(u.exposers[name])
	case u.inv.Has(analyze.PartMetricNames) && len(u.rules.recordings[name]) == 0:
		if _, ok := slices.BinarySearch(u.inv.MetricNames, name); !ok {
			x.known = true
		}
	}
	u.exposures[vs] = x
	return x
}

// candidates are the jobs an expression's up selectors select, directly or through the
// recording rules it reads (as far as the selectors of those recordings let them through).
// Only these jobs can be covered, so only they are evaluated.
func (u *evalContext) candidates(expr parser.Expr, depth int) map[string]bool {
	out := map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := MetricName(vs)
		if name == "up" {
			for j := range u.upSelectorOf(vs).perJob {
				out[j] = true
			}
			return nil
		}
		f := u.filterOf(vs)
		recs := u.rules.recordings[name]
		if len(recs) == 0 || depth >= maxRecordingDepth || !u.reads(name, "up") {
			return nil
		}
		setsJob := slices.ContainsFunc(recs, func(r *analyze.Rule) bool { _, ok := r.Labels["job"]; return ok })
		for j := range u.recordingCandidates(name, depth+1) {
			if setsJob || f.accepts(j) {
				out[j] = true
			}
		}
		return nil
	})
	return out
}

func (u *evalContext) recordingCandidates(name string, depth int) map[string]bool {
	if c, ok := u.recCands[name]; ok {
		return c
	}
	u.recCands[name] = nil // a recording that reads itself adds nothing more
	c := map[string]bool{}
	for _, rec := range u.rules.recordings[name] {
		maps.Copy(c, u.candidates(rec.Parsed, depth))
	}
	u.recCands[name] = c
	return c
}

// covers decides whether an alert fires on the job's subject series (up, or a counter) when it
// fails (every target of the job down, the counter flat), does not already fire on them when
// healthy (targets up, counter increasing), and gives different results in the two worlds: an
// alert whose result does not depend on the state of the subject (a count of up series,
// changes(up[10m]) over a steady window, the counter's raw value) watches something else.
func (u *evalContext) covers(expr parser.Expr, subject, job string) bool {
	return u.coversSubject(expr, subject, job, false)
}

// coversSubject is covers, with stale making the subject a last-success gauge: failing, it
// holds a time long past; healthy, the present.
func (u *evalContext) coversSubject(expr parser.Expr, subject, job string, stale bool) bool {
	failing := jobGroups((&evaluator{u: u, job: job, down: true, subject: subject, stale: stale}).eval(expr, 0))
	if len(failing) == 0 {
		return false
	}
	healthy := jobGroups((&evaluator{u: u, job: job, subject: subject, stale: stale}).eval(expr, 0))
	if slices.ContainsFunc(healthy, group.present) {
		return false
	}
	return !slices.EqualFunc(failing, healthy, sameGroup)
}

// jobGroups are the groups of a result computed from the job's up series.
func jobGroups(v value) []group {
	if v.kind != kindVector {
		return nil
	}
	var out []group
	for _, g := range v.groups {
		if g.origin&fromJob != 0 {
			out = append(out, g)
		}
	}
	return out
}

func sameGroup(a, b group) bool {
	return a.origin == b.origin && a.job == b.job && a.val == b.val && a.nLo == b.nLo && a.nHi == b.nHi &&
		a.names.known == b.names.known && slices.Equal(a.names.names, b.names.names)
}

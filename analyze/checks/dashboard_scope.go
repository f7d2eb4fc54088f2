package checks

import (
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
)

// maxAssignments bounds the combinations of variable values tried on one matcher; past it
// the matcher is taken to accept any job.
const maxAssignments = 1024

// dashboardScope decides which jobs the panels of one dashboard can show: a job matcher
// holding a variable accepts only the values the variable can take, and a panel shows a job
// only when the job exposes the panel's metric. Where the inventory cannot tell, it decides
// for the job (the panel may show it), so that a gap in what was read never reports a
// dashboard missing.
type dashboardScope struct {
	inv      *analyze.Inventory
	vars     map[string]analyze.DashboardVariable
	values   map[string]valueSet
	visiting map[string]bool
	// accepted memoises matcherAccepts: most panels of a dashboard repeat the same job
	// matcher, and a variable may hold as many values as there are jobs.
	accepted map[matcherKey]map[string]bool
}

type matcherKey struct {
	typ   labels.MatchType
	value string
}

func newDashboardScope(inv *analyze.Inventory, d analyze.Dashboard) *dashboardScope {
	s := &dashboardScope{
		inv: inv, vars: map[string]analyze.DashboardVariable{}, values: map[string]valueSet{},
		visiting: map[string]bool{}, accepted: map[matcherKey]map[string]bool{},
	}
	for _, v := range d.Variables {
		if _, dup := s.vars[v.Name]; !dup {
			s.vars[v.Name] = v
		}
	}
	return s
}

// valueSet is what a variable can hold: a known list, or anything (filtered by a regex
// without capture groups, when the variable has one).
type valueSet struct {
	any    bool
	filter *regexp.Regexp
	list   []string
	// members holds list, and patterns the values of list that are regexes rather than
	// literals, for the usual matcher that is the variable alone.
	members  map[string]bool
	patterns []string
}

func (vs valueSet) indexed() valueSet {
	vs.members = make(map[string]bool, len(vs.list))
	for _, v := range vs.list {
		vs.members[v] = true
		if regexp.QuoteMeta(v) != v {
			vs.patterns = append(vs.patterns, v)
		}
	}
	return vs
}

var anyValue = valueSet{any: true}

// variableValues returns the values a variable can take when the dashboard is viewed.
// "All" and multi-value selections are combinations of these values: a bounded variable
// stays bounded whatever its allValue says.
func (s *dashboardScope) variableValues(name string) valueSet {
	if vs, ok := s.values[name]; ok {
		return vs
	}
	v, defined := s.vars[name]
	if !defined || s.visiting[name] {
		return anyValue // built-in, undefined, or defined through itself
	}
	s.visiting[name] = true
	defer delete(s.visiting, name)
	var vs valueSet
	switch v.Type {
	case "custom", "constant":
		vs = valueSet{list: v.Values}
	case "query":
		vs = withRegex(s.queryValues(v), v.Regex)
	default:
		// A textbox holds what the viewer types; interval, datasource and ad hoc variables
		// hold no job.
		vs = anyValue
	}
	vs = vs.indexed()
	s.values[name] = vs
	return vs
}

// queryValues bounds a query variable: label_values(metric{…}, job) takes the jobs that
// expose metric and that the selector's job matchers accept. Its other matchers are not
// known per job and are left out, which can only widen the set. Every other query
// (label_values(job), of another label, query_result(…), a non-Prometheus datasource) may
// hold any job.
func (s *dashboardScope) queryValues(v analyze.DashboardVariable) valueSet {
	if !v.Prometheus || v.Function != "label_values" || v.Label != "job" || v.Selector == nil {
		return anyValue
	}
	name := dashboard.MetricName(v.Selector)
	if name == "" {
		return anyValue
	}
	jobs, known := s.jobsExposing(name)
	if !known {
		return anyValue
	}
	out := []string{}
	for _, j := range jobs {
		if s.jobMatchersAccept(v.Selector, j) {
			out = append(out, j)
		}
	}
	return valueSet{list: out}
}

// withRegex narrows values with a variable's regex field as Grafana applies it: a value the
// regex does not match is dropped, and one it matches becomes its "value" (or "text")
// named group, or else its first group. A regex Go cannot compile leaves the values as they
// are.
func withRegex(vs valueSet, field string) valueSet {
	re := grafanaRegex(field)
	if re == nil {
		return vs
	}
	if vs.any {
		if re.NumSubexp() > 0 || vs.filter != nil {
			return vs // captures of unknown values are unknown
		}
		return valueSet{any: true, filter: re}
	}
	out := []string{}
	for _, v := range vs.list {
		m := re.FindStringSubmatch(v)
		if m == nil {
			continue
		}
		switch {
		case re.SubexpIndex("value") > 0 && m[re.SubexpIndex("value")] != "":
			v = m[re.SubexpIndex("value")]
		case re.SubexpIndex("text") > 0 && m[re.SubexpIndex("text")] != "":
			v = m[re.SubexpIndex("text")]
		case len(m) > 1:
			v = m[1]
		}
		out = append(out, v)
	}
	return valueSet{list: out}
}

// grafanaRegex compiles a regex field, `/pattern/flags` or a bare pattern; nil when there is
// none or Go's syntax does not accept it (lookarounds, back-references).
func grafanaRegex(field string) *regexp.Regexp {
	field = strings.TrimSpace(field)
	if field == "" {
		return nil
	}
	pattern, flags := field, ""
	if strings.HasPrefix(field, "/") {
		if end := strings.LastIndex(field, "/"); end > 0 {
			pattern, flags = field[1:end], field[end+1:]
		}
	}
	if strings.Contains(flags, "i") {
		pattern = "(?i)" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil
	}
	return re
}

// jobsExposing returns the jobs whose series carry metric, and whether the inventory knows.
func (s *dashboardScope) jobsExposing(metric string) ([]string, bool) {
	if jobs, ok := s.inv.ExposedBy[metric]; ok {
		return jobs, true
	}
	if metric == "up" && s.inv.Has(analyze.PartTargets) {
		var out []string
		for _, j := range s.inv.Jobs {
			if j.Active() > 0 {
				out = append(out, j.Name)
			}
		}
		return out, true
	}
	if s.notOnServer(metric) {
		return nil, true
	}
	return nil, false
}

// exposes reports whether job j carries metric, and whether the inventory knows.
func (s *dashboardScope) exposes(j analyze.Job, metric string) (bool, bool) {
	if jobs, ok := s.inv.ExposedBy[metric]; ok {
		_, found := slices.BinarySearch(jobs, j.Name)
		return found, true
	}
	_, inJobMetrics := slices.BinarySearch(s.inv.JobMetrics[j.Name], metric)
	switch {
	case metric == "up":
		return j.Active() > 0, true
	case inJobMetrics:
		return true, true
	case s.notOnServer(metric):
		return false, true
	}
	return false, false
}

// notOnServer reports whether the server is known to have no series of metric at all.
func (s *dashboardScope) notOnServer(metric string) bool {
	if !s.inv.Has(analyze.PartMetricNames) {
		return false
	}
	_, found := slices.BinarySearch(s.inv.MetricNames, metric)
	return !found
}

// showsJob reports whether a panel's selector can show series of job j: its job matchers
// accept j, and j exposes the metric. A selector without a job matcher shows j only when j
// is known to expose the metric; one with job matchers is given the benefit of the doubt
// when nobody knows whether j exposes it (a snapshot without the dashboards' metrics).
func (s *dashboardScope) showsJob(sel *parser.VectorSelector, j analyze.Job) bool {
	hasJob := slices.ContainsFunc(sel.LabelMatchers, func(m *labels.Matcher) bool { return m.Name == "job" })
	if hasJob && !s.jobMatchersAccept(sel, j.Name) {
		return false
	}
	name := dashboard.MetricName(sel)
	if name == "" {
		return hasJob
	}
	exposed, known := s.exposes(j, name)
	if known {
		return exposed
	}
	return hasJob
}

func (s *dashboardScope) jobMatchersAccept(sel *parser.VectorSelector, job string) bool {
	for _, m := range sel.LabelMatchers {
		if m.Name == "job" && !s.matcherAccepts(m, job) {
			return false
		}
	}
	return true
}

// matcherAccepts reports whether some value of the variables a matcher holds makes it
// accept job.
func (s *dashboardScope) matcherAccepts(m *labels.Matcher, job string) bool {
	if !dashboard.HasVariable(m.Value) {
		return m.Matches(job)
	}
	key := matcherKey{m.Type, m.Value}
	if s.accepted[key] == nil {
		s.accepted[key] = map[string]bool{}
	}
	accepted, done := s.accepted[key][job]
	if !done {
		accepted = s.someValueAccepts(m, job)
		s.accepted[key][job] = accepted
	}
	return accepted
}

func (s *dashboardScope) someValueAccepts(m *labels.Matcher, job string) bool {
	names := dashboard.VariablesIn(m.Value)
	slices.Sort(names)
	names = slices.Compact(names)
	sets := make([]valueSet, len(names))
	combinations := 1
	for i, name := range names {
		if name == "" {
			return true // a variable whose name was lost may hold anything
		}
		sets[i] = s.variableValues(name)
		if sets[i].any {
			// `job="$job"` with values filtered by a regex: the job must pass the filter.
			if sets[i].filter != nil && len(names) == 1 && m.Type == labels.MatchEqual && m.Value == dashboard.VariablePlaceholder(name) {
				return sets[i].filter.MatchString(job)
			}
			return true
		}
		combinations *= len(sets[i].list)
		if combinations > maxAssignments {
			return true
		}
	}
	if len(names) == 1 && m.Value == dashboard.VariablePlaceholder(names[0]) {
		switch m.Type {
		case labels.MatchEqual:
			return sets[0].members[job]
		case labels.MatchRegexp:
			if sets[0].members[job] {
				return true
			}
			sets[0].list = sets[0].patterns // only a regex value can match another value
		}
	}
	assignment := make(map[string]string, len(names))
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(names) {
			return expandedAccepts(m, assignment, job)
		}
		for _, v := range sets[i].list {
			assignment[names[i]] = v
			if try(i + 1) {
				return true
			}
		}
		return false
	}
	return try(0)
}

// expandedAccepts builds the matcher with the variables' values and tries it on job. In a
// regex, a value is taken as Grafana writes a single value (unescaped) and, when that is no
// valid regex, escaped as it writes a multi-value one.
func expandedAccepts(m *labels.Matcher, assignment map[string]string, job string) bool {
	for _, quote := range []bool{false, true} {
		value, _ := dashboard.ExpandVariables(m.Value, func(name string) (string, bool) {
			v := assignment[name]
			if quote {
				v = regexp.QuoteMeta(v)
			}
			return v, true
		})
		expanded, err := labels.NewMatcher(m.Type, m.Name, value)
		if err != nil {
			continue
		}
		if expanded.Matches(job) {
			return true
		}
	}
	return false
}

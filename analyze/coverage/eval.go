package coverage

import (
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// This file holds the abstract evaluator behind up and business coverage: it runs an alert's
// syntax tree over a described world instead of over samples. The world is about one subject
// metric of the job under test: up (the job's targets down, or up), a business counter (flat,
// or increasing) or a last-success gauge (long past, or now); every other job is healthy. A
// result is a short list of groups, each standing for a set of series that share where they
// come from, what their job label may be and a range of values. Whatever the evaluator cannot
// know widens a range or makes a group "maybe present"; it never fails. docs/coverage.md
// describes the reasoning and its limits.

// tri is a three-valued truth: often the evaluator can only say maybe.
type tri uint8

const (
	triNo tri = iota
	triMaybe
	triYes
)

func (t tri) not() tri { return triYes - t }

// interval is the closed range of values every element of a group lies in.
type interval struct{ lo, hi float64 }

func point(v float64) interval { return interval{v, v} }

var anyValue = interval{math.Inf(-1), math.Inf(1)}

func (i interval) exact() bool { return i.lo == i.hi }

// sane widens bounds that arithmetic turned into NaN.
func sane(i interval) interval {
	if math.IsNaN(i.lo) {
		i.lo = math.Inf(-1)
	}
	if math.IsNaN(i.hi) {
		i.hi = math.Inf(1)
	}
	if i.lo > i.hi {
		return anyValue
	}
	return i
}

// corners bounds f over two intervals by its values at their ends, which is exact for the
// monotonic pieces of + - * /.
func corners(a, b interval, f func(x, y float64) float64) interval {
	out := interval{math.Inf(1), math.Inf(-1)}
	for _, x := range [2]float64{a.lo, a.hi} {
		for _, y := range [2]float64{b.lo, b.hi} {
			v := f(x, y)
			if math.IsNaN(v) {
				return anyValue
			}
			out.lo, out.hi = min(out.lo, v), max(out.hi, v)
		}
	}
	return out
}

// mul treats 0 as absorbing, so that 0 times an unknown value is 0 rather than NaN.
func mul(x, y float64) float64 {
	if x == 0 || y == 0 {
		return 0
	}
	return x * y
}

func arith(op parser.ItemType, a, b interval) interval {
	switch op {
	case parser.ADD:
		return sane(interval{a.lo + b.lo, a.hi + b.hi})
	case parser.SUB:
		return sane(interval{a.lo - b.hi, a.hi - b.lo})
	case parser.MUL:
		return corners(a, b, mul)
	case parser.DIV:
		if b.lo > 0 || b.hi < 0 {
			return corners(a, b, func(x, y float64) float64 { return x / y })
		}
	}
	if !a.exact() || !b.exact() {
		return anyValue
	}
	var v float64
	switch op {
	case parser.DIV:
		v = a.lo / b.lo
	case parser.MOD:
		v = math.Mod(a.lo, b.lo)
	case parser.POW:
		v = math.Pow(a.lo, b.lo)
	case parser.ATAN2:
		v = math.Atan2(a.lo, b.lo)
	default:
		return anyValue
	}
	if math.IsNaN(v) {
		return anyValue
	}
	return point(v)
}

// compare says whether op holds between the elements of two groups.
func compare(op parser.ItemType, a, b interval) tri {
	switch op {
	case parser.EQLC:
		if a.exact() && b.exact() && a.lo == b.lo {
			return triYes
		}
		if a.hi < b.lo || b.hi < a.lo {
			return triNo
		}
	case parser.NEQ:
		return compare(parser.EQLC, a, b).not()
	case parser.LSS:
		if a.hi < b.lo {
			return triYes
		}
		if a.lo >= b.hi {
			return triNo
		}
	case parser.LTE:
		if a.hi <= b.lo {
			return triYes
		}
		if a.lo > b.hi {
			return triNo
		}
	case parser.GTR:
		return compare(parser.LSS, b, a)
	case parser.GTE:
		return compare(parser.LTE, b, a)
	}
	return triMaybe
}

// truth is the value of a comparison with the bool modifier.
func truth(t tri) interval {
	switch t {
	case triYes:
		return point(1)
	case triNo:
		return point(0)
	}
	return interval{0, 1}
}

// origin says which series a group's elements are computed from.
type origin uint8

const (
	fromJob    origin = 1 << iota // the up series of the job under test
	fromOthers                    // the up series of other jobs
	fromOther                     // any other metric
)

// jobLabel is the set of values the job label of a group's elements may take.
type jobLabel uint8

const (
	jobIsTested jobLabel = 1 << iota // the job under test
	jobIsOther                       // some other job, possibly several
	jobIsAbsent                      // no job label
	jobAny      = jobIsTested | jobIsOther | jobIsAbsent
)

// jobsEqual says whether an element of a and one of b have the same job label.
func jobsEqual(a, b jobLabel) tri {
	switch {
	case a&b == 0:
		return triNo
	case a == b && (a == jobIsTested || a == jobIsAbsent):
		return triYes
	}
	return triMaybe
}

// source is the set of jobs whose targets a group's elements were scraped from, as far as it
// is known: unlike the job label, it survives aggregations and joins. Two groups from
// different jobs' targets cannot meet on the instance label (see matchGroups).
type source uint8

const (
	srcJob     source = 1 << iota // the targets of the job under test
	srcOthers                     // other jobs' targets
	srcUnknown                    // anything else, or not known
)

// disjoint says whether no element of a can come from the targets of an element of b.
func (s source) disjoint(o source) bool {
	return s != 0 && o != 0 && (s|o)&srcUnknown == 0 && s&o == 0
}

// counterState says whether a group holds the raw samples of the subject counter, and in which
// state a range function sees them.
type counterState uint8

const (
	notCounter     counterState = iota
	counterNow                  // the world's state: flat for the job under test when down
	counterUnknown              // another time (offset, @): it may have been increasing or not
)

// labelNames is the set of label names, job and __name__ aside, that every element of a group
// carries. When known is false the evaluator lost track and any name may be there.
type labelNames struct {
	known bool
	names []string // sorted
}

var (
	unknownNames = labelNames{}
	noNames      = labelNames{known: true}
)

func (n labelNames) has(l string) tri {
	switch {
	case !n.known:
		return triMaybe
	case slices.Contains(n.names, l):
		return triYes
	}
	return triNo
}

func (n labelNames) keep(ls []string) labelNames {
	if len(ls) == 0 {
		return noNames // whatever the names were, none is kept
	}
	if !n.known {
		return n
	}
	out := labelNames{known: true}
	for _, l := range n.names {
		if slices.Contains(ls, l) {
			out.names = append(out.names, l)
		}
	}
	return out
}

func (n labelNames) drop(ls []string) labelNames {
	if !n.known {
		return n
	}
	out := labelNames{known: true}
	for _, l := range n.names {
		if !slices.Contains(ls, l) {
			out.names = append(out.names, l)
		}
	}
	return out
}

func (n labelNames) add(l string) labelNames {
	if !n.known || l == "job" || l == labels.MetricName || slices.Contains(n.names, l) {
		return n
	}
	out := labelNames{known: true, names: append(slices.Clone(n.names), l)}
	slices.Sort(out.names)
	return out
}

func (n labelNames) equal(o labelNames) bool {
	if !n.known || !o.known || len(n.names) != len(o.names) {
		return false
	}
	// Target label names are interned: the same set is usually the same slice.
	return len(n.names) == 0 || &n.names[0] == &o.names[0] || slices.Equal(n.names, o.names)
}

// manyElements stands for "no known bound" in element counts.
const manyElements = 1 << 40

func addCounts(a, b int) int { return min(a+b, manyElements) }

// group is a set of series of one instant vector that the evaluator tells apart from others.
type group struct {
	origin origin
	job    jobLabel
	names  labelNames
	val    interval
	// nLo and nHi bound the number of elements; nLo 0 means the group may be empty, nHi is at
	// least 1.
	nLo, nHi int
	src      source
	counter  counterState
}

func (g group) present() bool { return g.nLo > 0 }

// maybeEmpty is g when it may have lost all its elements.
func (g group) maybeEmpty() group {
	g.nLo = 0
	return g
}

type valueKind uint8

const (
	kindVector valueKind = iota // instant vectors, and range vectors as the vectors they hold
	kindScalar
	kindString
)

type value struct {
	kind   valueKind
	scalar interval
	groups []group
	// origin is every origin the value was computed from, including groups filtered out on
	// the way: absent() and the set operators depend on series they do not return.
	origin origin
}

func scalarValue(i interval) value { return value{kind: kindScalar, scalar: i} }

// maxGroups bounds the groups of one value; beyond it groups are merged (less precise, never
// wrong).
const maxGroups = 16

func compact(gs []group) []group {
	if len(gs) <= maxGroups {
		return gs
	}
	merged := mergeGroups(gs, func(g group) int { return int(g.origin)<<8 | int(g.job) })
	if len(merged) <= maxGroups {
		return merged
	}
	return mergeGroups(merged, func(g group) int { return int(g.origin) })
}

func mergeGroups(gs []group, key func(group) int) []group {
	var out []group
	at := map[int]int{}
	for _, g := range gs {
		i, ok := at[key(g)]
		if !ok {
			at[key(g)] = len(out)
			out = append(out, g)
			continue
		}
		m := &out[i]
		m.job |= g.job
		m.src |= g.src
		if m.counter != g.counter {
			m.counter = notCounter
		}
		if !m.names.equal(g.names) {
			m.names = unknownNames
		}
		m.val = interval{min(m.val.lo, g.val.lo), max(m.val.hi, g.val.hi)}
		m.nLo, m.nHi = max(m.nLo, g.nLo), addCounts(m.nHi, g.nHi)
	}
	return out
}

// evaluator runs expressions over one scenario: the subject metric of job fails (down) or
// not, and every other job is healthy. The subject is up (failing: every target of the job is
// down), a counter (failing: flat, its series present and unchanged; healthy: increasing) or
// a last-success gauge (failing: a time long past; healthy: now).
type evaluator struct {
	u       *evalContext
	job     string
	down    bool
	subject string
	// stale makes the subject a last-success gauge (KindStaleness) rather than a counter:
	// failing, it holds a time long past; healthy, the world's now.
	stale bool
}

// worldNow is the value of time() in every world. Its exact value does not matter: a
// last-success gauge is worldNow when fresh and 0 (decades old) when stale.
const worldNow = 1.8e9

func (e *evaluator) subjectIsUp() bool { return e.subject == "" || e.subject == "up" }

func (e *evaluator) eval(expr parser.Expr, depth int) value {
	switch n := expr.(type) {
	case *parser.NumberLiteral:
		return scalarValue(point(n.Val))
	case *parser.StringLiteral:
		return value{kind: kindString}
	case *parser.ParenExpr:
		return e.eval(n.Expr, depth)
	case *parser.StepInvariantExpr:
		return e.eval(n.Expr, depth)
	case *parser.UnaryExpr:
		v := e.eval(n.Expr, depth)
		if n.Op == parser.SUB {
			neg := func(i interval) interval { return interval{-i.hi, -i.lo} }
			v.scalar = neg(v.scalar)
			v.groups = slices.Clone(v.groups)
			for i := range v.groups {
				v.groups[i].val = neg(v.groups[i].val)
				v.groups[i].counter = notCounter
			}
		}
		return v
	case *parser.VectorSelector:
		return e.selector(n, depth)
	case *parser.MatrixSelector:
		// A range is judged as if the whole window were in the scenario's state.
		return e.eval(n.VectorSelector, depth)
	case *parser.SubqueryExpr:
		return e.eval(n.Expr, depth)
	case *parser.AggregateExpr:
		return e.aggregate(n, depth)
	case *parser.BinaryExpr:
		return e.binary(n, depth)
	case *parser.Call:
		return e.call(n, depth)
	case *parser.DurationExpr:
		return scalarValue(anyValue)
	}
	return value{groups: []group{unknownGroup(fromOther, jobAny)}}
}

// unknownGroup is a group of which nothing is known but its origin and job label.
func unknownGroup(o origin, job jobLabel) group {
	return group{origin: o, job: job, names: unknownNames, val: anyValue, nHi: manyElements, src: srcUnknown}
}

func (e *evaluator) selector(vs *parser.VectorSelector, depth int) value {
	name := MetricName(vs)
	subject := e.subject
	if subject == "" {
		subject = "up"
	}
	switch {
	case name == subject && e.subjectIsUp():
		return e.up(e.u.upSelectorOf(vs))
	case name == subject && subject == ProbeSuccess:
		return e.up(e.u.probeSelectorOf(vs))
	case name == subject:
		return e.counter(vs)
	case e.u.rules.starved[name]:
		return value{origin: fromOther} // only failing recording rules produce it
	}
	if recs := e.u.rules.recordings[name]; len(recs) > 0 && depth < maxRecordingDepth && e.u.reads(name, subject) {
		return e.recorded(vs, name, depth)
	}
	// Another metric: assumed to exist, since the alert reads it, with values nothing is known
	// about. Which jobs' series carry it is known for the metrics the collector asked about.
	set, _ := e.u.filterOf(vs).restrict(jobAny, e.job, len(e.u.jobs), true)
	src := srcUnknown
	if ex := e.u.exposureOf(vs, name); ex.known {
		// Scraped series carry the job label of their target: the job label says where they
		// come from.
		set &^= jobIsAbsent
		if !ex.byJob(e.job) {
			set &^= jobIsTested
		}
		if ex.others(e.job) == 0 {
			set &^= jobIsOther
		}
		src = 0
		if set&jobIsTested != 0 {
			src |= srcJob
		}
		if set&jobIsOther != 0 {
			src |= srcOthers
		}
	}
	if set == 0 {
		return value{origin: fromOther}
	}
	g := unknownGroup(fromOther, set)
	g.nLo, g.src = 1, src
	return value{origin: fromOther, groups: []group{g}}
}

// counter is the value of a selector of the subject counter: the job's series and the other
// jobs' series its matchers accept. Their values are unknown (and the same in both worlds);
// what differs is what a range function sees. A last-success gauge holds a time instead:
// long past for the job under test when failing, now otherwise.
func (e *evaluator) counter(vs *parser.VectorSelector) value {
	ex := e.u.exposureOf(vs, e.subject)
	state := counterNow
	if vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		state = counterUnknown
	}
	// Matchers on other labels than job may select none of the job's series.
	sure := true
	for _, m := range vs.LabelMatchers {
		if m.Name != "job" && m.Name != labels.MetricName && !(m.Type == labels.MatchRegexp && m.Value == ".*") {
			sure = false
		}
	}
	nLo := 0
	if sure {
		nLo = 1
	}
	jobVal, othersVal := interval{0, math.Inf(1)}, interval{0, math.Inf(1)}
	if e.stale {
		jobVal, othersVal = point(worldNow), point(worldNow)
		if e.down {
			jobVal = point(0)
		}
		if state == counterUnknown {
			jobVal, othersVal = interval{0, worldNow}, interval{0, worldNow}
		}
	}
	var v value
	if ex.byJob(e.job) {
		v.origin |= fromJob
		v.groups = append(v.groups, group{origin: fromJob, job: jobIsTested, names: unknownNames, val: jobVal,
			nLo: nLo, nHi: manyElements, src: srcJob, counter: state})
	}
	if ex.others(e.job) > 0 {
		v.origin |= fromOthers
		v.groups = append(v.groups, group{origin: fromOthers, job: jobIsOther, names: unknownNames, val: othersVal,
			nLo: nLo, nHi: manyElements, src: srcOthers, counter: state})
	}
	return v
}

// up is the value of an up selector: the job's accepted targets, 0 when down, and the other
// jobs' accepted targets, 1.
func (e *evaluator) up(s *upSelector) value {
	var v value
	nJob := s.perJob[e.job]
	if nJob > 0 {
		val := 1.0
		if e.down {
			val = 0
		}
		v.origin |= fromJob
		v.groups = append(v.groups, group{origin: fromJob, job: jobIsTested, names: s.names[e.job], val: point(val), nLo: nJob, nHi: nJob, src: srcJob})
	}
	if nOthers := s.total - nJob; nOthers > 0 {
		v.origin |= fromOthers
		v.groups = append(v.groups, group{origin: fromOthers, job: jobIsOther, names: s.otherNames, val: point(1), nLo: nOthers, nHi: nOthers, src: srcOthers})
	}
	return v
}

// recorded evaluates the recording rules that produce a selector's metric, then applies the
// rules' labels and the selector's matchers to the result.
func (e *evaluator) recorded(vs *parser.VectorSelector, name string, depth int) value {
	var out value
	f := e.u.filterOf(vs)
	for _, rec := range e.u.rules.recordings[name] {
		v := e.eval(rec.Parsed, depth+1)
		out.origin |= v.origin
		gs := v.groups
		if v.kind == kindScalar {
			gs = []group{{job: jobIsAbsent, names: noNames, val: v.scalar, nLo: 1, nHi: 1, src: srcUnknown}}
		}
	groups:
		for _, g := range gs {
			for l := range rec.Labels {
				g.names = g.names.add(l)
			}
			if j, ok := rec.Labels["job"]; ok {
				if !f.accepts(j) {
					continue
				}
				g.job = jobIsOther
				if j == e.job {
					g.job = jobIsTested
				}
			} else {
				set, lossless := f.restrict(g.job, e.job, len(e.u.jobs), false)
				if set == 0 {
					continue
				}
				g.job = set
				if !lossless {
					g = g.maybeEmpty()
				}
			}
			for _, m := range vs.LabelMatchers {
				if m.Name == "job" || m.Name == labels.MetricName {
					continue
				}
				if lv, ok := rec.Labels[m.Name]; ok {
					if !m.Matches(lv) {
						continue groups
					}
					continue
				}
				switch g.names.has(m.Name) {
				case triNo:
					if !m.Matches("") {
						continue groups
					}
				default:
					if !(m.Type == labels.MatchRegexp && m.Value == ".*") {
						g = g.maybeEmpty()
					}
				}
			}
			out.groups = append(out.groups, g)
		}
	}
	out.groups = compact(out.groups)
	return out
}

func (e *evaluator) binary(n *parser.BinaryExpr, depth int) value {
	l, r := e.eval(n.LHS, depth), e.eval(n.RHS, depth)
	origin := l.origin | r.origin
	switch {
	case l.kind == kindString || r.kind == kindString:
		return value{origin: origin, groups: []group{unknownGroup(origin, jobAny)}}
	case l.kind == kindScalar && r.kind == kindScalar:
		if n.Op.IsComparisonOperator() {
			return scalarValue(truth(compare(n.Op, l.scalar, r.scalar)))
		}
		return scalarValue(arith(n.Op, l.scalar, r.scalar))
	case l.kind == kindScalar:
		return scalarVector(n, l.scalar, r, true)
	case r.kind == kindScalar:
		return scalarVector(n, r.scalar, l, false)
	}
	vm := n.VectorMatching
	if vm == nil {
		vm = &parser.VectorMatching{Card: parser.CardOneToOne}
	}
	out := value{origin: origin}
	switch n.Op {
	case parser.LAND, parser.LUNLESS:
		for _, a := range l.groups {
			found, sure := false, false
			for _, b := range r.groups {
				switch m := matchGroups(a, b, vm); {
				case m == triYes && b.present():
					found, sure = true, true
				case m != triNo:
					found = true
				}
			}
			if n.Op == parser.LAND {
				if !found {
					continue
				}
				if !sure {
					a = a.maybeEmpty()
				}
			} else {
				if sure {
					continue
				}
				if found {
					a = a.maybeEmpty()
				}
			}
			// The result depends on the right side's series even when it returns none of them.
			a.origin |= r.origin
			out.groups = append(out.groups, a)
		}
	case parser.LOR:
		out.groups = slices.Clone(l.groups)
		for _, b := range r.groups {
			found, sure := false, false
			for _, a := range l.groups {
				switch m := matchGroups(a, b, vm); {
				case m == triYes && a.present():
					found, sure = true, true
				case m != triNo:
					found = true
				}
			}
			if sure {
				continue
			}
			if found {
				b = b.maybeEmpty()
			}
			out.groups = append(out.groups, b)
		}
	default:
		out.groups = vectorOp(n.Op, n.ReturnBool, vm, l.groups, r.groups)
	}
	out.groups = compact(out.groups)
	return out
}

// scalarVector applies op between a scalar and each group of v.
func scalarVector(n *parser.BinaryExpr, s interval, v value, scalarLeft bool) value {
	out := value{origin: v.origin}
	for _, g := range v.groups {
		a, b := g.val, s
		if scalarLeft {
			a, b = s, g.val
		}
		if !n.Op.IsComparisonOperator() {
			g.val, g.counter = arith(n.Op, a, b), notCounter
			out.groups = append(out.groups, g)
			continue
		}
		t := compare(n.Op, a, b)
		switch {
		case n.ReturnBool:
			g.val, g.counter = truth(t), notCounter
		case t == triNo:
			continue
		case t == triMaybe:
			g = g.maybeEmpty()
		}
		// A filtering comparison keeps the vector's value, on whichever side it is.
		out.groups = append(out.groups, g)
	}
	return out
}

// matchGroups says whether elements of a and b can meet in vector matching.
//
// It answers yes only when every element of both groups has the same matching signature, so
// that the whole of a meets the whole of b: the signature holds no label but job (judged by the
// job label sets) and labels neither side carries.
//
// The instance label names a target: elements scraped from different jobs' targets do not
// meet on it (two jobs scraping the same address are the exception, a documented limit).
func matchGroups(a, b group, vm *parser.VectorMatching) tri {
	if a.src.disjoint(b.src) && vm.On == slices.Contains(vm.MatchingLabels, "instance") &&
		a.names.has("instance") != triNo && b.names.has("instance") != triNo {
		return triNo
	}
	t := triYes
	jobInSignature := vm.On == slices.Contains(vm.MatchingLabels, "job")
	if jobInSignature {
		t = min(t, jobsEqual(a.job, b.job))
	}
	if vm.On {
		for _, l := range vm.MatchingLabels {
			if l == "job" || l == labels.MetricName {
				continue
			}
			ha, hb := a.names.has(l), b.names.has(l)
			switch {
			case ha == triNo && hb == triNo:
			case ha == triNo && hb == triYes, ha == triYes && hb == triNo:
				return triNo
			default:
				t = min(t, triMaybe)
			}
		}
		return t
	}
	if !a.names.known || !b.names.known {
		return min(t, triMaybe)
	}
	sa, sb := a.names.drop(vm.MatchingLabels), b.names.drop(vm.MatchingLabels)
	if !slices.Equal(sa.names, sb.names) {
		return triNo
	}
	if len(sa.names) > 0 {
		t = min(t, triMaybe)
	}
	return t
}

// vectorOp applies an arithmetic or comparison operator between two vectors.
func vectorOp(op parser.ItemType, returnBool bool, vm *parser.VectorMatching, ls, rs []group) []group {
	var out []group
	emit := func(a, b group, m tri) {
		res := group{origin: a.origin | b.origin, src: a.src | b.src}
		switch vm.Card {
		case parser.CardManyToOne, parser.CardOneToMany:
			many, one := a, b
			if vm.Card == parser.CardOneToMany {
				many, one = b, a
			}
			res.job, res.names, res.nHi = many.job, many.names, many.nHi
			for _, l := range vm.Include {
				if l == "job" {
					res.job = one.job
				} else if one.names.has(l) != triYes {
					res.names = unknownNames
				} else {
					res.names = res.names.add(l)
				}
			}
		default:
			res.job, res.nHi = a.job, min(a.nHi, b.nHi)
			if vm.On {
				res.names = a.names.keep(vm.MatchingLabels)
				if !slices.Contains(vm.MatchingLabels, "job") {
					res.job = jobIsAbsent
				}
			} else {
				res.names = a.names.drop(vm.MatchingLabels)
				if slices.Contains(vm.MatchingLabels, "job") {
					res.job = jobIsAbsent
				}
			}
		}
		t := triYes
		switch {
		case !op.IsComparisonOperator():
			res.val = arith(op, a.val, b.val)
		case returnBool:
			res.val = truth(compare(op, a.val, b.val))
		default:
			if t = compare(op, a.val, b.val); t == triNo {
				return
			}
			res.val = a.val
		}
		if m == triYes && t == triYes && a.present() && b.present() {
			res.nLo = 1
		}
		out = append(out, res)
	}
	fill := func(side *float64, g group) group {
		return group{job: g.job, names: g.names, val: point(*side), nLo: 1, nHi: 1, src: g.src}
	}
	for _, a := range ls {
		found, sure := false, false
		for _, b := range rs {
			m := matchGroups(a, b, vm)
			if m == triNo {
				continue
			}
			found = true
			sure = sure || (m == triYes && b.present())
			emit(a, b, m)
		}
		if vm.FillValues.RHS != nil && !sure {
			m := triYes
			if found {
				m = triMaybe
			}
			emit(a, fill(vm.FillValues.RHS, a), m)
		}
	}
	if vm.FillValues.LHS != nil {
		for _, b := range rs {
			found, sure := false, false
			for _, a := range ls {
				if m := matchGroups(a, b, vm); m != triNo {
					found, sure = true, sure || (m == triYes && a.present())
				}
			}
			if !sure {
				m := triYes
				if found {
					m = triMaybe
				}
				emit(fill(vm.FillValues.LHS, b), b, m)
			}
		}
	}
	return out
}

func (e *evaluator) aggregate(n *parser.AggregateExpr, depth int) value {
	in := e.eval(n.Expr, depth)
	out := value{origin: in.origin}
	keepsJob := n.Without != slices.Contains(n.Grouping, "job")
	switch n.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		// These pick elements and keep their labels; which ones is not known.
		for _, g := range in.groups {
			if len(in.groups) > 1 || n.Op == parser.LIMIT_RATIO {
				g = g.maybeEmpty()
			} else {
				g.nLo = min(g.nLo, 1)
			}
			out.groups = append(out.groups, g)
		}
		return out
	}
	// Groups whose job label differs stay apart when the grouping keeps job; otherwise the job
	// under test and the other jobs are aggregated together.
	var buckets [][]group
	at := map[int]int{}
	for _, g := range in.groups {
		key := 0
		if keepsJob {
			key = int(g.origin)<<8 | int(g.job)
		}
		i, ok := at[key]
		if !ok {
			i = len(buckets)
			at[key] = i
			buckets = append(buckets, nil)
		}
		buckets[i] = append(buckets[i], g)
	}
	for _, b := range buckets {
		out.groups = append(out.groups, aggregateBucket(n, b, keepsJob))
	}
	return out
}

// aggregateBucket aggregates groups whose elements may end up in the same output series.
// The aggregation is exact when all of them end up in one series: the grouping keeps no
// label they carry but a job label they share.
func aggregateBucket(n *parser.AggregateExpr, gs []group, keepsJob bool) group {
	grouping := slices.DeleteFunc(slices.Clone(n.Grouping), func(l string) bool { return l == "job" })
	exact := true
	res := group{job: jobIsAbsent}
	for i, g := range gs {
		res.origin |= g.origin
		res.src |= g.src
		if keepsJob {
			res.job = g.job
			if g.job != jobIsTested && g.job != jobIsAbsent {
				exact = false
			}
		}
		kept := g.names.keep(grouping)
		if n.Without {
			kept = g.names.drop(grouping)
		}
		if !kept.known || len(kept.names) > 0 {
			exact = false
		}
		switch {
		case i == 0:
			res.names = kept
		case !res.names.equal(kept):
			res.names = unknownNames
		}
		if g.present() {
			res.nLo = 1
		}
		res.nHi = addCounts(res.nHi, g.nHi)
	}
	if n.Op == parser.COUNT_VALUES {
		res.names = unknownNames
	}
	res.val = aggregateValue(n.Op, gs, exact)
	if exact {
		res.nHi = 1
	}
	res.nHi = max(res.nHi, 1)
	return res
}

func aggregateValue(op parser.ItemType, gs []group, exact bool) interval {
	all := interval{math.Inf(1), math.Inf(-1)}
	same := true
	for _, g := range gs {
		all.lo, all.hi = min(all.lo, g.val.lo), max(all.hi, g.val.hi)
		same = same && g.val.exact() && g.val == gs[0].val
	}
	count := func(n int) float64 { return float64(n) }
	switch op {
	case parser.SUM:
		var s interval
		if exact {
			for _, g := range gs {
				s.lo += min(mul(count(g.nLo), g.val.lo), mul(count(g.nHi), g.val.lo))
				s.hi += max(mul(count(g.nLo), g.val.hi), mul(count(g.nHi), g.val.hi))
			}
			return sane(s)
		}
		// Each output series sums some non-empty subset of the elements.
		for _, g := range gs {
			if g.val.lo < 0 {
				s.lo += mul(count(g.nHi), g.val.lo)
			}
			if g.val.hi > 0 {
				s.hi += mul(count(g.nHi), g.val.hi)
			}
		}
		return sane(interval{min(s.lo, all.lo), max(s.hi, all.hi)})
	case parser.COUNT, parser.COUNT_VALUES:
		lo, hi := 0, 0
		for _, g := range gs {
			lo, hi = addCounts(lo, g.nLo), addCounts(hi, g.nHi)
		}
		if !exact {
			lo = 1
		}
		return interval{count(max(lo, 1)), count(max(hi, 1))}
	case parser.AVG:
		if !exact {
			return all
		}
		var n, lo, hi float64
		for _, g := range gs {
			if g.nLo != g.nHi {
				return all
			}
			n += count(g.nLo)
			lo += mul(count(g.nLo), g.val.lo)
			hi += mul(count(g.nLo), g.val.hi)
		}
		return sane(interval{lo / n, hi / n})
	case parser.MIN, parser.MAX:
		out := all
		if exact {
			for _, g := range gs {
				if !g.present() {
					continue
				}
				if op == parser.MIN {
					out.hi = min(out.hi, g.val.hi)
				} else {
					out.lo = max(out.lo, g.val.lo)
				}
			}
		}
		return out
	case parser.GROUP:
		return point(1)
	case parser.STDDEV, parser.STDVAR:
		if same {
			return point(0)
		}
		return interval{0, math.Inf(1)}
	case parser.QUANTILE:
		return all
	}
	return anyValue
}

func (e *evaluator) call(n *parser.Call, depth int) value {
	args := make([]value, len(n.Args))
	var origin origin
	vec := -1 // the first vector or range argument
	for i, a := range n.Args {
		args[i] = e.eval(a, depth)
		origin |= args[i].origin
		if t := a.Type(); vec < 0 && (t == parser.ValueTypeVector || t == parser.ValueTypeMatrix) {
			vec = i
		}
	}
	name := n.Func.Name
	if n.Func.ReturnType == parser.ValueTypeScalar {
		switch name {
		case "scalar":
			if len(args) == 1 && len(args[0].groups) == 1 {
				if g := args[0].groups[0]; g.nLo == 1 && g.nHi == 1 {
					return scalarValue(g.val)
				}
			}
		case "pi":
			return scalarValue(point(math.Pi))
		case "time":
			return scalarValue(point(worldNow))
		}
		return scalarValue(anyValue)
	}
	switch name {
	case "vector":
		if len(args) == 1 {
			return value{origin: origin, groups: []group{{job: jobIsAbsent, names: noNames, val: args[0].scalar, nLo: 1, nHi: 1, src: srcUnknown}}}
		}
	case "absent", "absent_over_time":
		if vec >= 0 {
			return absent(args[vec])
		}
	}
	if vec < 0 {
		// Functions such as day_of_month() default to vector(time()).
		return value{origin: origin, groups: []group{{job: jobIsAbsent, names: noNames, val: anyValue, nLo: 1, nHi: 1, src: srcUnknown}}}
	}
	in := args[vec]
	out := value{origin: origin, groups: make([]group, 0, len(in.groups))}
	for _, g := range in.groups {
		g, ok := e.apply(n, name, args, g)
		if ok {
			out.groups = append(out.groups, g)
		}
	}
	return out
}

// apply maps one group through a function.
func (e *evaluator) apply(n *parser.Call, name string, args []value, g group) (group, bool) {
	scalarArg := func(i int) (float64, bool) {
		if i >= len(args) || args[i].kind != kindScalar || !args[i].scalar.exact() {
			return 0, false
		}
		return args[i].scalar.lo, true
	}
	v := g.val
	counter := g.counter
	g.counter = notCounter
	if counter != notCounter {
		if r, ok := e.counterRange(name, g, counter); ok {
			g.val = r
			return g, true
		}
	}
	switch name {
	// Range functions, judged over a window spent entirely in the scenario's state.
	case "min_over_time", "max_over_time", "avg_over_time", "last_over_time", "first_over_time", "quantile_over_time":
	case "sum_over_time":
		if v.lo < 0 {
			v.lo = math.Inf(-1)
		}
		if v.hi > 0 {
			v.hi = math.Inf(1)
		}
	case "count_over_time":
		v = interval{1, math.Inf(1)}
	case "present_over_time":
		v = point(1)
	case "stddev_over_time", "stdvar_over_time", "mad_over_time":
		v = interval{0, math.Inf(1)}
		if g.val.exact() {
			v = point(0)
		}
	case "rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets", "predict_linear",
		"holt_winters", "double_exponential_smoothing", "timestamp":
		v = anyValue

	// Functions of the value.
	case "sort", "sort_desc", "sort_by_label", "sort_by_label_desc":
		g.counter = counter
	case "abs":
		switch {
		case v.hi <= 0:
			v = interval{-v.hi, -v.lo}
		case v.lo < 0:
			v = interval{0, max(-v.lo, v.hi)}
		}
	case "ceil":
		v = interval{math.Ceil(v.lo), math.Ceil(v.hi)}
	case "floor":
		v = interval{math.Floor(v.lo), math.Floor(v.hi)}
	case "round":
		v = interval{math.Floor(v.lo), math.Ceil(v.hi)}
		if len(args) > 1 {
			v = anyValue
		}
	case "sgn":
		v = interval{sgn(v.lo), sgn(v.hi)}
	case "exp", "sqrt", "ln", "log2", "log10", "deg", "rad":
		// Increasing functions map bounds to bounds.
		f := monotonic[name]
		v = interval{f(v.lo), f(v.hi)}
	case "clamp_min", "clamp_max", "clamp":
		lo, okLo := scalarArg(1)
		hi, okHi := scalarArg(len(args) - 1)
		switch {
		case name == "clamp_min" && okLo:
			v = interval{max(v.lo, lo), max(v.hi, lo)}
		case name == "clamp_max" && okHi:
			v = interval{min(v.lo, hi), min(v.hi, hi)}
		case name == "clamp" && okLo && okHi:
			if lo > hi {
				return g, false
			}
			v = interval{min(max(v.lo, lo), hi), min(max(v.hi, lo), hi)}
		default:
			v = anyValue
		}

	// Functions of the labels.
	case "label_replace", "label_join":
		g.counter = counter
		g.names = unknownNames
		if dst, ok := stringArg(n, 1); !ok || dst == "job" {
			g.job = jobAny
		}
	case "info":
		g.names = unknownNames

	default:
		// Nothing known: any value, maybe no element, maybe other labels.
		g.names = unknownNames
		g = g.maybeEmpty()
		v = anyValue
	}
	g.val = sane(v)
	return g, true
}

// smallestRate stands for "more than 0" in closed intervals: a counter that increases has a
// rate above 0, however small.
const smallestRate = math.SmallestNonzeroFloat64

// counterRange is what a range function returns over the raw samples of the subject counter:
// nothing moves when it is flat (the job under test when down), it goes up when it increases
// (every other case). A fresh last-success gauge may or may not have moved within the window
// (a daily batch moves it once a day). ok is false for the functions that do not measure an
// increase.
func (e *evaluator) counterRange(name string, g group, state counterState) (interval, bool) {
	increasing := interval{smallestRate, math.Inf(1)}
	if e.stale {
		increasing.lo = 0
	}
	switch name {
	case "changes":
		if !e.stale {
			increasing.lo = 1
		}
	case "rate", "irate", "increase", "delta", "idelta", "deriv":
	case "resets":
		return point(0), true
	default:
		return interval{}, false
	}
	switch {
	case state == counterUnknown:
		return interval{0, increasing.hi}, true
	case e.down && g.origin == fromJob:
		return point(0), true
	}
	return increasing, true
}

var monotonic = map[string]func(float64) float64{
	"exp":   math.Exp,
	"sqrt":  math.Sqrt,
	"ln":    math.Log,
	"log2":  math.Log2,
	"log10": math.Log10,
	"deg":   func(x float64) float64 { return x * 180 / math.Pi },
	"rad":   func(x float64) float64 { return x * math.Pi / 180 },
}

func sgn(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x
}

func stringArg(n *parser.Call, i int) (string, bool) {
	if i >= len(n.Args) {
		return "", false
	}
	e := n.Args[i]
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	s, ok := e.(*parser.StringLiteral)
	if !ok {
		return "", false
	}
	return s.Val, true
}

// absent returns one element when its argument surely has none, maybe one when it may have
// none, and nothing when it surely has some.
func absent(arg value) value {
	out := value{origin: arg.origin}
	for _, g := range arg.groups {
		if g.present() {
			return out
		}
	}
	g := group{origin: arg.origin, job: jobAny, names: unknownNames, val: point(1), nLo: 1, nHi: 1, src: srcUnknown}
	if len(arg.groups) > 0 {
		g = g.maybeEmpty()
	}
	out.groups = []group{g}
	return out
}

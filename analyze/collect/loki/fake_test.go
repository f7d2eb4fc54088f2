package loki_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLoki3 answers like Loki 3 does, in the response shapes its HTTP API reference documents
// (docs/sources/reference/loki-http-api.md): /labels, /label/<name>/values, /series,
// /query_range for the log and metric query forms the collector sends, /index/volume (a vector
// of bytes per label set) and /index/volume_range (a matrix of them, one point per step, for
// the targetLabels the history asks for). Loki 3 gives every stream a service_name label.
type fakeLoki3 struct {
	t       testing.TB
	streams []fakeStream

	mu       sync.Mutex
	requests []*http.Request
}

type fakeStream struct {
	labels  map[string]string
	entries []fakeEntry // oldest first
}

type fakeEntry struct {
	time time.Time
	line string
}

func newFakeLoki3(t testing.TB, streams ...fakeStream) (*fakeLoki3, *httptest.Server) {
	f := &fakeLoki3{t: t, streams: streams}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// paths are the request paths received, in order.
func (f *fakeLoki3) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.URL.Path)
	}
	return out
}

func (f *fakeLoki3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.mu.Unlock()
	q := r.URL.Query()
	start, end := nanos(q.Get("start")), nanos(q.Get("end"))
	switch {
	case r.URL.Path == "/loki/api/v1/labels":
		names := map[string]bool{}
		for _, s := range f.inWindow(start, end) {
			for n := range s.labels {
				names[n] = true
			}
		}
		success(w, slices.Sorted(maps.Keys(names)))
	case strings.HasPrefix(r.URL.Path, "/loki/api/v1/label/") && strings.HasSuffix(r.URL.Path, "/values"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/loki/api/v1/label/"), "/values")
		values := map[string]bool{}
		for _, s := range f.inWindow(start, end) {
			if v, ok := s.labels[name]; ok {
				values[v] = true
			}
		}
		success(w, slices.Sorted(maps.Keys(values)))
	case r.URL.Path == "/loki/api/v1/series":
		var out []map[string]string
		for _, s := range f.inWindow(start, end) {
			for _, sel := range q["match[]"] {
				if matchSelector(f.t, sel, s.labels) {
					out = append(out, s.labels)
					break
				}
			}
		}
		success(w, out)
	case r.URL.Path == "/loki/api/v1/query_range":
		f.queryRange(w, q.Get("query"), start, end, q)
	case r.URL.Path == "/loki/api/v1/index/volume":
		f.volume(w, q.Get("query"), start, end)
	case r.URL.Path == "/loki/api/v1/index/volume_range":
		step, _ := strconv.ParseFloat(q.Get("step"), 64)
		by := selectorNames(q.Get("query"))
		if t := q.Get("targetLabels"); t != "" {
			by = strings.Split(t, ",")
		}
		f.volumeRange(w, q.Get("query"), by, start, end, time.Duration(step*float64(time.Second)))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeLoki3) inWindow(start, end time.Time) []fakeStream {
	var out []fakeStream
	for _, s := range f.streams {
		if slices.ContainsFunc(s.entries, func(e fakeEntry) bool { return !e.time.Before(start) && e.time.Before(end) }) {
			out = append(out, s)
		}
	}
	return out
}

var (
	metricQuery = regexp.MustCompile(`^sum by \(([\w, ]+)\) \(count_over_time\((\{.*?\})(?: \|~ (".*"))? \[(\d+)s\]\)\)$`)
	logQuery    = regexp.MustCompile(`^(\{.*?\})(?: \|~ (".*"))?$`)
)

func (f *fakeLoki3) queryRange(w http.ResponseWriter, query string, start, end time.Time, q map[string][]string) {
	if m := metricQuery.FindStringSubmatch(query); m != nil {
		by := strings.Split(m[1], ", ")
		filter := lineRegexp(f.t, m[3])
		secs, _ := strconv.Atoi(m[4])
		// Evaluated once, at start (the collector asks for a single point).
		from := start.Add(-time.Duration(secs) * time.Second)
		counts := map[string]int{}
		groups := map[string]map[string]string{}
		for _, s := range f.streams {
			if !matchSelector(f.t, m[2], s.labels) {
				continue
			}
			n := 0
			for _, e := range s.entries {
				if e.time.After(from) && !e.time.After(start) && filter.MatchString(e.line) {
					n++
				}
			}
			if n == 0 {
				continue
			}
			group := map[string]string{}
			for _, l := range by {
				if v, ok := s.labels[l]; ok {
					group[l] = v
				}
			}
			key := fmt.Sprint(group)
			counts[key] += n
			groups[key] = group
		}
		type series struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		result := []series{}
		for _, key := range slices.Sorted(maps.Keys(counts)) {
			ts := float64(start.UnixMilli()) / 1000
			result = append(result, series{Metric: groups[key], Values: [][2]any{{ts, strconv.Itoa(counts[key])}}})
		}
		success(w, map[string]any{"resultType": "matrix", "result": result, "stats": map[string]any{}})
		return
	}
	if m := logQuery.FindStringSubmatch(query); m != nil {
		filter := lineRegexp(f.t, m[2])
		limit := 100
		if l := first(q["limit"]); l != "" {
			limit, _ = strconv.Atoi(l)
		}
		type stream struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		}
		result := []stream{}
		for _, s := range f.streams {
			if !matchSelector(f.t, m[1], s.labels) {
				continue
			}
			out := stream{Stream: s.labels}
			for i := len(s.entries) - 1; i >= 0 && limit > 0; i-- { // backward: newest first
				e := s.entries[i]
				if !e.time.Before(start) && e.time.Before(end) && filter.MatchString(e.line) {
					out.Values = append(out.Values, [2]string{strconv.FormatInt(e.time.UnixNano(), 10), e.line})
					limit--
				}
			}
			if len(out.Values) > 0 {
				result = append(result, out)
			}
		}
		success(w, map[string]any{"resultType": "streams", "result": result, "stats": map[string]any{}})
		return
	}
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "parse error: the fake does not know the query %s\n", query)
}

// volume aggregates bytes into the label names the selector names, as documented.
func (f *fakeLoki3) volume(w http.ResponseWriter, selector string, start, end time.Time) {
	names := selectorNames(selector)
	bytes := map[string]int{}
	groups := map[string]map[string]string{}
	for _, s := range f.inWindow(start, end) {
		if !matchSelector(f.t, selector, s.labels) {
			continue
		}
		group := map[string]string{}
		for _, n := range names {
			group[n] = s.labels[n]
		}
		key := fmt.Sprint(group)
		groups[key] = group
		for _, e := range s.entries {
			bytes[key] += len(e.line)
		}
	}
	type sample struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	result := []sample{}
	for _, key := range slices.Sorted(maps.Keys(bytes)) {
		result = append(result, sample{Metric: groups[key], Value: [2]any{float64(end.Unix()), strconv.Itoa(bytes[key])}})
	}
	success(w, map[string]any{"resultType": "vector", "result": result})
}

// volumeRange sums bytes into the label names by step by step as Loki's query frontend does
// (pkg/querier/queryrange/volume.go): steps aligned to multiples of step, the first from start
// and the last to end, each point stamped with its step's end (a millisecond before the next
// step). Unlike Loki, which shares each chunk's size among the steps its time range covers,
// the fake weighs the lines of each step.
func (f *fakeLoki3) volumeRange(w http.ResponseWriter, selector string, by []string, start, end time.Time, step time.Duration) {
	type series struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	bySet := map[string]*series{}
	first := time.Unix(0, start.UnixNano()-start.UnixNano()%step.Nanoseconds())
	for from := first; from.Before(end); from = from.Add(step) {
		lo, hi := from, from.Add(step)
		if lo.Before(start) {
			lo = start
		}
		if hi.Before(end) {
			hi = hi.Add(-time.Millisecond)
		} else {
			hi = end
		}
		bytes := map[string]int{}
		for _, s := range f.streams {
			if !matchSelector(f.t, selector, s.labels) {
				continue
			}
			n, seen := 0, false
			for _, e := range s.entries {
				if !e.time.Before(lo) && !e.time.After(hi) {
					n, seen = n+len(e.line), true
				}
			}
			if !seen {
				continue
			}
			set := map[string]string{}
			for _, l := range by {
				set[l] = s.labels[l]
			}
			key := fmt.Sprint(set)
			if bySet[key] == nil {
				bySet[key] = &series{Metric: set}
			}
			bytes[key] += n
		}
		for _, key := range slices.Sorted(maps.Keys(bytes)) {
			bySet[key].Values = append(bySet[key].Values, [2]any{float64(hi.UnixMilli()) / 1000, strconv.Itoa(bytes[key])})
		}
	}
	result := []series{}
	for _, key := range slices.Sorted(maps.Keys(bySet)) {
		result = append(result, *bySet[key])
	}
	success(w, map[string]any{"resultType": "matrix", "result": result})
}

func success(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

func nanos(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Unix(0, n)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

var matcherRE = regexp.MustCompile(`(\w+)(=~|=)("(?:[^"\\]|\\.)*")`)

// matchSelector evaluates the selectors the collector writes: = and =~ matchers.
func matchSelector(t testing.TB, sel string, labels map[string]string) bool {
	for _, m := range matcherRE.FindAllStringSubmatch(sel, -1) {
		value, err := strconv.Unquote(m[3])
		if err != nil {
			t.Errorf("selector %s: %v", sel, err)
			return false
		}
		got, ok := labels[m[1]]
		switch m[2] {
		case "=":
			if !ok || got != value {
				return false
			}
		case "=~":
			if !regexp.MustCompile("^(?:" + value + ")$").MatchString(got) {
				return false
			}
		}
	}
	return true
}

func selectorNames(sel string) []string {
	var out []string
	for _, m := range matcherRE.FindAllStringSubmatch(sel, -1) {
		out = append(out, m[1])
	}
	return out
}

func lineRegexp(t testing.TB, quoted string) *regexp.Regexp {
	if quoted == "" {
		return regexp.MustCompile("")
	}
	re, err := strconv.Unquote(quoted)
	if err != nil {
		t.Errorf("line filter %s: %v", quoted, err)
		return regexp.MustCompile("")
	}
	return regexp.MustCompile(re)
}

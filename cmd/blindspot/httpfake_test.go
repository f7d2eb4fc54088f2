package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// A story declares the answers of a fake HTTP server, then starts it, in the manner of pint's
// stories:
//
//	http response [-H 'Name: value']... NAME PATH CODE BODY...
//	http start NAME
//
// PATH is a regular expression matched against the whole request path; BODY is the rest of
// the line, or @FILE for a file of the story. A JSON body is served as application/json, any
// other as text/plain, unless -H says otherwise. A request is answered from the first declared
// PATH that matches; several answers declared for one PATH answer in turn, the last one
// repeating. The history a live audit reads by default is answered as a Prometheus keeping
// 15 days with no history to tell (emptyHistory) when the story declares nothing for it;
// any other path is answered 404. `http start` serves the answers on 127.0.0.1 with
// a free port and sets $NAME_URL (NAME in upper case) to the server's URL; the server stops
// at the end of the story. The output of a command run with `exits` names the server
// $NAME_URL rather than by its port, and writes the times of its own run <now>, so that whole
// outputs compare with `cmp` (stableOutput). A declared answer that was never asked for fails
// the story: it is a fake drifting from what blindspot reads.

const httpFakesKey = "httpfakes"

// httpFakes are the fake servers of one story.
type httpFakes struct {
	mu      sync.Mutex
	servers []*httpFake // in declaration order
}

type httpFake struct {
	name    string
	answers []*httpAnswer
	url     string // set by http start
}

type httpAnswer struct {
	pattern string
	path    *regexp.Regexp
	code    int
	header  http.Header
	body    []byte
	used    int
}

func (f *httpFakes) server(name string) *httpFake {
	for _, s := range f.servers {
		if s.name == name {
			return s
		}
	}
	s := &httpFake{name: name}
	f.servers = append(f.servers, s)
	return s
}

// envName is the variable holding the URL of the started server name.
func (s *httpFake) envName() string { return strings.ToUpper(s.name) + "_URL" }

// unused lists the answers nobody asked for, as "NAME PATH".
func (f *httpFakes) unused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.servers {
		for _, a := range s.answers {
			if a.used == 0 {
				out = append(out, s.name+" "+a.pattern)
			}
		}
	}
	return out
}

// started returns the started servers' variable names and URLs.
func (f *httpFakes) started() (names, urls []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.servers {
		if s.url != "" {
			names, urls = append(names, s.envName()), append(urls, s.url)
		}
	}
	return names, urls
}

// setupHTTPFakes gives a story its fake servers and fails it, once it has run, when one of
// their answers was never asked for.
func setupHTTPFakes(env *testscript.Env) {
	fakes := &httpFakes{}
	env.Values[httpFakesKey] = fakes
	env.Defer(func() {
		if unused := fakes.unused(); len(unused) > 0 {
			env.T().Fatal("declared HTTP answers were never asked for: " + strings.Join(unused, ", "))
		}
	})
}

func storyFakes(ts *testscript.TestScript) *httpFakes { return ts.Value(httpFakesKey).(*httpFakes) }

func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: http response [-H 'Name: value']... NAME PATH CODE BODY... | http start NAME"
	if neg || len(args) == 0 {
		ts.Fatalf(usage)
	}
	fakes := storyFakes(ts)
	switch args[0] {
	case "response":
		args = args[1:]
		header := http.Header{}
		for len(args) >= 2 && args[0] == "-H" {
			k, v, ok := strings.Cut(args[1], ":")
			if !ok {
				ts.Fatalf("http response: header %q is not Name: value", args[1])
			}
			header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			args = args[2:]
		}
		if len(args) < 4 {
			ts.Fatalf(usage)
		}
		path, err := regexp.Compile("^(?:" + args[1] + ")$")
		ts.Check(err)
		code, err := strconv.Atoi(args[2])
		ts.Check(err)
		body := []byte(strings.Join(args[3:], " "))
		if len(args) == 4 && strings.HasPrefix(args[3], "@") {
			body = []byte(ts.ReadFile(args[3][1:]))
		}
		if header.Get("Content-Type") == "" {
			if json.Valid(body) {
				header.Set("Content-Type", "application/json")
			} else {
				header.Set("Content-Type", "text/plain; charset=utf-8")
			}
		}
		fakes.mu.Lock()
		s := fakes.server(args[0])
		s.answers = append(s.answers, &httpAnswer{pattern: args[1], path: path, code: code, header: header, body: body})
		fakes.mu.Unlock()
	case "start":
		if len(args) != 2 {
			ts.Fatalf(usage)
		}
		fakes.mu.Lock()
		s := fakes.server(args[1])
		if s.url != "" {
			fakes.mu.Unlock()
			ts.Fatalf("http start: %s is already started", s.name)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fakes.mu.Lock()
			var a *httpAnswer
			if !isHistoryProbe(r) {
				a = s.answer(r.URL.Path)
			}
			fakes.mu.Unlock()
			if a == nil {
				if !emptyHistory(w, r) {
					http.NotFound(w, r)
				}
				return
			}
			for k, vs := range a.header {
				w.Header()[k] = vs
			}
			w.WriteHeader(a.code)
			w.Write(a.body)
		}))
		s.url = srv.URL
		fakes.mu.Unlock()
		ts.Defer(srv.Close)
		ts.Setenv(s.envName(), srv.URL)
	default:
		ts.Fatalf("http: unknown command %q; %s", args[0], usage)
	}
}

// answer picks the answer to a request for path and counts it (fakes.mu held): the first
// declared path that matches, and of the answers declared for that path the first that has not
// answered yet, else the last.
func (s *httpFake) answer(path string) *httpAnswer {
	i := slices.IndexFunc(s.answers, func(a *httpAnswer) bool { return a.path.MatchString(path) })
	if i < 0 {
		return nil
	}
	var last *httpAnswer
	for _, a := range s.answers[i:] {
		if a.pattern != s.answers[i].pattern {
			continue
		}
		last = a
		if a.used == 0 {
			break
		}
	}
	last.used++
	return last
}

// emptyHistory answers a request of the history a live audit reads (analyze/collect/prometheus
// CollectHistory) as a Prometheus keeping 15 days that has nothing to tell: the retention
// flag, empty range queries and no failing probe. It reports whether r was one.
func emptyHistory(w http.ResponseWriter, r *http.Request) bool {
	var data string
	switch {
	case strings.HasSuffix(r.URL.Path, "/api/v1/status/flags"):
		data = `{"storage.tsdb.retention.time":"15d"}`
	case strings.HasSuffix(r.URL.Path, "/api/v1/query_range"):
		data = `{"resultType":"matrix","result":[]}`
	case isHistoryProbe(r):
		data = `{"resultType":"vector","result":[]}`
	default:
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"success","data":` + data + `}`))
	return true
}

// isHistoryProbe reports whether r is one of the instant queries the history reads (the
// failing probes, the alerts and rule groups now, the last-success gauges), which a story's
// answers to /api/v1/query (written for other queries) do not answer.
func isHistoryProbe(r *http.Request) bool {
	if !strings.HasSuffix(r.URL.Path, "/api/v1/query") || r.ParseForm() != nil {
		return false
	}
	q := r.Form.Get("query")
	return q == "probe_success == 0" || strings.Contains(q, "ALERTS{") ||
		strings.HasPrefix(q, "min by (job, instance, __name__) (")
}

// nameFakes replaces the URLs of the story's started servers in out by $NAME_URL.
func nameFakes(ts *testscript.TestScript, out []byte) []byte {
	names, urls := storyFakes(ts).started()
	if len(names) == 0 {
		return out
	}
	var pairs []string
	for i := range names {
		pairs = append(pairs, urls[i], "$"+names[i])
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(out)))
}

// fakeEnvNames are the variables the started servers set, for commands run with exits.
func fakeEnvNames(ts *testscript.TestScript) []string {
	names, _ := storyFakes(ts).started()
	return slices.Clip(names)
}

// runTimes are the times a command writes for its own run (a live audit's collection time),
// in the text and in the JSON form.
var runTimes = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// stableOutput is the output of a command run with exits as a story compares it: the fake
// servers named $NAME_URL, and the times that fall within the run itself (from started to
// finished) written <now>. Times from elsewhere (a snapshot, a fake's answers) are kept.
func stableOutput(ts *testscript.TestScript, out []byte, started, finished time.Time) []byte {
	out = nameFakes(ts, out)
	from, to := started.Truncate(time.Second), finished.Add(time.Second)
	return runTimes.ReplaceAllFunc(out, func(b []byte) []byte {
		layout := time.RFC3339Nano
		if bytes.HasSuffix(b, []byte(" UTC")) {
			layout = "2006-01-02 15:04:05 UTC"
		}
		t, err := time.Parse(layout, string(b))
		if err != nil || t.Before(from) || t.After(to) {
			return b
		}
		return []byte("<now>")
	})
}

func TestDeclaredAnswers(t *testing.T) {
	declare := func(pattern, body string) *httpAnswer {
		return &httpAnswer{pattern: pattern, path: regexp.MustCompile("^(?:" + pattern + ")$"), body: []byte(body)}
	}
	s := &httpFake{name: "prom", answers: []*httpAnswer{
		declare("/api/v1/query", "first"),
		declare("/api/v1/.*", "any"),
		declare("/api/v1/query", "second"),
	}}
	var got []string
	for _, path := range []string{"/api/v1/query", "/api/v1/query", "/api/v1/query", "/api/v1/rules", "/metrics"} {
		if a := s.answer(path); a != nil {
			got = append(got, string(a.body))
		} else {
			got = append(got, "404")
		}
	}
	// The answers of one path answer in turn, the last repeating; another path is answered by
	// the first pattern that matches it; a path nothing matches is not answered.
	if want := []string{"first", "second", "second", "any", "404"}; !slices.Equal(got, want) {
		t.Errorf("answers %q, want %q", got, want)
	}
}

package links_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/links"
)

// requests counts the requests a test server received, per method and path.
type requests struct {
	mu  sync.Mutex
	got map[string]int
}

func (r *requests) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string]int{}
	}
	r.got[req.Method+" "+req.URL.Path]++
}

func (r *requests) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[key]
}

// wiki answers as a wiki with a few pages: /ok, a /gone page, a /boom error, a redirect
// chain /moved → /moved-again → /gone, and /get-only whose server refuses HEAD.
func wiki(t *testing.T, seen *requests) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add(r)
		switch r.URL.Path {
		case "/ok", "/runbooks/Relative.md":
			fmt.Fprintln(w, "# runbook")
		case "/boom":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "/moved-again", http.StatusFound)
		case "/moved-again":
			http.Redirect(w, r, "/gone", http.StatusMovedPermanently)
		case "/get-only":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			fmt.Fprintln(w, "# runbook")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// refusedURL is the address of a port that was listened on and closed: connecting is refused.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/runbook"
}

func byLink(got []analyze.RunbookLink) map[string]analyze.RunbookLink {
	out := map[string]analyze.RunbookLink{}
	for _, l := range got {
		out[l.Link] = l
	}
	return out
}

func TestEachLinkSaysWhatItAnswered(t *testing.T) {
	seen := &requests{}
	w := wiki(t, seen)
	refused := refusedURL(t)
	got := byLink(links.Check(context.Background(), []string{
		w.URL + "/ok", w.URL + "/gone", w.URL + "/boom", w.URL + "/moved", w.URL + "/get-only",
		refused, "http://nowhere.invalid/runbook",
		"runbooks/Relative.md", "https://wiki.example/{{ $labels.job }}", "javascript:alert(1)",
	}, links.Options{}))

	for _, tc := range []struct {
		link   string
		status int
		broken bool
	}{
		{w.URL + "/ok", 200, false},
		{w.URL + "/gone", 404, true},
		{w.URL + "/boom", 500, true},
		{w.URL + "/moved", 404, true},
		{w.URL + "/get-only", 200, false},
	} {
		l, ok := got[tc.link]
		if !ok {
			t.Errorf("%s: not checked", tc.link)
			continue
		}
		if l.Status != tc.status || l.Err != "" || l.Broken() != tc.broken || l.URL != tc.link {
			t.Errorf("%s: %+v, want status %d, broken %v", tc.link, l, tc.status, tc.broken)
		}
	}
	if l := got[refused]; l.Err != "connection refused" || !l.Broken() {
		t.Errorf("a closed port: %+v, want connection refused", l)
	}
	if l := got["http://nowhere.invalid/runbook"]; !strings.HasPrefix(l.Err, "the host name nowhere.invalid ") || !l.Broken() {
		t.Errorf("a name that does not resolve: %+v", l)
	}
	if l := got["runbooks/Relative.md"]; l.Skipped != links.SkippedRelative || l.URL != "" || l.Broken() {
		t.Errorf("a relative link without a base URL: %+v, want skipped", l)
	}
	if l := got[analyze.RunbookLinkKey("https://wiki.example/{{ $labels.job }}")]; l.Skipped != links.SkippedTemplated || l.Broken() {
		t.Errorf("a templated link: %+v, want skipped", l)
	}
	if _, ok := got["javascript:alert(1)"]; ok {
		t.Errorf("a javascript: link was checked")
	}
	if len(got) != 9 {
		t.Errorf("%d links, want 9: %+v", len(got), got)
	}
	if n := seen.count("GET /get-only"); n != 1 {
		t.Errorf("GET /get-only: %d requests, want 1 after HEAD was refused", n)
	}
	if n := seen.count("GET /ok"); n != 0 {
		t.Errorf("GET /ok: %d requests, want none: HEAD answered", n)
	}
}

func TestRelativeLinksResolveAgainstTheBaseURL(t *testing.T) {
	seen := &requests{}
	w := wiki(t, seen)
	got := links.Check(context.Background(), []string{"runbooks/Relative.md", "/runbooks/Missing.md"}, links.Options{BaseURL: w.URL + "/"})
	want := []analyze.RunbookLink{
		{Link: "/runbooks/Missing.md", URL: w.URL + "/runbooks/Missing.md", Status: 404},
		{Link: "runbooks/Relative.md", URL: w.URL + "/runbooks/Relative.md", Status: 200},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("links:\n%+v\nwant:\n%+v", got, want)
	}
}

func TestEachDistinctLinkIsFetchedOnce(t *testing.T) {
	seen := &requests{}
	w := wiki(t, seen)
	got := links.Check(context.Background(), []string{w.URL + "/gone", w.URL + "/gone", " " + w.URL + "/gone ", w.URL + "/ok", w.URL + "/ok"}, links.Options{})
	if len(got) != 2 {
		t.Errorf("%d links, want 2: %+v", len(got), got)
	}
	if n, m := seen.count("HEAD /gone"), seen.count("HEAD /ok"); n != 1 || m != 1 {
		t.Errorf("HEAD /gone %d times, HEAD /ok %d times, want once each", n, m)
	}
}

func TestNoMoreLinksAreFetchedAtOnceThanTheConcurrency(t *testing.T) {
	const limit, total = 3, 20
	var (
		mu                sync.Mutex
		inFlight, maxSeen int
		full              = make(chan struct{})
		once              sync.Once
	)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		if inFlight == limit {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		// The first requests wait until the bound is reached, so that it is reached.
		select {
		case <-full:
		case <-r.Context().Done():
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	defer s.Close()
	var ls []string
	for i := range total {
		ls = append(ls, fmt.Sprintf("%s/page-%d", s.URL, i))
	}
	got := links.Check(context.Background(), ls, links.Options{Concurrency: limit})
	for _, l := range got {
		if l.Status != 200 {
			t.Errorf("%+v, want 200", l)
		}
	}
	if len(got) != total || maxSeen != limit {
		t.Errorf("%d links with at most %d in flight, want %d with %d", len(got), maxSeen, total, limit)
	}
}

func TestCredentialsInALinkAreNeverKept(t *testing.T) {
	seen := &requests{}
	w := wiki(t, seen)
	link := strings.Replace(w.URL, "http://", "http://alice:s3cr3t@", 1) + "/gone?token=t0k3n&page=2"
	got := links.Check(context.Background(), []string{link, "http://bob:hunter2@nowhere.invalid/x?api_key=k3y"}, links.Options{})
	for _, l := range got {
		text := fmt.Sprintf("%+v", l)
		for _, secret := range []string{"s3cr3t", "t0k3n", "hunter2", "k3y", "alice", "bob"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds %q", text, secret)
			}
		}
	}
	if l := byLink(got)[w.URL+"/gone?token=xxxxx&page=2"]; l.Status != 404 {
		t.Errorf("the link is not keyed redacted, or was not fetched: %+v", got)
	}
}

func TestTheRunbookLinksOfTheAlertingRulesAreRecorded(t *testing.T) {
	seen := &requests{}
	w := wiki(t, seen)
	b := analyze.NewBuilder(time.Time{})
	b.AddPart(analyze.PartRules)
	b.AddRuleGroup(analyze.RuleGroup{Name: "g", Language: "promql", Rules: []analyze.Rule{
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "A", Expr: "up == 0", Annotations: map[string]string{"playbook": w.URL + "/gone"}}),
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: "B", Expr: "up == 0", Annotations: map[string]string{"runbook_url": w.URL + "/ok"}}),
		analyze.NewRule(analyze.Rule{Kind: analyze.RuleRecording, Name: "r", Expr: "up", Annotations: map[string]string{"playbook": w.URL + "/boom"}}),
	}})
	inv := b.Build()
	links.Collect(context.Background(), inv, links.Options{Annotation: "playbook"})
	if !inv.Has(analyze.PartRunbookLinks) {
		t.Fatal("no runbook links part")
	}
	if l, ok := inv.RunbookLink(w.URL + "/gone"); !ok || l.Status != 404 || len(inv.RunbookLinks) != 1 {
		t.Errorf("links = %+v, want the playbook of the alert only", inv.RunbookLinks)
	}

	noRules := analyze.NewBuilder(time.Time{}).Build()
	links.Collect(context.Background(), noRules, links.Options{})
	if noRules.Has(analyze.PartRunbookLinks) {
		t.Error("an inventory without rules holds the runbook links part")
	}
}

func TestACheckerFetchesEachLinkOnceAcrossInventories(t *testing.T) {
	seen := &requests{}
	w := wiki(t, seen)
	inventory := func(links ...string) *analyze.Inventory {
		b := analyze.NewBuilder(time.Time{})
		b.AddPart(analyze.PartRules)
		g := analyze.RuleGroup{Name: "g", Language: "promql"}
		for i, l := range links {
			g.Rules = append(g.Rules, analyze.NewRule(analyze.Rule{Kind: analyze.RuleAlerting, Name: fmt.Sprint("A", i), Expr: "up == 0",
				Annotations: map[string]string{"runbook_url": l}}))
		}
		b.AddRuleGroup(g)
		return b.Build()
	}
	a, b := inventory(w.URL+"/gone", w.URL+"/ok"), inventory(w.URL+"/gone", w.URL+"/boom", "runbooks/x.md")
	c := links.NewChecker(links.Options{})
	var wg sync.WaitGroup
	for _, inv := range []*analyze.Inventory{a, b, a} {
		wg.Go(func() { c.Collect(context.Background(), inv) })
	}
	wg.Wait()
	for path, n := range map[string]int{"HEAD /gone": 1, "HEAD /ok": 1, "HEAD /boom": 1} {
		if got := seen.count(path); got != n {
			t.Errorf("%s: %d requests, want %d", path, got, n)
		}
	}
	if len(a.RunbookLinks) != 2 || len(b.RunbookLinks) != 3 {
		t.Errorf("links of a %+v, of b %+v", a.RunbookLinks, b.RunbookLinks)
	}
	if l, ok := b.RunbookLink(w.URL + "/gone"); !ok || l.Status != 404 {
		t.Errorf("b's /gone: %+v", l)
	}
	if got := c.Links(); len(got) != 4 {
		t.Errorf("the checker's links %+v, want the four distinct ones", got)
	}
}

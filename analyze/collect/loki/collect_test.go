package loki_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/internal/servers"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Fake secrets, from the positive samples of rulesets/secrets.yaml. secretParts are
// substrings of them that no output may contain: masked examples keep only what names the
// kind of secret (the AKIA and ghp_ prefixes, the key name).
const (
	passwordLine = "login user=alice password=hunter2-very-secret"
	awsLine      = "uploading report.csv with AKIAZ7FAKE2KEY3ABCDE to s3://reports"
	githubLine   = "cloning with token ghp_FAKEu8jzPde0IgxLd6GncfBAepfJBd0Kh8oO"
)

var secretParts = []string{"hunter2", "very-secret", "Z7FAKE2KEY3ABCDE", "FAKEu8jzPde0IgxLd6GncfBAepfJBd0Kh8oO", "GncfBAepf"}

func patterns(t testing.TB) []rulesets.SecretPattern {
	t.Helper()
	p, err := rulesets.SecretPatterns()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// debugLogger writes everything, debug included, to buf.
func debugLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// countingProxy forwards to target and records the paths asked for.
type countingProxy struct {
	URL   string
	mu    sync.Mutex
	paths []string
}

func newCountingProxy(t testing.TB, target string) *countingProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.URL.Path)
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *countingProxy) count() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, path := range p.paths {
		out[strings.TrimPrefix(path, "/loki/api/v1/")]++
	}
	return out
}

// assertNoSecret fails if any secret part appears in what.
func assertNoSecret(t *testing.T, where string, what []byte) {
	t.Helper()
	for _, s := range secretParts {
		if bytes.Contains(what, []byte(s)) {
			t.Errorf("%s holds the secret %q", where, s)
		}
	}
}

func TestCollectAgainstLoki1(t *testing.T) {
	t.Parallel()
	l := servers.StartLoki(t, servers.Find(t).Loki)
	now := time.Now()
	at := func(ago int, line string) servers.LogEntry {
		return servers.LogEntry{Time: now.Add(-time.Duration(ago) * time.Second), Line: line}
	}
	api := map[string]string{"job": "api", "env": "prod"}
	l.Push(t,
		servers.LogStream{Labels: api, Entries: []servers.LogEntry{
			at(60, "GET /orders 200"),
			at(55, "password reset mail sent to alice"), // a keyword, but no secret
			at(50, passwordLine),
			at(45, "GET /orders 200"),
			at(40, passwordLine),
			at(35, awsLine),
			at(30, githubLine),
			at(25, "GET /orders 500"),
		}},
		servers.LogStream{Labels: map[string]string{"job": "worker"}, Entries: []servers.LogEntry{
			at(50, "job started"), at(20, "job done"),
		}},
		// No job label: the streams need two covering selectors, {job=~".+"} and {app=~".+"}.
		servers.LogStream{Labels: map[string]string{"app": "legacy"}, Entries: []servers.LogEntry{
			at(10, "legacy heartbeat"),
		}},
	)
	proxy := newCountingProxy(t, l.URL)
	var logs bytes.Buffer
	b := analyze.NewBuilder(now)
	src := loki.Collect(context.Background(), newClient(t, proxy.URL), loki.Options{End: now.Add(time.Second)}, patterns(t),
		b, analyze.Source{Name: "loki", Kind: "live", URL: proxy.URL}, debugLogger(&logs))
	inv := b.Build()

	t.Run("Both parts are read without error.", func(t *testing.T) {
		if !src.OK() || len(src.Notes) != 0 {
			t.Errorf("source %+v", src)
		}
		if !inv.Has(analyze.PartLogStreams) || !inv.Has(analyze.PartLogSecrets) {
			t.Errorf("parts %v", inv.Parts)
		}
		if inv.Logs.Window != loki.DefaultWindow {
			t.Errorf("window %s", inv.Logs.Window)
		}
	})

	t.Run("Every stream of the window is listed with its exact selector and line count.", func(t *testing.T) {
		var got []string
		for _, s := range inv.Logs.Streams {
			got = append(got, s.Selector+" "+strconv.FormatInt(s.Entries, 10))
		}
		want := []string{`{app="legacy"} 1`, `{env="prod", job="api"} 8`, `{job="worker"} 2`}
		if !slices.Equal(got, want) {
			t.Errorf("streams %q, want %q", got, want)
		}
	})

	t.Run("Each secret pattern found is a hit with the exact count and a masked example.", func(t *testing.T) {
		hits := inv.Logs.Secrets
		if len(hits) != 3 {
			t.Fatalf("hits %+v, want one per pattern (password, AWS key, GitHub token)", hits)
		}
		var counts []int64
		for _, h := range hits {
			if h.Stream != `{env="prod", job="api"}` || h.Labels["job"] != "api" || h.Example == "" || !strings.Contains(h.Example, "*") {
				t.Errorf("hit %+v", h)
			}
			counts = append(counts, h.Count)
		}
		// Every keyword line was sampled (8 < limit), so each count is exact: the password
		// reset line is not counted.
		slices.Sort(counts)
		if want := []int64{1, 1, 2}; !slices.Equal(counts, want) {
			t.Errorf("counts %v, want %v", counts, want)
		}
	})

	t.Run("The queries are a fixed few plus one sample per stream with hits.", func(t *testing.T) {
		got := proxy.count()
		// labels, one series request, two metric queries per covering selector (2), and one
		// sample of the api stream.
		want := map[string]int{"labels": 1, "series": 1, "query_range": 2*2 + 1}
		if len(got) != len(want) || got["labels"] != 1 || got["series"] != 1 || got["query_range"] != want["query_range"] {
			t.Errorf("requests %v, want %v", got, want)
		}
	})

	t.Run("No secret reaches the inventory, the debug log or a snapshot.", func(t *testing.T) {
		data, err := json.Marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, "the inventory", data)
		assertNoSecret(t, "the debug log", logs.Bytes())
		if !strings.Contains(logs.String(), "loki sample query") {
			t.Errorf("the debug log does not show the queries:\n%s", logs.String())
		}

		dir := t.TempDir()
		res := &loki.Result{Logs: inv.Logs, Parts: inv.Parts}
		err = snapshot.Write(dir, snapshot.Manifest{Sources: []snapshot.Source{{Name: "loki", Kind: snapshot.KindLoki, URL: proxy.URL, Loki: res}}})
		if err != nil {
			t.Fatal(err)
		}
		err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			assertNoSecret(t, path, data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestCollectLokiDown(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	b := analyze.NewBuilder(time.Now())
	url := "http://" + servers.FreeAddress(t) // nothing listens there
	src := loki.Collect(context.Background(), newClient(t, url), loki.Options{}, patterns(t), b,
		analyze.Source{Name: "loki", Kind: "live", URL: url}, debugLogger(&logs))
	inv := b.Build()

	if len(inv.Parts) != 0 || len(inv.Sources) != 1 || inv.Sources[0].Name != "loki" {
		t.Errorf("parts %v, sources %+v", inv.Parts, inv.Sources)
	}
	var parts []analyze.Part
	for _, e := range src.Errors {
		parts = append(parts, e.Part)
		if !strings.Contains(e.Err, "connection refused") || !strings.Contains(e.Err, "/loki/api/v1/labels") || strings.Contains(e.Err, "\n") {
			t.Errorf("error %q", e.Err)
		}
	}
	if !slices.Equal(parts, []analyze.Part{analyze.PartLogStreams, analyze.PartLogSecrets}) {
		t.Errorf("errors on %v, want both Loki parts", parts)
	}
}

// loki3Streams are streams as Loki 3 labels them: service_name on every stream.
func loki3Streams(now time.Time) []fakeStream {
	at := func(ago int) time.Time { return now.Add(-time.Duration(ago) * time.Second) }
	return []fakeStream{
		{labels: map[string]string{"service_name": "api", "namespace": "prod"}, entries: []fakeEntry{
			{at(60), "GET /orders 200"}, {at(50), awsLine}, {at(40), awsLine}, {at(30), awsLine}, {at(20), awsLine}, {at(10), awsLine},
		}},
		{labels: map[string]string{"service_name": "billing", "namespace": "prod"}, entries: []fakeEntry{
			{at(50), passwordLine},
		}},
		{labels: map[string]string{"service_name": "checkout", "namespace": "prod"}, entries: []fakeEntry{
			{at(50), githubLine}, {at(40), passwordLine},
		}},
		{labels: map[string]string{"service_name": "worker", "namespace": "prod"}, entries: []fakeEntry{
			{at(50), "job done"},
		}},
	}
}

func TestCollectAgainstLoki3Shapes(t *testing.T) {
	t.Parallel()
	now := time.Now()

	t.Run("Streams labelled by service_name are covered by one selector and scanned.", func(t *testing.T) {
		t.Parallel()
		fake, srv := newFakeLoki3(t, loki3Streams(now)...)
		b := analyze.NewBuilder(now)
		src := loki.Collect(context.Background(), newClient(t, srv.URL), loki.Options{End: now}, patterns(t), b,
			analyze.Source{Name: "loki", Kind: "live", URL: srv.URL}, nil)
		inv := b.Build()
		if !src.OK() || !inv.Has(analyze.PartLogSecrets) {
			t.Fatalf("source %+v, parts %v", src, inv.Parts)
		}
		if len(inv.Logs.Streams) != 4 || inv.Logs.Streams[0].Selector != `{namespace="prod", service_name="api"}` || inv.Logs.Streams[0].Entries != 6 {
			t.Errorf("streams %+v", inv.Logs.Streams)
		}
		var streams []string
		for _, h := range inv.Logs.Secrets {
			streams = append(streams, h.Stream)
		}
		streams = slices.Compact(streams)
		if want := []string{`{namespace="prod", service_name="api"}`, `{namespace="prod", service_name="billing"}`, `{namespace="prod", service_name="checkout"}`}; !slices.Equal(streams, want) {
			t.Errorf("streams with hits %q, want %q", streams, want)
		}
		// labels, series, a count and a keyword query on {namespace=~".+"} (the first of the
		// labels every stream carries), and three samples. The volume endpoint is not needed.
		paths := fake.paths()
		if n := len(paths); n != 2+2+3 || slices.Contains(paths, "/loki/api/v1/index/volume") {
			t.Errorf("requests %q", paths)
		}
	})

	t.Run("A sample smaller than the keyword lines with a single pattern counts them all.", func(t *testing.T) {
		t.Parallel()
		_, srv := newFakeLoki3(t, loki3Streams(now)...)
		b := analyze.NewBuilder(now)
		loki.Collect(context.Background(), newClient(t, srv.URL), loki.Options{End: now, Limit: 2}, patterns(t), b,
			analyze.Source{Name: "loki", Kind: "live", URL: srv.URL}, nil)
		for _, h := range b.Build().Logs.Secrets {
			if h.Stream == `{namespace="prod", service_name="api"}` && h.Count != 5 {
				t.Errorf("hit %+v: count %d, want the 5 keyword lines", h, h.Count)
			}
		}
	})

	t.Run("At most MaxQueries streams are sampled, those with the most hits, and a note says so.", func(t *testing.T) {
		t.Parallel()
		fake, srv := newFakeLoki3(t, loki3Streams(now)...)
		b := analyze.NewBuilder(now)
		var progress []string
		var mu sync.Mutex
		o := loki.Options{End: now, MaxQueries: 2, Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, fmt.Sprintf("%d/%d", done, total))
		}}
		src := loki.Collect(context.Background(), newClient(t, srv.URL), o, patterns(t), b,
			analyze.Source{Name: "loki", Kind: "live", URL: srv.URL}, nil)
		if want := []string{"1/2", "2/2"}; !slices.Equal(progress, want) {
			t.Errorf("progress %q, want %q", progress, want)
		}
		var sampled []string
		for _, h := range b.Build().Logs.Secrets {
			sampled = append(sampled, h.Stream)
		}
		sampled = slices.Compact(sampled)
		// api has 5 hits, checkout 2, billing 1.
		if want := []string{`{namespace="prod", service_name="api"}`, `{namespace="prod", service_name="checkout"}`}; !slices.Equal(sampled, want) {
			t.Errorf("sampled %q, want %q", sampled, want)
		}
		if len(fake.paths()) != 2+2+2 || len(src.Notes) != 1 || !strings.Contains(src.Notes[0], "3 streams have lines with secret keywords; the 2 with the most were sampled") {
			t.Errorf("requests %q, notes %q", fake.paths(), src.Notes)
		}
	})

	t.Run("A Loki refusing the keyword query keeps the streams and fails the secret part.", func(t *testing.T) {
		t.Parallel()
		fake, _ := newFakeLoki3(t, loki3Streams(now)...)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Query().Get("query"), "|~") {
				http.Error(w, "max entries limit per query exceeded", http.StatusBadRequest)
				return
			}
			fake.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		b := analyze.NewBuilder(now)
		src := loki.Collect(context.Background(), newClient(t, srv.URL), loki.Options{End: now}, patterns(t), b,
			analyze.Source{Name: "loki", Kind: "live", URL: srv.URL}, nil)
		inv := b.Build()
		if !inv.Has(analyze.PartLogStreams) || inv.Has(analyze.PartLogSecrets) || len(inv.Logs.Streams) != 4 {
			t.Errorf("parts %v, %d streams", inv.Parts, len(inv.Logs.Streams))
		}
		want := "counting lines with secret keywords: /loki/api/v1/query_range: HTTP 400: max entries limit per query exceeded"
		if len(src.Errors) != 1 || src.Errors[0].Part != analyze.PartLogSecrets || src.Errors[0].Err != want {
			t.Errorf("errors %+v, want %q", src.Errors, want)
		}
	})
}

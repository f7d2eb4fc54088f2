package grafana_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze/collect/grafana"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/fakegrafana"
)

const (
	token = "glsa_test_token"
)

func TestRead(t *testing.T) {
	t.Run("Every dashboard is listed page by page with the token and fetched once by uid.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		res := grafana.Read(context.Background(), c, grafana.Options{PageSize: 3, Concurrency: 2}, slog.New(slog.DiscardHandler))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		files := fakegrafana.CorpusFiles(t)
		if len(res.Dashboards) != len(files) {
			t.Fatalf("read %d dashboards, the fake holds %d", len(res.Dashboards), len(files))
		}
		searches := fake.RequestsTo(http.MethodGet, "/api/search")
		// 7 dashboards in pages of 3: 3, 3, 1 (a short page ends the listing).
		wantPages := (len(files) + 2) / 3
		if len(searches) != wantPages {
			t.Fatalf("%d search requests, want %d", len(searches), wantPages)
		}
		for i, r := range searches {
			if got := r.Query.Encode(); got != "limit=3&page="+string(rune('1'+i))+"&type=dash-db" {
				t.Errorf("search %d query %q", i+1, got)
			}
		}
		for _, r := range fake.Requests() {
			if r.Authorization != "Bearer "+token {
				t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, r.Authorization)
			}
		}
		gets := fake.RequestsTo(http.MethodGet, "/api/dashboards/uid/*")
		var uids []string
		for _, r := range gets {
			uids = append(uids, strings.TrimPrefix(r.Path, "/api/dashboards/uid/"))
		}
		slices.Sort(uids)
		var readUIDs []string
		for _, d := range res.Dashboards {
			readUIDs = append(readUIDs, d.UID)
		}
		if !slices.Equal(uids, readUIDs) || !slices.IsSorted(readUIDs) {
			t.Errorf("fetched %v, read %v", uids, readUIDs)
		}
	})

	t.Run("At most Concurrency dashboards are fetched at once.", func(t *testing.T) {
		fake, _ := fakegrafana.ServeCorpus(t, token)
		var mu sync.Mutex
		inFlight, most := 0, 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/dashboards/uid/") {
				mu.Lock()
				inFlight++
				most = max(most, inFlight)
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
				// Counted out before answering: once the answer is written the client may
				// send its next request before a deferred decrement would run.
				mu.Lock()
				inFlight--
				mu.Unlock()
			}
			fake.ServeHTTP(w, r)
		}))
		defer srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token, MaxInFlight: 10})
		res := grafana.Read(context.Background(), c, grafana.Options{Concurrency: 2}, slog.New(slog.DiscardHandler))
		if res.Err != nil || len(res.Dashboards) != len(fakegrafana.CorpusFiles(t)) {
			t.Fatalf("err %v, %d dashboards", res.Err, len(res.Dashboards))
		}
		if most != 2 {
			t.Errorf("at most %d fetches in flight, want 2", most)
		}
	})

	t.Run("Progress counts the fetched dashboards up to the number listed, one call at a time.", func(t *testing.T) {
		fake, _ := fakegrafana.ServeCorpus(t, token)
		srv := httptest.NewServer(fake)
		defer srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		var calls [][2]int
		busy := false
		progress := func(done, total int) {
			if busy {
				t.Error("overlapping progress calls")
			}
			busy = true
			calls = append(calls, [2]int{done, total})
			busy = false
		}
		res := grafana.Read(context.Background(), c, grafana.Options{Concurrency: 3, Progress: progress}, slog.New(slog.DiscardHandler))
		n := len(fakegrafana.CorpusFiles(t))
		if res.Err != nil || len(calls) != n {
			t.Fatalf("err %v, %d progress calls for %d dashboards", res.Err, len(calls), n)
		}
		for i, c := range calls {
			if c != [2]int{i + 1, n} {
				t.Errorf("call %d = %v, want [%d %d]", i, c, i+1, n)
			}
		}
	})

	t.Run("A full last page is followed by one more request that comes back empty.", func(t *testing.T) {
		fake, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		n := len(fakegrafana.CorpusFiles(t))
		res := grafana.Read(context.Background(), c, grafana.Options{PageSize: n}, slog.New(slog.DiscardHandler))
		if res.Err != nil || len(res.Dashboards) != n {
			t.Fatalf("err %v, %d dashboards", res.Err, len(res.Dashboards))
		}
		if got := len(fake.RequestsTo(http.MethodGet, "/api/search")); got != 2 {
			t.Errorf("%d search requests, want 2", got)
		}
	})

	t.Run("A server that ignores the page parameter is not paged through forever.", func(t *testing.T) {
		fake, _ := fakegrafana.ServeCorpus(t, token)
		requests := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/search" {
				requests++
				q := r.URL.Query()
				q.Del("page")
				r.URL.RawQuery = q.Encode()
			}
			fake.ServeHTTP(w, r)
		}))
		defer srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		res := grafana.Read(context.Background(), c, grafana.Options{PageSize: 2}, slog.New(slog.DiscardHandler))
		if res.Err != nil || len(res.Dashboards) != 2 || requests != 2 {
			t.Errorf("err %v, %d dashboards, %d search requests", res.Err, len(res.Dashboards), requests)
		}
	})

	t.Run("Folders, URLs and the PromQL of panels, rows and variables come through.", func(t *testing.T) {
		_, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL + "/", BearerToken: token})
		res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		byUID := map[string]grafana.Dashboard{}
		for _, d := range res.Dashboards {
			byUID[d.UID] = d
		}
		k8s := byUID["k8s_views_nodes"]
		if k8s.FolderTitle != "Kubernetes" || k8s.FolderUID != "k8s" || k8s.Version != 40 {
			t.Errorf("k8s_views_nodes: folder %q/%q version %d", k8s.FolderUID, k8s.FolderTitle, k8s.Version)
		}
		node := byUID["rYdddlPWk"]
		if node.URL != srv.URL+"/d/rYdddlPWk/node-exporter-full" || node.FolderTitle != "" || !slices.Equal(node.Tags, []string{"linux"}) {
			t.Errorf("node exporter full: url %q folder %q tags %v", node.URL, node.FolderTitle, node.Tags)
		}
		parsed, _, err := grafana.Parse(res.Dashboards)
		if err != nil {
			t.Fatal(err)
		}
		metrics := map[string]map[string]bool{}
		for _, d := range parsed {
			metrics[d.UID] = map[string]bool{}
			for _, q := range d.Queries {
				if q.Parsed == nil {
					continue
				}
				for _, sel := range parser.ExtractSelectors(q.Parsed) {
					for _, m := range sel {
						if m.Name == "__name__" {
							metrics[d.UID][m.Value] = true
						}
					}
				}
			}
		}
		for uid, metric := range map[string]string{
			"rYdddlPWk":                        "node_cpu_seconds_total",
			"k8s_system_apisrv":                "apiserver_request_total",
			"af36c91291a603f1d9fbdabdd127ac4a": "http_requests_total", // rows of the old format
			"node-exporter-full-old":           "node_load1",          // no uid in the file: the fake gave one
		} {
			if !metrics[uid][metric] {
				t.Errorf("%s: no query reads %s (reads %d metrics)", uid, metric, len(metrics[uid]))
			}
		}
		for _, d := range parsed {
			if !strings.HasPrefix(d.File, srv.URL+"/d/"+d.UID+"/") {
				t.Errorf("dashboard %s is named %q, want its URL", d.UID, d.File)
			}
		}
	})

	t.Run("Basic auth is sent when configured instead of a token.", func(t *testing.T) {
		fake := fakegrafana.New()
		fake.User, fake.Password = "auditor", "s3cret"
		srv := fake.Start()
		defer srv.Close()
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte("s3cret\n"), 0o600)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BasicAuth: httpconfig.BasicAuth{Username: "auditor", PasswordFile: pw}})
		res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("auditor:s3cret"))
		if got := fake.Requests()[0].Authorization; got != want {
			t.Errorf("Authorization %q, want %q", got, want)
		}
	})

	t.Run("A refused token is an error naming the status and Grafana's message.", func(t *testing.T) {
		_, srv := fakegrafana.ServeCorpus(t, token)
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: "wrong"})
		res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
		if res.Err == nil || res.Err.Error() != "listing dashboards: HTTP 401: Unauthorized" {
			t.Fatalf("err %v", res.Err)
		}
		if len(res.Dashboards) != 0 {
			t.Errorf("read %d dashboards", len(res.Dashboards))
		}
	})

	t.Run("A dashboard that cannot be fetched makes the read fail, one that is gone is a note.", func(t *testing.T) {
		fake, _ := fakegrafana.ServeCorpus(t, token)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/api/dashboards/uid/rYdddlPWk":
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"message":"Dashboard not found"}`))
			case "/api/dashboards/uid/k8s_views_global":
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"message":"Access denied to this dashboard"}`))
			default:
				fake.ServeHTTP(w, r)
			}
		})
		srv := httptest.NewServer(h)
		defer srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL, BearerToken: token})
		res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
		if res.Err == nil || res.Err.Error() != "reading dashboard k8s_views_global: HTTP 403: Access denied to this dashboard" {
			t.Errorf("err %v", res.Err)
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "rYdddlPWk") {
			t.Errorf("notes %q", res.Notes)
		}
		if got, want := len(res.Dashboards), len(fakegrafana.CorpusFiles(t))-2; got != want {
			t.Errorf("%d dashboards read, want %d", got, want)
		}
	})

	t.Run("A Grafana that is down is an error, not a panic.", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: url})
		res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
		if res.Err == nil || !strings.Contains(res.Err.Error(), "connection refused") {
			t.Errorf("err %v", res.Err)
		}
	})

	t.Run("An answer that is not Grafana's JSON is one line with its status and start.", func(t *testing.T) {
		for _, tc := range []struct {
			status      int
			contentType string
			body        string
			want        string
		}{
			{401, "text/html", "<html>401 Authorization Required</html>", "listing dashboards: HTTP 401: <html>401 Authorization Required</html>"},
			{200, "text/html; charset=utf-8", "<html>\n  login\n</html>", "listing dashboards: HTTP 200: the answer is text/html, not JSON: is this Grafana's address? (<html> login </html>)"},
			{200, "application/json", "[{", "listing dashboards: invalid JSON: unexpected EOF"},
			{200, "application/json", `{"message":"not a list"}`, "listing dashboards: invalid JSON: json: cannot unmarshal object into Go value of type models.HitList"},
		} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL})
			res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
			srv.Close()
			if res.Err == nil || res.Err.Error() != tc.want {
				t.Errorf("%d %s: err %v\nwant %s", tc.status, tc.contentType, res.Err, tc.want)
			}
		}
	})

	t.Run("A Grafana served under a sub path is asked under it.", func(t *testing.T) {
		fake, _ := fakegrafana.ServeCorpus(t, token)
		mux := http.NewServeMux()
		mux.Handle("/grafana/", http.StripPrefix("/grafana", fake))
		srv := httptest.NewServer(mux)
		defer srv.Close()
		c := fakegrafana.Client(t, httpconfig.Options{URL: srv.URL + "/grafana", BearerToken: token})
		res := grafana.Read(context.Background(), c, grafana.Options{}, slog.New(slog.DiscardHandler))
		if res.Err != nil || len(res.Dashboards) != len(fakegrafana.CorpusFiles(t)) {
			t.Fatalf("err %v, %d dashboards", res.Err, len(res.Dashboards))
		}
	})
}

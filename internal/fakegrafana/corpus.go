package fakegrafana

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/grafana"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/internal/testcorpus"
)

// CorpusFiles returns the plain dashboard JSON files of the corpus (internal/testcorpus); the
// test is skipped when the corpus is absent.
func CorpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testcorpus.Dir(t, "dashboards"), "*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("corpus dashboards: %v (%d files)", err, len(files))
	}
	return files
}

// ServeCorpus serves the corpus dashboards, the Kubernetes ones (k8s-*.json) in the folder
// "Kubernetes" (uid k8s) and the rest in General, to the service account token, until the test
// ends.
func ServeCorpus(t testing.TB, token string) (*Server, *httptest.Server) {
	t.Helper()
	fake := New()
	fake.Token = token
	fake.AddFolder("k8s", "Kubernetes")
	for _, f := range CorpusFiles(t) {
		folder := ""
		if strings.HasPrefix(filepath.Base(f), "k8s-") {
			folder = "k8s"
		}
		if err := fake.AddDashboardFiles(folder, f); err != nil {
			t.Fatal(err)
		}
	}
	srv := fake.Start()
	t.Cleanup(srv.Close)
	return fake, srv
}

// RequestsTo returns the requests received so far with method on path; a path ending in "*"
// matches every path it starts.
func (s *Server) RequestsTo(method, path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == method && (r.Path == path || strings.HasSuffix(path, "*") && strings.HasPrefix(r.Path, strings.TrimSuffix(path, "*"))) {
			out = append(out, r)
		}
	}
	return out
}

// Client returns a client of the Grafana at o that sends each request once, so that a test
// sees the fake's first answer.
func Client(t testing.TB, o httpconfig.Options) *grafana.Client {
	t.Helper()
	o.Attempts, o.Backoff = 1, 1
	c, err := grafana.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

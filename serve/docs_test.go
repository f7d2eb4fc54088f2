package serve_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/serve"
)

// TestDocumentedMetrics keeps the metrics table of docs/serve.md the metrics /metrics serves.
func TestDocumentedMetrics(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "serve.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(blindspot_[a-z_]+)` \\| ([a-z]+) \\|").FindAllStringSubmatch(string(data), -1) {
		documented = append(documented, m[1]+" "+m[2])
	}
	// A complete audit and a partial one: every family has a series.
	complete := rep(map[string]bool{"prometheus (source=eu)": true}, []string{"targets/down"}, down)
	partial := rep(map[string]bool{"prometheus (source=eu)": false}, []string{"targets/down"})
	s, err := serve.New(serve.Options{Audit: audits(complete, partial)})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Audit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := s.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "blindspot_") {
			served = append(served, mf.GetName()+" "+strings.ToLower(mf.GetType().String()))
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("docs/serve.md documents\n  %s\n/metrics serves\n  %s", strings.Join(documented, "\n  "), strings.Join(served, "\n  "))
	}
}

package pipelines_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/pipelines"
)

func TestShipFiles(t *testing.T) {
	b := analyze.NewBuilder(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	hostile := `a"} or vector(1) #`
	b.AddTarget(analyze.Target{Job: "checkout", Instance: "10.1.0.7:8080", Health: analyze.HealthUp,
		Labels: map[string]string{"job": "checkout", "namespace": "shop", "pod": "checkout-7d9f"}})
	b.AddTarget(analyze.Target{Job: hostile, Instance: "h:80", Health: analyze.HealthUp, Labels: map[string]string{"job": hostile}})
	inv := b.Build()

	files, err := pipelines.ShipFiles(inv, []string{"checkout", hostile})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("%d files, want 2", len(files))
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Path] = string(f.Content)
		if !strings.HasPrefix(string(f.Content), "// "+generate.Header+"\n") {
			t.Errorf("%s lacks the header", f.Path)
		}
	}

	t.Run("A Kubernetes job gets pod-log discovery in its namespaces, labelled with its job.", func(t *testing.T) {
		c := byPath["pipelines/alloy/ship-checkout.alloy"]
		for _, want := range []string{`discovery.kubernetes "ship_checkout"`, `names = ["shop"]`, `replacement  = "checkout"`, `loki.source.kubernetes "ship_checkout"`} {
			if !strings.Contains(c, want) {
				t.Errorf("missing %q in:\n%s", want, c)
			}
		}
	})

	t.Run("A hostile job name stays inside its string literal.", func(t *testing.T) {
		var c string
		for p, content := range byPath {
			if p != "pipelines/alloy/ship-checkout.alloy" {
				c = content
			}
		}
		line := ""
		for _, l := range strings.Split(c, "\n") {
			if strings.Contains(l, "path_targets") {
				line = l
			}
		}
		i := strings.Index(line, `"job" = `)
		if i < 0 {
			t.Fatalf("no job in %q", line)
		}
		rest := strings.TrimSuffix(line[i+len(`"job" = `):], "}]")
		got, err := strconv.Unquote(rest)
		if err != nil || got != hostile {
			t.Errorf("job literal %s unquotes to %q (%v), want %q", rest, got, err, hostile)
		}
	})
}

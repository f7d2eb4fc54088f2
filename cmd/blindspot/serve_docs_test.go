package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// TestServeDocs keeps docs/serve.md true to the command: its flags table lists every flag of
// serve and no other, every flag its examples give serve exists, and its YAML parses (the
// alert as a rule file Prometheus loads).
func TestServeDocs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "serve.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	serveCmd, _, err := newApp(io.Discard, io.Discard).root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	exists := func(name string) bool {
		return serveCmd.Flags().Lookup(name) != nil || serveCmd.InheritedFlags().Lookup(name) != nil
	}

	t.Run("The flags table names every flag of serve, and only flags serve has.", func(t *testing.T) {
		_, table, _ := strings.Cut(doc, "## Flags and configuration")
		table, _, _ = strings.Cut(strings.TrimLeft(table, "\n"), "\n\n")
		named := map[string]bool{}
		for _, m := range regexp.MustCompile("`--([a-z.-]+)`").FindAllStringSubmatch(table, -1) {
			named[m[1]] = true
			if !exists(m[1]) {
				t.Errorf("docs/serve.md lists --%s, which serve does not have", m[1])
			}
		}
		serveCmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !named[f.Name] && f.Name != "help" {
				t.Errorf("serve's --%s is not in the flags table of docs/serve.md", f.Name)
			}
		})
	})

	t.Run("Every flag the examples give blindspot serve exists.", func(t *testing.T) {
		var n int
		for _, line := range strings.Split(doc, "\n") {
			_, cmdline, ok := strings.Cut(line, "blindspot serve ")
			if !ok || !strings.HasPrefix(cmdline, "--") {
				continue
			}
			n++
			for _, m := range regexp.MustCompile(`--([a-z.-]+)`).FindAllStringSubmatch(cmdline, -1) {
				if !exists(m[1]) {
					t.Errorf("the example %q gives --%s, which serve does not have", line, m[1])
				}
			}
		}
		if n == 0 {
			t.Error("docs/serve.md has no example of blindspot serve")
		}
	})

	t.Run("The YAML examples parse; the alert is a rule file Prometheus loads.", func(t *testing.T) {
		var rules int
		for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(doc, -1) {
			var v map[string]any
			if err := yaml.Unmarshal([]byte(b[1]), &v); err != nil {
				t.Errorf("does not parse: %v\n%s", err, b[1])
				continue
			}
			if _, ok := v["groups"]; ok {
				rules++
				if _, errs := rulefmt.Parse([]byte(b[1]), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler)); len(errs) > 0 {
					t.Errorf("the rule file is refused: %v", errs)
				}
			}
		}
		if rules != 1 {
			t.Errorf("%d rule files, want the alert on serve", rules)
		}
	})
}

package report_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/checks"
)

func TestHelpPages(t *testing.T) {
	t.Run("Every check the report can link to has its page, and every page under docs/checks is a check's.", func(t *testing.T) {
		names := checks.Names(auditChecks())
		root := filepath.Join("..", "..")
		var want []string
		for _, name := range names {
			path := checks.HelpPath(name)
			want = append(want, filepath.Base(path))
			page, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Errorf("check %s: %v", name, err)
				continue
			}
			for _, section := range []string{"# `" + name + "`\n", "\n## What it finds\n", "\n## The failure it prevents\n", "\n## How to fix it\n", "\n## How to suppress it\n", "  - check: " + name + "\n"} {
				if !strings.Contains(string(page), section) {
					t.Errorf("%s lacks %q", path, section)
				}
			}
		}
		pages, err := filepath.Glob(filepath.Join(root, "docs", "checks", "*.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if !slices.Contains(want, filepath.Base(p)) {
				t.Errorf("%s is no check's page", p)
			}
		}
	})
}

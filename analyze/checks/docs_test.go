package checks_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/internal/golden"
)

// The generated tables sit between these markers in the README and docs/report.md.
const (
	tableBegin = "<!-- BEGIN checks table: generated from each check's Meta; go test ./analyze/checks -run TestDocumentation -update rewrites it -->\n"
	tableEnd   = "<!-- END checks table -->\n"
)

// checksTable renders the check table of a Markdown document: one row per check of the
// registry, its ID linking to its page (under docs, relative to the document), its severity,
// its subject when withSubject, and what it finds.
func checksTable(docs string, withSubject bool, finds func(checks.Meta) string) string {
	var b strings.Builder
	if withSubject {
		b.WriteString("| ID | severity | subject | finds |\n|---|---|---|---|\n")
	} else {
		b.WriteString("| ID | severity | finds |\n|---|---|---|\n")
	}
	for _, m := range checks.Metas() {
		cells := []string{fmt.Sprintf("[`%s`](%s)", m.ID, docs+strings.TrimPrefix(checks.HelpPath(m.ID), "docs/")), m.Severity.String()}
		if withSubject {
			cells = append(cells, subjectDoc(m))
		}
		cells = append(cells, finds(m))
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// subjectDoc is the subject of a check's findings as docs/report.md states it.
func subjectDoc(m checks.Meta) string {
	if m.SubjectDoc != "" {
		return m.SubjectDoc
	}
	keys := make([]string, len(m.SubjectKeys))
	for i, k := range m.SubjectKeys {
		keys[i] = "`" + k + "`"
	}
	return strings.Join(keys, ", ")
}

// TestDocumentation regenerates the check tables of the README and docs/report.md from the
// checks' Meta and compares them with the committed text; -update writes them.
func TestDocumentation(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, c := range []struct {
		name, file, table string
	}{
		{"The README's check table is the checks' Meta.", "README.md",
			checksTable("docs/", false, func(m checks.Meta) string { return m.Summary })},
		{"docs/report.md's check table is the checks' Meta.", filepath.Join("docs", "report.md"),
			checksTable("", true, func(m checks.Meta) string { return m.Finds })},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(root, c.file)
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			begin := bytes.Index(doc, []byte(tableBegin))
			end := bytes.Index(doc, []byte(tableEnd))
			if begin < 0 || end < begin {
				t.Fatalf("%s has no table between the markers %q and %q", c.file, tableBegin, tableEnd)
			}
			committed := string(doc[begin+len(tableBegin) : end])
			if committed == c.table {
				return
			}
			if golden.Updating() {
				out := slices.Concat(doc[:begin+len(tableBegin)], []byte(c.table), doc[end:])
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			t.Errorf("the check table of %s is out of date: go test ./analyze/checks -run TestDocumentation -update rewrites it\n%s",
				c.file, lineDiff(committed, c.table))
		})
	}
}

// lineDiff lists the lines only one of the tables has.
func lineDiff(committed, generated string) string {
	var b strings.Builder
	had := map[string]bool{}
	for _, l := range strings.Split(committed, "\n") {
		had[l] = true
	}
	has := map[string]bool{}
	for _, l := range strings.Split(generated, "\n") {
		has[l] = true
		if !had[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range strings.Split(committed, "\n") {
		if !has[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}

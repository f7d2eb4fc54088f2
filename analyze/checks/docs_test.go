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

	columnsBegin = "<!-- BEGIN coverage columns table: generated from each check's Meta; go test ./analyze/checks -run TestDocumentation -update rewrites it -->\n"
	columnsEnd   = "<!-- END coverage columns table -->\n"
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
		cells := []string{checkLink(docs, m.ID), m.Severity.String()}
		if withSubject {
			cells = append(cells, subjectDoc(m))
		}
		cells = append(cells, finds(m))
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// coverageColumns are the columns of the coverage matrix after the job, in report order, as
// docs/report.md describes them: the heading, what a cell shows, and what decides it, where %s
// stands for the check whose Meta names the column (MatrixColumn).
var coverageColumns = []struct {
	column         checks.Column
	heading, shows string
	decidedBy      string
}{
	{checks.ColumnScraped, "scraped", "up targets of active targets; a gap with `none` when there is no active target",
		"the targets; findings of %s and " + checkLink("", checks.JobsNoTargetsName)},
	{checks.ColumnUpAlert, "up alert", "`yes` when some alert fires if the job's targets are down", "%s"},
	{checks.ColumnAbsenceAlert, "absence alert", "`yes` when some alert fires if the job vanishes altogether", "%s"},
	{checks.ColumnBusiness, "business", "business metrics with an alert watching them, of all the job's business metrics; `none` when it has none", "%s"},
	{checks.ColumnLogs, "logs", "`yes` when the job's logs reach a Loki stream in the log window; `none` when the job has no healthy target", "the findings of %s"},
	{checks.ColumnSecrets, "secrets", "`no` when no secret pattern was found in the job's sampled log lines, `FOUND` (text: the number of stream and pattern pairs) when one was; `none` when no log line of the job was read", "the findings of %s"},
	{checks.ColumnRunbooks, "runbooks", "alerts of the up, absence and business columns that link a runbook, of all of them; `none` when no alert covers the job", "%s"},
	{checks.ColumnDashboards, "dashboards", "how many dashboards query the job; `NO` for a job with up targets that none queries, `none` for one without; unknown when no dashboards were read (a Grafana, its snapshot or `--dashboards`)", "%s"},
	{checks.ColumnPages, "pages someone", "`yes` when the job's alerts reach a receiver with a paging integration (`routing.paging_kinds`) through the Alertmanager's routing tree; `NO` when they reach none; `none` when no alert covers the job; unknown when no Alertmanager configuration was read", "%s"},
}

// columnsTable renders docs/report.md's table of the coverage matrix's columns, each decided
// by the check whose Meta names it; it fails t for a column no check decides.
func columnsTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| column | shows | decided by |\n|---|---|---|\n")
	b.WriteString("| job | the job label, quoted | every scrape job, then jobs seen only on business metrics (pushed ones) |\n")
	for _, c := range coverageColumns {
		id := checks.ColumnCheck(c.column)
		if id == "" {
			t.Errorf("no check decides the column %s", c.column)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.heading, c.shows, fmt.Sprintf(c.decidedBy, checkLink("", id)))
	}
	return b.String()
}

// checkLink links a check's ID to its page (under docs, relative to the document).
func checkLink(docs, id string) string {
	return fmt.Sprintf("[`%s`](%s)", id, docs+strings.TrimPrefix(checks.HelpPath(id), "docs/"))
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

// TestDocumentation regenerates the check tables of the README and docs/report.md and the
// coverage columns table of docs/report.md from the checks' Meta and compares them with the
// committed text; -update writes them.
func TestDocumentation(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, c := range []struct {
		name, file, table string
		begin, end        string
	}{
		{"The README's check table is the checks' Meta.", "README.md",
			checksTable("docs/", false, func(m checks.Meta) string { return m.Summary }), tableBegin, tableEnd},
		{"docs/report.md's check table is the checks' Meta.", filepath.Join("docs", "report.md"),
			checksTable("", true, func(m checks.Meta) string { return m.Finds }), tableBegin, tableEnd},
		{"docs/report.md's coverage columns are decided by the checks that name them in their Meta.", filepath.Join("docs", "report.md"),
			columnsTable(t), columnsBegin, columnsEnd},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(root, c.file)
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			begin := bytes.Index(doc, []byte(c.begin))
			end := bytes.Index(doc, []byte(c.end))
			if begin < 0 || end < begin {
				t.Fatalf("%s has no table between the markers %q and %q", c.file, c.begin, c.end)
			}
			committed := string(doc[begin+len(c.begin) : end])
			if committed == c.table {
				return
			}
			if golden.Updating() {
				out := slices.Concat(doc[:begin+len(c.begin)], []byte(c.table), doc[end:])
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			t.Errorf("a table of %s is out of date: go test ./analyze/checks -run TestDocumentation -update rewrites it\n%s",
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

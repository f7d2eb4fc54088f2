package checks

import (
	"slices"
	"sync"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Meta is what a check declares about itself, in the check's own file. The README's and
// docs/report.md's check tables (TestDocumentation), the report's matrix columns and the
// JUnit grouping are derived from it.
type Meta struct {
	// ID is the check's ID, part of the public contract ("targets/down").
	ID string
	// Severity is the default severity of its findings (checks.severity overrides it).
	Severity analyze.Severity
	// Requires lists the inventory parts the check needs; without them it does not run, so
	// that missing information is never reported as a gap.
	Requires []analyze.Part
	// SubjectKeys are the keys every subject of the check's findings holds.
	SubjectKeys []string
	// SubjectDoc says in Markdown what the subject holds when SubjectKeys alone do not (a key
	// only some findings have, another kind of subject); docs/report.md shows it instead of
	// the keys.
	SubjectDoc string
	// Scope is what one finding is about.
	Scope Scope
	// Summary is the one line of the README's check table (Markdown).
	Summary string
	// Finds is what docs/report.md's check table says the check finds, with the details its
	// findings carry (Markdown).
	Finds string
	// MatrixColumn is the column of the coverage matrix the check decides: the column is
	// unknown when the check cannot run. Empty when it decides none.
	MatrixColumn Column
	// GroupByJob is whether the check judges jobs: JUnit then gives every job a test case,
	// passing when no finding of the check names it.
	GroupByJob bool
}

// finding is a finding of the check with its default severity.
func (m Meta) finding(subject map[string]string, message string, details map[string]string) analyze.Finding {
	return analyze.NewFinding(m.ID, m.Severity, subject, message, details)
}

// Scope is what the findings of a check are about.
type Scope string

const (
	ScopeJob        Scope = "job"
	ScopeTarget     Scope = "target"
	ScopeScrapePool Scope = "scrape_pool"
	ScopeRule       Scope = "rule"
	ScopeStream     Scope = "stream"
	// ScopeSource is a server: a Prometheus, an Alertmanager.
	ScopeSource Scope = "source"
)

// Column is a column of the coverage matrix, named as in the HTML report's ids.
type Column string

const (
	ColumnScraped      Column = "scraped"
	ColumnUpAlert      Column = "up-alert"
	ColumnAbsenceAlert Column = "absence-alert"
	ColumnBusiness     Column = "business"
	ColumnLogs         Column = "logs"
	ColumnSecrets      Column = "secrets"
	ColumnRunbooks     Column = "runbooks"
	ColumnDashboards   Column = "dashboards"
	ColumnPages        Column = "pages"
)

// Metas returns the metadata of every check of the registry, in registry order.
func Metas() []Meta { return slices.Clone(registryMetas()) }

// registryMetas is the registry's metadata, built once: the report looks a column's check
// up for every job of the matrix.
var registryMetas = sync.OnceValue(func() []Meta {
	all := All(Options{})
	out := make([]Meta, len(all))
	for i, c := range all {
		out[i] = c.Meta()
	}
	return out
})

// MetaOf returns the metadata of the registry's check id; false when there is none.
func MetaOf(id string) (Meta, bool) {
	metas := registryMetas()
	i := slices.IndexFunc(metas, func(m Meta) bool { return m.ID == id })
	if i < 0 {
		return Meta{}, false
	}
	return metas[i], true
}

// ColumnCheck returns the ID of the check that decides column c of the coverage matrix; ""
// when none does.
func ColumnCheck(c Column) string {
	for _, m := range registryMetas() {
		if m.MatrixColumn == c {
			return m.ID
		}
	}
	return ""
}

package report

import (
	"strconv"

	"github.com/blindspot-dev/blindspot/analyze"
)

// MaxFindingsPerGroup is how many findings of one check, at one severity, about one scope (a
// job, a scrape pool, or nothing: "other"; in a fleet audit, of one member) the text, Markdown
// and HTML reports show. Past it they show the first ones in report order and say how many
// more there are: one exporter with 100,000 counters yields some 95,000 alerts/missing-business
// findings, which nobody reads one by one. The JSON report always lists every finding.
const MaxFindingsPerGroup = 20

// elision says which findings of a list to show. Show[i] is false for a finding past the first
// MaxFindingsPerGroup of its group; More[i] is the number left out of the group whose last
// shown finding is i (0 elsewhere), and Scope[i] names that group's scope for the line.
type elision struct {
	Show  []bool
	More  []int
	Scope []string
}

// findingHeading is the heading a finding is listed under in the text report: its job, its
// scrape pool, or "other".
func findingHeading(f analyze.Finding) string {
	if j, ok := f.Subject["job"]; ok {
		return "job " + strconv.Quote(j)
	}
	if pool, ok := f.Subject["scrape_pool"]; ok {
		return "scrape pool " + strconv.Quote(pool)
	}
	return "other"
}

// findingScope is where a finding belongs in the text report: its heading (findingHeading),
// followed by its fleet member (memberSuffix).
func findingScope(f analyze.Finding, members []string) string {
	return findingHeading(f) + memberSuffix(f.Subject, members)
}

// elide groups fs by severity, check and scope and keeps the first MaxFindingsPerGroup of each
// group, in the order of fs.
func elide(fs []analyze.Finding, members []string) elision {
	type key struct {
		sev          analyze.Severity
		check, scope string
	}
	e := elision{Show: make([]bool, len(fs)), More: make([]int, len(fs)), Scope: make([]string, len(fs))}
	keys := make([]key, len(fs))
	total := map[key]int{}
	for i, f := range fs {
		keys[i] = key{f.Severity, f.Check, findingScope(f, members)}
		total[keys[i]]++
	}
	seen := map[key]int{}
	for i, k := range keys {
		seen[k]++
		n := seen[k]
		e.Show[i] = n <= MaxFindingsPerGroup
		e.Scope[i] = k.scope
		if n == MaxFindingsPerGroup && total[k] > n {
			e.More[i] = total[k] - n
		}
	}
	return e
}

// elideSuppressed is elide over the findings of suppressed entries.
func elideSuppressed(ss []SuppressedFinding, members []string) elision {
	fs := make([]analyze.Finding, len(ss))
	for i, s := range ss {
		fs[i] = s.Finding
	}
	return elide(fs, members)
}

package report

import (
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
)

// Changes are the findings that appeared and went away since an earlier audit of the same
// setup (`blindspot serve` compares each audit with the one before); the HTML page shows them
// first.
type Changes struct {
	// Since is when the earlier audit was made.
	Since time.Time
	// New are the findings the earlier audit did not report; Resolved those it reported that
	// this one does not, of checks that ran both times (baseline.Compare).
	New      []analyze.Finding
	Resolved []baseline.Entry
}

// NewChanges compares the report with what the earlier audits reported (a baseline kept in
// memory: baseline.Update of each run).
func NewChanges(r Report, earlier baseline.File, since time.Time) Changes {
	c := baseline.Compare(earlier, r.BaselineRun())
	return Changes{Since: since, New: c.New, Resolved: c.Resolved}
}

// htmlChanges is Changes as the template shows them.
type htmlChanges struct {
	Since    time.Time
	New      []htmlChange
	Resolved []htmlChange
}

type htmlChange struct {
	Severity analyze.Severity
	Check    string
	Subject  string
	Message  string
	// Target is the anchor of the finding in the table, "" when it is not shown there.
	Target string
}

func newHTMLChanges(c *Changes, shown []htmlFinding) *htmlChanges {
	if c == nil {
		return nil
	}
	onPage := make(map[string]bool, len(shown))
	for _, f := range shown {
		onPage[f.ID] = true
	}
	hc := &htmlChanges{Since: c.Since}
	for _, f := range c.New {
		ch := htmlChange{Severity: f.Severity, Check: f.Check, Subject: subjectString(f.Subject), Message: f.Message}
		if onPage[f.ID] {
			ch.Target = "f-" + f.ID
		}
		hc.New = append(hc.New, ch)
	}
	for _, e := range c.Resolved {
		hc.Resolved = append(hc.Resolved, htmlChange{Check: e.Check, Subject: subjectString(e.Subject)})
	}
	return hc
}

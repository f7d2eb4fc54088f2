package report

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// The pieces of wording the text and Markdown renderers share. They return plain text: each
// renderer makes it safe for its medium.

// subjectString shows a subject as key="value" pairs in key order, the values quoted so that a
// value holding ", " or "=" cannot pass for another pair.
func subjectString(subject map[string]string) string {
	parts := make([]string, 0, len(subject))
	for _, k := range slices.Sorted(maps.Keys(subject)) {
		parts = append(parts, k+"="+strconv.Quote(subject[k]))
	}
	return strings.Join(parts, ", ")
}

// location says where the rule a finding is about lives, or "".
func location(f analyze.Finding) string {
	group := ""
	if f.Group != "" {
		group = "group " + strconv.Quote(f.Group)
	}
	switch {
	case f.File != "" && group != "":
		return f.File + ", " + group
	case f.File != "":
		return f.File
	}
	return group
}

func inventoryLine(sum Summary) string {
	return fmt.Sprintf("%d jobs, %d targets (%d up, %d down, %d unknown), %d rule groups (%d alerting, %d recording rules), %d metric names",
		sum.Jobs, sum.Targets.Up+sum.Targets.Down+sum.Targets.Unknown, sum.Targets.Up, sum.Targets.Down, sum.Targets.Unknown,
		sum.Rules.Groups, sum.Rules.Alerting, sum.Rules.Recording, sum.MetricNames)
}

// unparsedLine says how many rules no check could read, or "".
func unparsedLine(sum Summary) string {
	if sum.Rules.Unparseable == 0 && sum.Rules.NotPromQL == 0 {
		return ""
	}
	return fmt.Sprintf("%d rules do not parse as PromQL, %d are not PromQL rules and were skipped", sum.Rules.Unparseable, sum.Rules.NotPromQL)
}

// severitiesDesc lists the severities from the worst.
var severitiesDesc = []analyze.Severity{analyze.Critical, analyze.Warning, analyze.Info}

// byCheck groups findings of one severity by check, the checks in registry order (as in
// checks_run) and any other after them by name; findings keep their order.
func byCheck(r Report, sev analyze.Severity) [][]analyze.Finding {
	groups := map[string][]analyze.Finding{}
	var names []string
	for _, f := range r.Findings {
		if f.Severity != sev {
			continue
		}
		if _, ok := groups[f.Check]; !ok {
			names = append(names, f.Check)
		}
		groups[f.Check] = append(groups[f.Check], f)
	}
	rank := func(name string) int {
		if i := slices.Index(r.Summary.ChecksRun, name); i >= 0 {
			return i
		}
		return len(r.Summary.ChecksRun)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := make([][]analyze.Finding, len(names))
	for i, n := range names {
		out[i] = groups[n]
	}
	return out
}

// helpPath is the documentation page of a finding's check.
func helpPath(f analyze.Finding) string {
	if f.Help != "" {
		return f.Help
	}
	return checks.HelpPath(f.Check)
}

// sourceVersion is " <version>" after a source's name, "" when the server did not say.
func sourceVersion(s Source) string {
	if s.Version == "" {
		return ""
	}
	return " " + clean(s.Version)
}

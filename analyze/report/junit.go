package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// The JUnit XML that Jenkins' junit step and GitLab's `reports: junit` read: <testsuites> of
// <testsuite name tests failures errors skipped time timestamp>, each of <testcase classname
// name time> holding at most one <failure message type>text</failure>, <error> or <skipped>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// The suites that are not checks.
const (
	junitExpiredSuite = "blindspot/expired-exceptions"
	junitSourcesSuite = "blindspot/sources"
)

// WriteJUnit writes the gap check as JUnit XML: one testsuite per check that ran, with a
// failing testcase per new finding at or above the --fail-on severity, a skipped one per known,
// suppressed or lesser new finding, and a passing one per job the check judges and found
// nothing wrong with. Expired exceptions fail in a suite of their own, and sources that could
// not be read are errors.
func WriteJUnit(w io.Writer, g GapCheck) error {
	r := g.Report
	timestamp := r.GeneratedAt.UTC().Format("2006-01-02T15:04:05")
	isNew := map[string]bool{}
	for _, f := range g.Comparison.New {
		isNew[f.ID] = true
	}
	doc := junitSuites{Name: "blindspot", Time: "0"}
	for _, check := range r.Summary.ChecksRun {
		s := junitSuite{Name: check, Time: "0", Timestamp: timestamp}
		named := map[string]bool{}
		for _, f := range r.Findings {
			if f.Check != check {
				continue
			}
			named[f.Subject["job"]] = true
			c := findingCase(f)
			switch {
			case isNew[f.ID] && f.Severity >= g.FailOn:
				c.Failure = &junitProblem{Message: clean(f.Message), Type: f.Severity.String(), Text: findingText(f)}
			case isNew[f.ID]:
				c.Skipped = &junitSkipped{Message: fmt.Sprintf("new, but below --fail-on %s", g.FailOn)}
			default:
				c.Skipped = &junitSkipped{Message: "known: in the baseline"}
			}
			s.Cases = append(s.Cases, c)
		}
		for _, sf := range r.Suppressed {
			if sf.Finding.Check != check {
				continue
			}
			named[sf.Finding.Subject["job"]] = true
			c := findingCase(sf.Finding)
			c.Skipped = &junitSkipped{Message: "suppressed: " + clean(sf.Reason)}
			s.Cases = append(s.Cases, c)
		}
		// A check that judges jobs passes a job none of its findings names.
		if m, ok := checks.MetaOf(check); ok && m.GroupByJob {
			for _, row := range r.Coverage {
				if !named[row.Job] {
					// Named as a finding about the job would be, so that CI keeps one history
					// per job whether it passes or fails.
					subject := maps.Clone(row.Member)
					if subject == nil {
						subject = map[string]string{}
					}
					subject["job"] = row.Job
					s.Cases = append(s.Cases, junitCase{Classname: check, Name: clean(subjectString(subject)), Time: "0"})
				}
			}
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, junitCase{Classname: check, Name: "no findings", Time: "0"})
		}
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.Expired) > 0 {
		s := junitSuite{Name: junitExpiredSuite, Time: "0", Timestamp: timestamp}
		for _, e := range r.Expired {
			s.Cases = append(s.Cases, junitCase{
				Classname: junitExpiredSuite, Name: e.Check + " " + clean(subjectString(e.Subject)), Time: "0",
				Failure: &junitProblem{
					Message: fmt.Sprintf("the exception expired after %s: renew or remove it", e.Expires),
					Type:    "expired-exception",
					Text:    fmt.Sprintf("reason: %s\nfindings it matches: %s\n", clean(e.Reason), strings.Join(e.Findings, ", ")),
				},
			})
		}
		doc.Suites = append(doc.Suites, s)
	}
	if r.Partial() {
		s := junitSuite{Name: junitSourcesSuite, Time: "0", Timestamp: timestamp}
		for _, src := range r.Sources {
			if !src.OK {
				s.Cases = append(s.Cases, junitCase{
					Classname: junitSourcesSuite, Name: clean(src.Name) + " " + clean(src.URL), Time: "0",
					Error: &junitProblem{Message: "could not read the source completely", Type: "source-error", Text: clean(src.Error)},
				})
			}
		}
		doc.Suites = append(doc.Suites, s)
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		for _, c := range s.Cases {
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func findingCase(f analyze.Finding) junitCase {
	return junitCase{Classname: f.Check, Name: clean(subjectString(f.Subject)), Time: "0"}
}

// findingText is the body of a failure: what a reader needs to act on the finding.
func findingText(f analyze.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", clean(f.Message))
	fmt.Fprintf(&b, "id: %s\nseverity: %s\nsubject: %s\n", f.ID, f.Severity, clean(subjectString(f.Subject)))
	if l := location(f); l != "" {
		fmt.Fprintf(&b, "location: %s\n", clean(l))
	}
	for _, k := range slices.Sorted(maps.Keys(f.Details)) {
		fmt.Fprintf(&b, "%s: %s\n", k, clean(f.Details[k]))
	}
	if f.Fix != "" {
		fmt.Fprintf(&b, "fix: %s\n", clean(f.Fix))
	}
	fmt.Fprintf(&b, "help: %s%s\n", HelpBaseURL, helpPath(f))
	return b.String()
}

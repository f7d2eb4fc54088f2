package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/internal/sariftest"
)

// gapCheck is the golden audit with one more exception, expired, checked against a baseline
// that holds one of its findings and one finding that is gone.
func gapCheck(t *testing.T) report.GapCheck {
	t.Helper()
	p := auditPolicy()
	p.Ignore = append(p.Ignore, checks.Ignore{
		Check: checks.AlertsNoRunbookName, Subject: map[string]string{"rule": "Batch*"},
		Reason: "the batch team writes it", Expires: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	})
	rep := audit(auditInventory(), p, auditMatrix())
	if len(rep.Expired) != 1 {
		t.Fatalf("expired exceptions = %+v, want one", rep.Expired)
	}
	known := rep.Findings[0]
	gone := map[string]string{"job": "node", "instance": "10.0.0.9:9100"}
	b := baseline.File{Version: baseline.Version, Findings: []baseline.Entry{
		{ID: known.ID, Check: known.Check, Subject: known.Subject, FirstSeen: collectedAt.Add(-48 * time.Hour)},
		{ID: analyze.FindingID(checks.TargetsDownName, gone), Check: checks.TargetsDownName, Subject: gone, FirstSeen: collectedAt.Add(-72 * time.Hour)},
	}}
	return report.NewGapCheck(rep, b, "blindspot-baseline.json", analyze.Warning)
}

func TestGapCheck(t *testing.T) {
	g := gapCheck(t)
	t.Run("Findings the baseline holds are known, the others new, and the baseline's vanished finding is resolved.", func(t *testing.T) {
		if len(g.Comparison.Known) != 1 || g.Comparison.Known[0].ID != g.Report.Findings[0].ID {
			t.Errorf("known = %+v, want the first finding", g.Comparison.Known)
		}
		if len(g.Comparison.New) != len(g.Report.Findings)-1 {
			t.Errorf("%d new findings, want %d", len(g.Comparison.New), len(g.Report.Findings)-1)
		}
		if len(g.Comparison.Resolved) != 1 || g.Comparison.Resolved[0].Subject["instance"] != "10.0.0.9:9100" {
			t.Errorf("resolved = %+v, want the gone target", g.Comparison.Resolved)
		}
		if !g.Failed() {
			t.Error("the check with new warnings and an expired exception does not fail")
		}
	})

	t.Run("The Markdown summary matches testdata/check.md.", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.WriteCheckMarkdown(&buf, g); err != nil {
			t.Fatal(err)
		}
		golden(t, "check.md", buf.Bytes())
	})
}

// Jenkins' junit plugin and GitLab read these elements and attributes.
type jenkinsSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    *int     `xml:"tests,attr"`
	Failures *int     `xml:"failures,attr"`
	Errors   *int     `xml:"errors,attr"`
	Skipped  *int     `xml:"skipped,attr"`
	Suites   []struct {
		Name      string  `xml:"name,attr"`
		Tests     *int    `xml:"tests,attr"`
		Failures  *int    `xml:"failures,attr"`
		Errors    *int    `xml:"errors,attr"`
		Skipped   *int    `xml:"skipped,attr"`
		Time      *string `xml:"time,attr"`
		Timestamp string  `xml:"timestamp,attr"`
		Cases     []struct {
			Classname string  `xml:"classname,attr"`
			Name      string  `xml:"name,attr"`
			Time      *string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	g := gapCheck(t)
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, g); err != nil {
		t.Fatal(err)
	}
	var doc jenkinsSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.Bytes())
	}

	t.Run("Every suite and case carries the attributes Jenkins reads, and the counts add up.", func(t *testing.T) {
		if doc.Tests == nil || doc.Failures == nil || doc.Errors == nil || doc.Skipped == nil {
			t.Fatalf("testsuites lacks tests/failures/errors/skipped: %s", buf.Bytes())
		}
		var tests, failures, errs, skipped int
		for _, s := range doc.Suites {
			if s.Name == "" || s.Tests == nil || s.Failures == nil || s.Errors == nil || s.Skipped == nil || s.Time == nil || s.Timestamp == "" {
				t.Errorf("suite %q lacks an attribute", s.Name)
				continue
			}
			var f, e, sk int
			for _, c := range s.Cases {
				if c.Classname == "" || c.Name == "" || c.Time == nil {
					t.Errorf("suite %s: a case lacks classname, name or time: %+v", s.Name, c)
				}
				switch {
				case c.Failure != nil:
					f++
					if c.Failure.Message == "" || c.Failure.Type == "" || c.Failure.Text == "" {
						t.Errorf("suite %s: failure without message, type or text: %+v", s.Name, c.Failure)
					}
				case c.Error != nil:
					e++
				case c.Skipped != nil:
					sk++
				}
			}
			if *s.Tests != len(s.Cases) || *s.Failures != f || *s.Errors != e || *s.Skipped != sk {
				t.Errorf("suite %s counts tests=%d failures=%d errors=%d skipped=%d, cases say %d/%d/%d/%d",
					s.Name, *s.Tests, *s.Failures, *s.Errors, *s.Skipped, len(s.Cases), f, e, sk)
			}
			tests, failures, errs, skipped = tests+*s.Tests, failures+*s.Failures, errs+*s.Errors, skipped+*s.Skipped
		}
		if *doc.Tests != tests || *doc.Failures != failures || *doc.Errors != errs || *doc.Skipped != skipped {
			t.Errorf("testsuites counts %d/%d/%d/%d, suites add up to %d/%d/%d/%d", *doc.Tests, *doc.Failures, *doc.Errors, *doc.Skipped, tests, failures, errs, skipped)
		}
	})

	t.Run("One suite per check that ran; one failing case per new finding at or above --fail-on; covered jobs pass.", func(t *testing.T) {
		var names []string
		failing := map[string]int{}
		passing := map[string][]string{}
		for _, s := range doc.Suites {
			names = append(names, s.Name)
			for _, c := range s.Cases {
				switch {
				case c.Failure != nil:
					failing[s.Name]++
				case c.Error == nil && c.Skipped == nil:
					passing[s.Name] = append(passing[s.Name], c.Name)
				}
			}
		}
		want := append(slices.Clone(g.Report.Summary.ChecksRun), "blindspot/expired-exceptions", "blindspot/sources")
		if !slices.Equal(names, want) {
			t.Errorf("suites %q, want %q", names, want)
		}
		wantFailing := map[string]int{"blindspot/expired-exceptions": 1}
		for _, f := range g.Failing() {
			wantFailing[f.Check]++
		}
		for check, n := range wantFailing {
			if failing[check] != n {
				t.Errorf("suite %s has %d failing cases, want %d", check, failing[check], n)
			}
		}
		// node has a down target but an up alert: it passes alerts/missing-up and fails targets/down.
		// A passing case is named as the failing one would be, so CI keeps one history per job.
		if !slices.Contains(passing[checks.AlertsMissingUpName], `job="node"`) {
			t.Errorf("alerts/missing-up passes %q, want job=\"node\" among them", passing[checks.AlertsMissingUpName])
		}
		if slices.Contains(passing[checks.TargetsDownName], `job="node"`) {
			t.Errorf("targets/down passes job=\"node\", which has a down target")
		}
	})

	t.Run("Hostile values stay inside their attributes and text.", func(t *testing.T) {
		if bytes.Contains(buf.Bytes(), []byte("<script>")) || bytes.Contains(buf.Bytes(), []byte("\x1b")) {
			t.Errorf("JUnit output holds raw markup or escape sequences:\n%s", buf.Bytes())
		}
	})
}

func TestSARIF(t *testing.T) {
	g := gapCheck(t)
	help := func(check string) string {
		return "# `" + check + "`\n\n## What it finds\n\nSomething " + check + " finds.\n\n## The failure it prevents\n"
	}
	var buf bytes.Buffer
	// The golden audit's rule files are relative paths, as --rules files in a repository are.
	anchor := "blindspot-baseline.json"
	if err := report.WriteSARIF(&buf, g, report.SARIFOptions{ToolVersion: "v0.1.0", Checks: auditChecks(), Help: help, Anchor: anchor, ConfigFile: "blindspot.yaml"}); err != nil {
		t.Fatal(err)
	}
	validate := sariftest.Validate
	if report.SARIFSchema != sariftest.SchemaID {
		t.Errorf("the log names schema %s, the schema is %s", report.SARIFSchema, sariftest.SchemaID)
	}

	t.Run("The SARIF log is valid against the SARIF 2.1.0 schema.", func(t *testing.T) {
		if err := validate(buf.Bytes()); err != nil {
			t.Fatalf("%v\n%s", err, buf.Bytes())
		}
	})

	t.Run("The schema rejects a log that breaks it, so the validation above means something.", func(t *testing.T) {
		broken := bytes.Replace(buf.Bytes(), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
		if bytes.Equal(broken, buf.Bytes()) {
			t.Fatal("the log has no error level to break")
		}
		if err := validate(broken); err == nil {
			t.Error("a result with level fatal passed the schema")
		}
	})

	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID               string                    `json:"id"`
						ShortDescription struct{ Text string }     `json:"shortDescription"`
						Help             struct{ Markdown string } `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct{ Name, Kind string } `json:"logicalLocations"`
				} `json:"locations"`
				PartialFingerprints map[string]string                `json:"partialFingerprints"`
				BaselineState       string                           `json:"baselineState"`
				Suppressions        []struct{ Justification string } `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]

	t.Run("One rule per check with its help page, and one for expired exceptions.", func(t *testing.T) {
		var ids []string
		for _, r := range run.Tool.Driver.Rules {
			ids = append(ids, r.ID)
			if r.ID != report.ExpiredExceptionRule && (r.ShortDescription.Text != "Something "+r.ID+" finds." || !strings.Contains(r.Help.Markdown, "## What it finds")) {
				t.Errorf("rule %s: description %q, help %q", r.ID, r.ShortDescription.Text, r.Help.Markdown)
			}
		}
		want := append(checks.Names(auditChecks()), report.ExpiredExceptionRule)
		if !slices.Equal(ids, want) {
			t.Errorf("rules %q, want %q", ids, want)
		}
	})

	t.Run("A rule file named by a live server is a path on that server: the result is located at the anchor.", func(t *testing.T) {
		live := g
		live.Report.Findings = []analyze.Finding{analyze.NewFinding("alerts/no-runbook", analyze.Warning, map[string]string{"rule": "Down"}, "no runbook", nil)}
		live.Report.Findings[0].File = "/etc/prometheus/rules/node.yml"
		live.Report.Suppressed, live.Report.Expired = nil, nil
		var out bytes.Buffer
		if err := report.WriteSARIF(&out, live, report.SARIFOptions{ToolVersion: "v0.1.0", Checks: auditChecks(), Anchor: anchor}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `"uri": "blindspot-baseline.json"`) || strings.Contains(out.String(), "/etc/prometheus") {
			t.Errorf("located at the server's path, not the anchor:\n%s", out.String())
		}
		if err := validate(out.Bytes()); err != nil {
			t.Error(err)
		}
	})

	t.Run("Results point at their rule, carry the finding ID, the baseline state and a location.", func(t *testing.T) {
		states := map[string]int{}
		lines := 0
		byID := map[string]analyze.Finding{}
		for _, f := range g.Report.Findings {
			byID[f.ID] = f
		}
		for _, s := range g.Report.Suppressed {
			byID[s.Finding.ID] = s.Finding
		}
		for _, res := range run.Results {
			if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
				t.Errorf("result of %s points at rule %d", res.RuleID, res.RuleIndex)
			}
			states[res.BaselineState]++
			if res.RuleID == report.ExpiredExceptionRule {
				continue
			}
			f, ok := byID[res.PartialFingerprints[report.FingerprintKey]]
			if !ok {
				t.Errorf("result of %s carries no finding ID: %v", res.RuleID, res.PartialFingerprints)
				continue
			}
			loc := res.Locations[0]
			switch {
			case f.File != "":
				if loc.PhysicalLocation == nil || loc.PhysicalLocation.ArtifactLocation.URI != f.File {
					t.Errorf("finding %s in %s located at %+v", f.ID, f.File, loc)
					continue
				}
				if line := f.Details["line"]; line != "" {
					lines++
					if r := loc.PhysicalLocation.Region; r == nil || strconv.Itoa(r.StartLine) != line {
						t.Errorf("finding %s on line %s located at region %+v", f.ID, line, r)
					}
				}
			case f.Subject["job"] != "":
				// GitHub code scanning shows only results with a file of the repository.
				if loc.PhysicalLocation == nil || loc.PhysicalLocation.ArtifactLocation.URI != anchor {
					t.Errorf("finding %s of job %q has no physical location at the anchor: %+v", f.ID, f.Subject["job"], loc)
				}
				if len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].Kind != "job" || loc.LogicalLocations[0].Name != f.Subject["job"] {
					t.Errorf("finding %s of job %q located at %+v", f.ID, f.Subject["job"], loc)
				}
			}
		}
		if states["new"] != len(g.Comparison.New) || states["unchanged"] != len(g.Comparison.Known) {
			t.Errorf("baseline states %v, want %d new and %d unchanged", states, len(g.Comparison.New), len(g.Comparison.Known))
		}
		if lines == 0 {
			t.Error("no finding of the golden audit carries a rule line to locate")
		}
		if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful {
			t.Errorf("invocations %+v: the golden audit read a source partly, so it did not succeed", run.Invocations)
		}
	})
}

package report

import (
	"cmp"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// SARIFSchema is the schema the SARIF log names (kept under internal/sariftest/testdata).
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// ExpiredExceptionRule is the SARIF rule of expired exceptions, which are no check's findings.
const ExpiredExceptionRule = "blindspot/expired-exception"

// SARIFOptions describe the tool and its rules.
type SARIFOptions struct {
	// ToolVersion is blindspot's version.
	ToolVersion string
	// Checks are the checks of the audit; each becomes a reporting rule.
	Checks []checks.Check
	// Help returns the Markdown documentation page of a check ("" when there is none).
	Help func(check string) string
	// Anchor is a file of the repository (the baseline, say) where the results without a rule
	// file of their own are located, besides their logical location (the job): GitHub code
	// scanning shows only results with a physical location in the repository. "" for none.
	Anchor string
	// ConfigFile is the configuration file holding the ignore: entries, where expired
	// exceptions are located; "" falls back to Anchor.
	ConfigFile string
}

// The subset of SARIF 2.1.0 blindspot writes (names as in the specification).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string       `json:"id"`
		ShortDescription     sarifText    `json:"shortDescription"`
		HelpURI              string       `json:"helpUri,omitempty"`
		Help                 *sarifHelp   `json:"help,omitempty"`
		DefaultConfiguration sarifDefault `json:"defaultConfiguration"`
	}
	sarifHelp struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	sarifDefault struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool                `json:"executionSuccessful"`
		Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level   string    `json:"level"`
		Message sarifText `json:"message"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		BaselineState       string             `json:"baselineState,omitempty"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          map[string]any     `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	}
)

// FingerprintKey names blindspot's finding ID among a result's partialFingerprints, so that
// code scanning follows a finding across runs as the baseline does.
const FingerprintKey = "blindspotFindingId/v1"

// WriteSARIF writes the gap check as a SARIF 2.1.0 log for GitHub code scanning: one reporting
// rule per check with its documentation as help, one result per reported finding (with
// baselineState new or unchanged) and per suppressed finding (with its suppression), located
// in the rule file when the finding is about a rule and at the job (a logical location)
// otherwise. Expired exceptions are results of their own rule; sources that could not be read
// are error notifications of an unsuccessful invocation.
func WriteSARIF(w io.Writer, g GapCheck, o SARIFOptions) error {
	r := g.Report
	driver := sarifDriver{Name: "blindspot", Version: o.ToolVersion, InformationURI: "https://github.com/blindspot-dev/blindspot"}
	index := map[string]int{}
	addRule := func(rule sarifRule) {
		index[rule.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, rule)
	}
	for _, c := range o.Checks {
		m := c.Meta()
		rule := sarifRule{
			ID:                   m.ID,
			ShortDescription:     sarifText{Text: "blindspot check " + m.ID},
			HelpURI:              checks.HelpURL(m.ID),
			DefaultConfiguration: sarifDefault{Level: sarifLevel(m.Severity)},
		}
		if o.Help != nil {
			if page := o.Help(m.ID); page != "" {
				if s := firstParagraph(page, "## What it finds"); s != "" {
					rule.ShortDescription.Text = s
				}
				rule.Help = &sarifHelp{Text: page, Markdown: page}
			}
		}
		addRule(rule)
	}
	addRule(sarifRule{
		ID:               ExpiredExceptionRule,
		ShortDescription: sarifText{Text: "An ignore entry of the configuration is past its expiry date: it no longer suppresses anything."},
		HelpURI:          checks.HelpBaseURL + "docs/report.md#expired-exceptions",
		Help: &sarifHelp{
			Text:     "Renew the entry with a new expires date and reason, or remove it from ignore: in the configuration.",
			Markdown: "Renew the entry with a new `expires` date and `reason`, or remove it from `ignore:` in the configuration.",
		},
		DefaultConfiguration: sarifDefault{Level: "error"},
	})

	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: !r.Partial()}
	for _, s := range r.Sources {
		if !s.OK {
			inv.Notifications = append(inv.Notifications, sarifNotification{Level: "error", Message: sarifText{Text: "could not read " + s.Name + " " + s.URL + ": " + s.Error}})
		}
	}
	run.Invocations = []sarifInvocation{inv}

	isNew := map[string]bool{}
	for _, f := range g.Comparison.New {
		isNew[f.ID] = true
	}
	result := func(f analyze.Finding) sarifResult {
		res := sarifResult{
			RuleID:              f.Check,
			RuleIndex:           index[f.Check],
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{Text: clean(f.Message)},
			Locations:           []sarifLocation{findingLocation(f, o.Anchor)},
			PartialFingerprints: map[string]string{FingerprintKey: f.ID},
			Properties:          map[string]any{"severity": f.Severity.String(), "subject": f.Subject},
		}
		if _, ok := index[f.Check]; !ok {
			// A finding of a check the options did not list still names its rule.
			res.RuleIndex = -1
		}
		return res
	}
	for _, f := range r.Findings {
		res := result(f)
		res.BaselineState = "unchanged"
		if isNew[f.ID] {
			res.BaselineState = "new"
		}
		run.Results = append(run.Results, res)
	}
	for _, s := range r.Suppressed {
		res := result(s.Finding)
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: s.Reason}}
		run.Results = append(run.Results, res)
	}
	for _, e := range r.Expired {
		name := e.Check + " " + subjectString(e.Subject)
		run.Results = append(run.Results, sarifResult{
			RuleID:    ExpiredExceptionRule,
			RuleIndex: index[ExpiredExceptionRule],
			Level:     "error",
			Message:   sarifText{Text: "The exception for " + clean(name) + " expired after " + e.Expires + " (" + clean(e.Reason) + "): renew or remove it."},
			Locations: []sarifLocation{{
				PhysicalLocation: physical(cmp.Or(o.ConfigFile, o.Anchor)),
				LogicalLocations: []sarifLogical{{Name: clean(name), FullyQualifiedName: "ignore/" + clean(name), Kind: "configuration"}},
			}},
			PartialFingerprints: map[string]string{
				FingerprintKey: analyze.FindingID(ExpiredExceptionRule, mergeSubject(e.Check, e.Subject)),
			},
			Properties: map[string]any{"expires": e.Expires, "findings": e.Findings},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// findingLocation is the rule file of a finding about a rule read from the repository (a
// relative path, with its line), or else anchor (nil when ""), with the job (or subject) as the
// logical location. A rule file a live server names is a path on that server, not in the
// repository.
func findingLocation(f analyze.Finding, anchor string) sarifLocation {
	if f.File != "" && !filepath.IsAbs(f.File) {
		loc := physical(f.File)
		// Rules read from files carry their line.
		if line, err := strconv.Atoi(f.Details["line"]); err == nil && line > 0 {
			loc.Region = &sarifRegion{StartLine: line}
		}
		return sarifLocation{PhysicalLocation: loc}
	}
	loc := sarifLocation{PhysicalLocation: physical(anchor)}
	if job, ok := f.Subject["job"]; ok {
		loc.LogicalLocations = []sarifLogical{{Name: clean(job), FullyQualifiedName: "job/" + clean(job), Kind: "job"}}
		return loc
	}
	s := clean(subjectString(f.Subject))
	loc.LogicalLocations = []sarifLogical{{Name: s, FullyQualifiedName: f.Check + "/" + s, Kind: "subject"}}
	return loc
}

// physical is the location of a repository file, nil for "".
func physical(file string) *sarifPhysical {
	if file == "" {
		return nil
	}
	u := url.URL{Path: filepath.ToSlash(filepath.Clean(file))}
	return &sarifPhysical{ArtifactLocation: sarifArtifact{URI: u.String()}}
}

func mergeSubject(check string, subject map[string]string) map[string]string {
	out := map[string]string{"check": check}
	for k, v := range subject {
		out["subject."+k] = v
	}
	return out
}

func sarifLevel(s analyze.Severity) string {
	switch s {
	case analyze.Critical:
		return "error"
	case analyze.Warning:
		return "warning"
	}
	return "note"
}

// firstParagraph returns the first paragraph after heading in a Markdown page, on one line.
func firstParagraph(page, heading string) string {
	_, rest, ok := strings.Cut(page, heading+"\n")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, "\n")
	para, _, _ := strings.Cut(rest, "\n\n")
	return strings.Join(strings.Fields(para), " ")
}

// Package report renders an audit: a stable JSON document (schema in docs/report.md) and a
// human-readable text form. Renderers write to an io.Writer and never print on their own.
package report

import (
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
)

// SchemaVersion is the version of the JSON report schema.
const SchemaVersion = 1

// Report is the document every renderer starts from.
type Report struct {
	Version     int               `json:"version"`
	GeneratedAt time.Time         `json:"generated_at"`
	CollectedAt time.Time         `json:"collected_at"`
	Sources     []Source          `json:"sources"`
	Summary     Summary           `json:"summary"`
	Findings    []analyze.Finding `json:"findings"`
}

// Source is one audited source and what went wrong with it.
type Source struct {
	Name    string        `json:"name"`
	Kind    string        `json:"kind"`
	URL     string        `json:"url"`
	OK      bool          `json:"ok"`
	Error   string        `json:"error,omitempty"`
	Errors  []SourceError `json:"errors,omitempty"`
	Missing []Missing     `json:"missing,omitempty"`
	Notes   []string      `json:"notes,omitempty"`
}

// SourceError is a part of a source that could not be read.
type SourceError struct {
	Part  string `json:"part"`
	Error string `json:"error"`
}

// Missing is a part a source does not provide.
type Missing struct {
	Part   string `json:"part"`
	Reason string `json:"reason"`
}

// Summary counts what was audited and found.
type Summary struct {
	Jobs          int            `json:"jobs"`
	Targets       TargetSummary  `json:"targets"`
	Rules         RuleSummary    `json:"rules"`
	MetricNames   int            `json:"metric_names"`
	Findings      FindingSummary `json:"findings"`
	ChecksRun     []string       `json:"checks_run"`
	ChecksSkipped []SkippedCheck `json:"checks_skipped,omitempty"`
}

type TargetSummary struct {
	Up      int `json:"up"`
	Down    int `json:"down"`
	Unknown int `json:"unknown"`
}

type RuleSummary struct {
	Groups      int `json:"groups"`
	Alerting    int `json:"alerting"`
	Recording   int `json:"recording"`
	Unparseable int `json:"unparseable"`
	NotPromQL   int `json:"not_promql"`
}

type FindingSummary struct {
	Critical int `json:"critical"`
	Warning  int `json:"warning"`
	Info     int `json:"info"`
	Total    int `json:"total"`
}

// SkippedCheck is a check that did not run for lack of information.
type SkippedCheck struct {
	Check   string   `json:"check"`
	Missing []string `json:"missing"`
}

// Build assembles the report of an audit.
func Build(inv *analyze.Inventory, res checks.Result, ran []checks.Check, now time.Time) Report {
	r := Report{
		Version:     SchemaVersion,
		GeneratedAt: now.UTC(),
		CollectedAt: inv.CollectedAt.UTC(),
		Findings:    slices.Clone(res.Findings),
		Sources:     []Source{},
	}
	if r.Findings == nil {
		r.Findings = []analyze.Finding{}
	}
	for _, s := range inv.Sources {
		src := Source{Name: s.Name, Kind: s.Kind, URL: s.URL, OK: s.OK(), Notes: s.Notes}
		var msgs []string
		for _, e := range s.Errors {
			src.Errors = append(src.Errors, SourceError{Part: string(e.Part), Error: e.Err})
			if !slices.Contains(msgs, e.Err) {
				msgs = append(msgs, e.Err)
			}
		}
		src.Error = strings.Join(msgs, "; ")
		for _, m := range s.Missing {
			src.Missing = append(src.Missing, Missing{Part: string(m.Part), Reason: m.Reason})
		}
		r.Sources = append(r.Sources, src)
	}

	sum := &r.Summary
	sum.Jobs = len(inv.Jobs)
	for _, t := range inv.Targets {
		switch t.Health {
		case analyze.HealthUp:
			sum.Targets.Up++
		case analyze.HealthDown:
			sum.Targets.Down++
		default:
			sum.Targets.Unknown++
		}
	}
	sum.Rules.Groups = len(inv.RuleGroups)
	for _, g := range inv.RuleGroups {
		for _, rule := range g.Rules {
			switch {
			case g.Language != "promql":
				sum.Rules.NotPromQL++
			case rule.ParseError != "":
				sum.Rules.Unparseable++
			}
			if rule.Kind == analyze.RuleAlerting {
				sum.Rules.Alerting++
			} else {
				sum.Rules.Recording++
			}
		}
	}
	sum.MetricNames = len(inv.MetricNames)
	for _, f := range r.Findings {
		switch f.Severity {
		case analyze.Critical:
			sum.Findings.Critical++
		case analyze.Warning:
			sum.Findings.Warning++
		default:
			sum.Findings.Info++
		}
	}
	sum.Findings.Total = len(r.Findings)
	sum.ChecksRun = []string{}
	for _, c := range ran {
		if !slices.ContainsFunc(res.Skipped, func(s checks.Skipped) bool { return s.Check == c.Name() }) {
			sum.ChecksRun = append(sum.ChecksRun, c.Name())
		}
	}
	for _, s := range res.Skipped {
		sk := SkippedCheck{Check: s.Check}
		for _, p := range s.Missing {
			sk.Missing = append(sk.Missing, string(p))
		}
		sum.ChecksSkipped = append(sum.ChecksSkipped, sk)
	}
	return r
}

// Partial reports whether some source could not be read completely.
func (r Report) Partial() bool {
	for _, s := range r.Sources {
		if !s.OK {
			return true
		}
	}
	return false
}

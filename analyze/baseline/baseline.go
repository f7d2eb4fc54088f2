// Package baseline remembers the findings a team has accepted as known, so that a nightly
// check fails only on new gaps. A baseline is a JSON file meant for git: sorted, indented and
// stable, with one entry per finding (its ID, check, subject and the time it was first seen).
package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

// Version is the version of the baseline file format.
const Version = 1

// File is a baseline.
type File struct {
	Version  int     `json:"version"`
	Findings []Entry `json:"findings"`
}

// Entry is one known finding.
type Entry struct {
	ID      string            `json:"id"`
	Check   string            `json:"check"`
	Subject map[string]string `json:"subject"`
	// FirstSeen is when a check first reported the finding (UTC, to the second).
	FirstSeen time.Time `json:"first_seen"`
}

// ErrNotExist is returned by Read for a baseline file that does not exist.
var ErrNotExist = errors.New("baseline does not exist")

// Read reads and validates the baseline at path.
func Read(path string) (File, error) {
	data, err := fsutil.ReadFile(path, fsutil.MaxInputFile)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, fmt.Errorf("%s: %w", path, ErrNotExist)
	}
	if err != nil {
		return File{}, fmt.Errorf("reading baseline %s: %w", path, err)
	}
	return Parse(path, data)
}

// Open reads the baseline at path, as Read; with create, a baseline that does not exist yet is
// an empty one, to be written by Update.
func Open(path string, create bool) (File, error) {
	f, err := Read(path)
	if errors.Is(err, ErrNotExist) && create {
		return File{Version: Version}, nil
	}
	return f, err
}

// Parse decodes a baseline; name says where it came from in errors.
func Parse(name string, data []byte) (File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("baseline %s: %w", name, err)
	}
	if f.Version != Version {
		return File{}, fmt.Errorf("baseline %s: version %d, want %d", name, f.Version, Version)
	}
	seen := map[string]bool{}
	for i, e := range f.Findings {
		if e.ID == "" || e.Check == "" {
			return File{}, fmt.Errorf("baseline %s: findings[%d]: id and check are required", name, i)
		}
		if want := analyze.FindingID(e.Check, e.Subject); e.ID != want {
			// A hand-edited entry whose ID no longer fits its check and subject would never
			// match again; say so instead of reporting its finding as new forever.
			return File{}, fmt.Errorf("baseline %s: findings[%d]: id %s does not match check %s and its subject (want %s)", name, i, e.ID, e.Check, want)
		}
		if seen[e.ID] {
			return File{}, fmt.Errorf("baseline %s: findings[%d]: duplicate id %s", name, i, e.ID)
		}
		seen[e.ID] = true
	}
	return f, nil
}

// Marshal encodes the baseline with its entries sorted by check and ID, one field a line, so
// that its diffs in git show exactly the findings that came and went.
func (f File) Marshal() ([]byte, error) {
	f.Version = Version
	f.Findings = slices.Clone(f.Findings)
	if f.Findings == nil {
		f.Findings = []Entry{}
	}
	for i := range f.Findings {
		f.Findings[i].FirstSeen = f.Findings[i].FirstSeen.UTC().Truncate(time.Second)
		if f.Findings[i].Subject == nil {
			f.Findings[i].Subject = map[string]string{}
		}
	}
	slices.SortFunc(f.Findings, func(a, b Entry) int {
		if c := strings.Compare(a.Check, b.Check); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Run is what a check run saw, to compare with a baseline.
type Run struct {
	// Findings are the reported findings (not the suppressed ones).
	Findings []analyze.Finding
	// Suppressed are the IDs of findings an ignore entry accepted.
	Suppressed []string
	// ChecksRun are the checks that ran: a baseline entry of a check that did not run (a
	// source was down, a check was disabled) is neither resolved nor dropped.
	ChecksRun []string
}

// Comparison is a run compared with a baseline.
type Comparison struct {
	// New are the reported findings the baseline does not hold, in report order.
	New []analyze.Finding
	// Known are the reported findings the baseline holds.
	Known []analyze.Finding
	// Resolved are the baseline entries of checks that ran and no longer report them (nor
	// suppress them), sorted like the file.
	Resolved []Entry
}

// Compare compares a run with the baseline.
func Compare(b File, r Run) Comparison {
	known := make(map[string]bool, len(b.Findings))
	for _, e := range b.Findings {
		known[e.ID] = true
	}
	var c Comparison
	present := map[string]bool{}
	for _, f := range r.Findings {
		present[f.ID] = true
		if known[f.ID] {
			c.Known = append(c.Known, f)
		} else {
			c.New = append(c.New, f)
		}
	}
	for _, id := range r.Suppressed {
		present[id] = true
	}
	for _, e := range b.Findings {
		if !present[e.ID] && slices.Contains(r.ChecksRun, e.Check) {
			c.Resolved = append(c.Resolved, e)
		}
	}
	slices.SortFunc(c.Resolved, func(a, b Entry) int {
		if x := strings.Compare(a.Check, b.Check); x != 0 {
			return x
		}
		return strings.Compare(a.ID, b.ID)
	})
	return c
}

// AtOrAbove returns the findings of fs whose severity is at least sev.
func AtOrAbove(fs []analyze.Finding, sev analyze.Severity) []analyze.Finding {
	var out []analyze.Finding
	for _, f := range fs {
		if f.Severity >= sev {
			out = append(out, f)
		}
	}
	return out
}

// Update returns the baseline after the run: every reported finding, keeping the first_seen
// of those the baseline held and stamping the others with now, plus the entries of checks
// that did not run, which the run could not confirm or refute. Suppressed findings are left
// out: when their exception expires they are new again.
func Update(b File, r Run, now time.Time) File {
	firstSeen := make(map[string]time.Time, len(b.Findings))
	for _, e := range b.Findings {
		firstSeen[e.ID] = e.FirstSeen
	}
	out := File{Version: Version, Findings: []Entry{}}
	for _, f := range r.Findings {
		seen, ok := firstSeen[f.ID]
		if !ok {
			seen = now
		}
		out.Findings = append(out.Findings, Entry{ID: f.ID, Check: f.Check, Subject: f.Subject, FirstSeen: seen.UTC().Truncate(time.Second)})
	}
	for _, e := range b.Findings {
		if !slices.Contains(r.ChecksRun, e.Check) {
			out.Findings = append(out.Findings, e)
		}
	}
	return out
}

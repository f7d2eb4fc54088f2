package snapshot

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

// RunbookLinksFileName is where a snapshot records what the runbook links answered.
const RunbookLinksFileName = "runbook_links.json"

// RunbookLinksFile is the content of the runbook links file: what each distinct runbook link
// of the alerting rules answered when the snapshot was taken (analyze.RunbookLink), redacted.
type RunbookLinksFile struct {
	Links []RunbookLinkEntry `json:"links"`
}

// RunbookLinkEntry is one link (analyze.RunbookLink).
type RunbookLinkEntry struct {
	Link    string `json:"link"`
	URL     string `json:"url,omitempty"`
	Status  int    `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

// writeRunbookLinks stores the runbook links of m, when they were checked, and names the
// file in the manifest.
func writeRunbookLinks(dir string, m *Manifest) error {
	m.RunbookLinksFile = ""
	if m.RunbookLinks == nil {
		return nil
	}
	f := RunbookLinksFile{Links: []RunbookLinkEntry{}}
	for _, l := range m.RunbookLinks {
		// The collector redacted them already; a link is never written with a credential.
		f.Links = append(f.Links, RunbookLinkEntry{Link: redact.URL(l.Link), URL: redactIfSet(l.URL), Status: l.Status,
			Error: redact.Text(l.Err), Skipped: l.Skipped})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the runbook links of the snapshot: %w", err)
	}
	m.RunbookLinksFile = RunbookLinksFileName
	return fsutil.WriteFileAtomic(filepath.Join(dir, RunbookLinksFileName), append(data, '\n'), 0o644)
}

func redactIfSet(u string) string {
	if u == "" {
		return ""
	}
	return redact.URL(u)
}

// readRunbookLinks reads the runbook links file the manifest names, if any.
func readRunbookLinks(fsys fs.FS, name string, m *Manifest) error {
	if m.RunbookLinksFile == "" {
		return nil
	}
	var f RunbookLinksFile
	if err := readJSON(fsys, name, m.RunbookLinksFile, &f); err != nil {
		return err
	}
	m.RunbookLinks = []analyze.RunbookLink{}
	for _, l := range f.Links {
		m.RunbookLinks = append(m.RunbookLinks, analyze.RunbookLink{Link: l.Link, URL: l.URL, Status: l.Status, Err: l.Error, Skipped: l.Skipped})
	}
	return nil
}

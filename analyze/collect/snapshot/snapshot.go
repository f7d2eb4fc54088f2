// Package snapshot stores what the collectors read (the raw API responses per endpoint and a
// manifest) so that an audit can be repeated offline with the same findings, and reads such
// snapshots back from a directory or an embedded file system.
package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

// ManifestFile is the name of the manifest in a snapshot directory.
const ManifestFile = "manifest.json"

// FormatVersion is the version of the snapshot layout this package writes and reads.
const FormatVersion = 1

// Manifest describes a snapshot. It is the documented entry point of the layout:
//
//	DIR/manifest.json
//	DIR/<source name>/<part>.json     raw response body of one endpoint
//	DIR/<source name>/<part>-<n>.json raw response body of the n-th query of a part read
//	                                  with several queries (job_metrics), whose
//	                                  expression the manifest gives as "query"
type Manifest struct {
	Version     int       `json:"version"`
	ToolVersion string    `json:"tool_version"`
	CreatedAt   time.Time `json:"created_at"`
	Sources     []Source  `json:"sources"`
}

// Source is one server whose responses the snapshot holds.
type Source struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // "prometheus"
	// URL of the server, without credentials.
	URL       string     `json:"url"`
	Responses []Response `json:"responses"`
}

// Response is a recorded endpoint response; File is relative to the snapshot directory and
// empty when the request failed before any body arrived.
type Response struct {
	prometheus.Response
	File string `json:"file,omitempty"`
}

// Snapshot is a manifest with the bodies it refers to.
type Snapshot struct {
	Manifest Manifest
}

// Responses returns the recorded responses of a source, bodies included.
func Responses(src Source) []prometheus.Response {
	out := make([]prometheus.Response, len(src.Responses))
	for i, r := range src.Responses {
		out[i] = r.Response
	}
	return out
}

// Write stores a snapshot in dir, creating it if needed. It refuses a non-empty directory that
// holds no snapshot, so that a typo cannot scatter files into an unrelated folder. Bodies are
// written first and the manifest last, each atomically.
func Write(dir string, m Manifest) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("writing snapshot to %s: %w", dir, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
			return fmt.Errorf("writing snapshot to %s: directory is not empty and holds no snapshot (%s)", dir, ManifestFile)
		}
	}
	m.Version = FormatVersion
	for i := range m.Sources {
		src := &m.Sources[i]
		if err := os.MkdirAll(filepath.Join(dir, src.Name), 0o755); err != nil {
			return fmt.Errorf("writing snapshot to %s: %w", dir, err)
		}
		numbered := map[string]int{}
		for j := range src.Responses {
			r := &src.Responses[j]
			r.File = ""
			if r.Error != "" {
				continue
			}
			name := string(r.Part)
			if r.Query != "" {
				numbered[name]++
				name = fmt.Sprintf("%s-%d", name, numbered[name])
			}
			r.File = path.Join(src.Name, name+".json")
			if err := fsutil.WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(r.File)), r.Body, 0o644); err != nil {
				return err
			}
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding snapshot manifest: %w", err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644)
}

// Read loads a snapshot from fsys; name is how the user named it (for error messages).
func Read(fsys fs.FS, name string) (*Snapshot, error) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := fs.Stat(fsys, "."); statErr != nil {
			return nil, fmt.Errorf("snapshot %s: directory does not exist", name)
		}
		return nil, fmt.Errorf("snapshot %s: no %s (not a blindspot snapshot, or incomplete)", name, ManifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", name, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("snapshot %s: invalid %s: %w", name, ManifestFile, err)
	}
	if m.Version != FormatVersion {
		return nil, fmt.Errorf("snapshot %s: unsupported format version %d (this blindspot reads version %d)", name, m.Version, FormatVersion)
	}
	if len(m.Sources) == 0 {
		return nil, fmt.Errorf("snapshot %s: %s lists no sources", name, ManifestFile)
	}
	for i := range m.Sources {
		src := &m.Sources[i]
		if src.Kind != "prometheus" {
			return nil, fmt.Errorf("snapshot %s: source %q has unsupported kind %q", name, src.Name, src.Kind)
		}
		for j := range src.Responses {
			r := &src.Responses[j]
			if r.File == "" {
				if r.Error == "" {
					return nil, fmt.Errorf("snapshot %s: response for %s has neither a file nor an error", name, r.Part)
				}
				continue
			}
			body, err := fs.ReadFile(fsys, r.File)
			if err != nil {
				return nil, fmt.Errorf("snapshot %s is incomplete: %s: %w", name, r.File, unwrapPathError(err))
			}
			r.Body = body
		}
	}
	return &Snapshot{Manifest: m}, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Package snapshot stores what the collectors read (the raw API responses of a Prometheus per
// endpoint, what was collected from a Loki, and a manifest) so that an audit can be repeated
// offline with the same findings, and reads such snapshots back from a directory or an
// embedded file system.
package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/grafana"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/promconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
	"github.com/blindspot-dev/blindspot/internal/redact"
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
//	DIR/<source name>/logs.json       what was collected from a Loki (LokiFile), whose
//	                                  manifest entry has kind "loki" and names it as "file"
//	DIR/<source name>/dashboards.json the dashboards read from a Grafana (GrafanaFile), whose
//	                                  manifest entry has kind "grafana" and names it as "file"
//	DIR/<source name>/history.json    what was read of a Prometheus's history (HistoryFile),
//	                                  named by its manifest entry as "history"; of a Loki,
//	                                  its log history (LogHistoryFile)
//	DIR/runbook_links.json            what the runbook links of the alerting rules answered
//	                                  (RunbookLinksFile), named by the manifest's "runbook_links"
//	DIR/alertmanager/<part>.json      raw response body of an Alertmanager endpoint
//	                                  (/api/v2/status, /api/v2/silences), kind "alertmanager"
//
// A snapshot of a fleet has one source of kind "prometheus" per server, named as configured,
// each with a "fleet" entry (FleetServer) saying how it was audited.
//
// A Loki's raw answers are not stored: they hold log lines, and log lines may hold secrets.
// Its file holds the streams and the secret hits with masked examples only.
type Manifest struct {
	Version     int       `json:"version"`
	ToolVersion string    `json:"tool_version"`
	CreatedAt   time.Time `json:"created_at"`
	Sources     []Source  `json:"sources"`
	// RunbookLinksFile names the file recording what the runbook links of the alerting rules
	// answered (RunbookLinksFile, DIR/runbook_links.json); empty when they were not checked.
	RunbookLinksFile string `json:"runbook_links,omitempty"`
	// RunbookLinks is what the runbook links answered: written to RunbookLinksFile, and read
	// back from it. Nil when they were not checked.
	RunbookLinks []analyze.RunbookLink `json:"-"`
}

// Source kinds.
const (
	KindPrometheus = "prometheus"
	KindLoki       = "loki"
	KindGrafana    = "grafana"
	// KindAlertmanager holds the raw answers of an Alertmanager, like a Prometheus.
	KindAlertmanager = "alertmanager"
)

// Source is one server whose responses the snapshot holds.
type Source struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // KindPrometheus, KindLoki or KindAlertmanager
	// URL of the server, without credentials.
	URL string `json:"url"`
	// Responses are the raw answers of a Prometheus or an Alertmanager.
	Responses []Response `json:"responses,omitempty"`
	// File is where a Loki's collected data is, relative to the snapshot directory.
	File string `json:"file,omitempty"`
	// Loki is what was collected from a Loki: written to File, and read back from it.
	Loki *loki.Result `json:"-"`
	// Grafana is what was read from a Grafana: written to File, and read back from it.
	Grafana *grafana.Result `json:"-"`
	// HistoryFile is where what was read of a Prometheus's history (or a Loki's log
	// history: LogHistoryFile, read into Loki.History) is, relative to the
	// snapshot directory; empty when the history was not read (snapshots taken without a
	// history section, or before blindspot read one).
	HistoryFile string `json:"history,omitempty"`
	// History is what was read of a Prometheus's history: written to HistoryFile, and read
	// back from it.
	History *prometheus.HistoryResult `json:"-"`
	// Fleet says how a Prometheus source was audited as a server of a fleet; absent for the
	// one server of a single-server snapshot. A snapshot with such sources is audited as the
	// same fleet.
	Fleet *FleetServer `json:"fleet,omitempty"`
}

// FleetServer is what a fleet's configuration said of one of its servers.
type FleetServer struct {
	// Kind is prometheus, thanos or mimir.
	Kind string `json:"kind"`
	// Role is ruler for a server whose rules cover every member, empty otherwise.
	Role string `json:"role,omitempty"`
	// MemberLabels are the external labels that split a Thanos source into members.
	MemberLabels []string `json:"member_labels,omitempty"`
	// Recognised says how a server named by URL alone was recognised (a Thanos Query, say);
	// absent for a configured kind.
	Recognised []string `json:"recognised,omitempty"`
	// Refused is why the server was not read (a Mimir given no tenant).
	Refused string `json:"refused,omitempty"`
	// Alertmanager names the source of kind alertmanager holding the answers of the
	// server's own Alertmanager, when one was read.
	Alertmanager string `json:"alertmanager,omitempty"`
}

// IsFleet reports whether the snapshot was taken of a fleet.
func (m Manifest) IsFleet() bool {
	return slices.ContainsFunc(m.Sources, func(s Source) bool { return s.Fleet != nil })
}

// checkNames refuses source names that would share a directory or leave the snapshot's.
func checkNames(m Manifest) error {
	seen := map[string]bool{}
	for _, src := range m.Sources {
		if src.Name == "" || src.Name == "." || src.Name == ".." || strings.ContainsAny(src.Name, `/\`) {
			return fmt.Errorf("source name %q cannot name a directory of the snapshot", src.Name)
		}
		if seen[src.Name] {
			return fmt.Errorf("two sources are named %q", src.Name)
		}
		seen[src.Name] = true
	}
	return nil
}

// GrafanaFile is the content of a Grafana source's file: every dashboard as Grafana answered
// it, so that an offline audit extracts their queries exactly as a live one does.
type GrafanaFile struct {
	Dashboards []grafana.Dashboard `json:"dashboards"`
	Notes      []string            `json:"notes,omitempty"`
	// Error is why the dashboards could not all be read ("" when they were).
	Error string `json:"error,omitempty"`
}

// LokiFile is the content of a Loki source's file.
type LokiFile struct {
	// Window is a Go duration ("1h0m0s").
	Window  string         `json:"window"`
	Parts   []analyze.Part `json:"parts"`
	Errors  []LokiError    `json:"errors,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	Streams []LokiStream   `json:"streams"`
	Secrets []LokiSecret   `json:"secrets"`
}

// LokiError is a part that could not be read.
type LokiError struct {
	Part  analyze.Part `json:"part"`
	Error string       `json:"error"`
}

// LokiStream is a stream of the window; Entries is -1 when the line count is unknown.
type LokiStream struct {
	Selector string            `json:"selector"`
	Labels   map[string]string `json:"labels"`
	Entries  int64             `json:"entries"`
}

// LokiSecret is a secret pattern found in a stream; Example is masked.
type LokiSecret struct {
	Stream  string            `json:"stream"`
	Labels  map[string]string `json:"labels"`
	Pattern string            `json:"pattern"`
	Count   int64             `json:"count"`
	Example string            `json:"example"`
}

// NewLokiFile converts what was collected to the file's form.
func NewLokiFile(r *loki.Result) LokiFile {
	f := LokiFile{
		Window:  r.Logs.Window.String(),
		Parts:   r.Parts,
		Notes:   r.Notes,
		Streams: []LokiStream{},
		Secrets: []LokiSecret{},
	}
	for _, e := range r.Errors {
		f.Errors = append(f.Errors, LokiError{Part: e.Part, Error: e.Err})
	}
	for _, s := range r.Logs.Streams {
		f.Streams = append(f.Streams, LokiStream{Selector: s.Selector, Labels: s.Labels, Entries: s.Entries})
	}
	for _, h := range r.Logs.Secrets {
		f.Secrets = append(f.Secrets, LokiSecret{Stream: h.Stream, Labels: h.Labels, Pattern: h.Pattern, Count: h.Count, Example: h.Example})
	}
	return f
}

// Result converts the file back to what a collector returns.
func (f LokiFile) Result() (*loki.Result, error) {
	window, err := time.ParseDuration(f.Window)
	if err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	r := &loki.Result{Logs: analyze.Logs{Window: window}, Parts: f.Parts, Notes: f.Notes}
	for _, p := range f.Parts {
		if !slices.Contains(analyze.AllLokiParts, p) {
			return nil, fmt.Errorf("part %q is not a Loki part", p)
		}
	}
	for _, e := range f.Errors {
		r.Errors = append(r.Errors, analyze.SourceError{Part: e.Part, Err: e.Error})
	}
	for _, s := range f.Streams {
		r.Logs.Streams = append(r.Logs.Streams, analyze.LogStream{Selector: s.Selector, Labels: s.Labels, Entries: s.Entries})
	}
	for _, h := range f.Secrets {
		r.Logs.Secrets = append(r.Logs.Secrets, analyze.SecretHit{Stream: h.Stream, Labels: h.Labels, Pattern: h.Pattern, Count: h.Count, Example: h.Example})
	}
	return r, nil
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
	if err := checkNames(m); err != nil {
		return fmt.Errorf("writing snapshot to %s: %w", dir, err)
	}
	m.Version = FormatVersion
	for i := range m.Sources {
		src := &m.Sources[i]
		redactSource(src)
		if err := os.MkdirAll(filepath.Join(dir, src.Name), 0o755); err != nil {
			return fmt.Errorf("writing snapshot to %s: %w", dir, err)
		}
		if src.Kind == KindLoki {
			if err := writeLoki(dir, src); err != nil {
				return err
			}
			continue
		}
		if src.Kind == KindGrafana {
			if err := writeGrafana(dir, src); err != nil {
				return err
			}
			continue
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
		if err := writeHistory(dir, src); err != nil {
			return err
		}
	}
	if err := writeRunbookLinks(dir, &m); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding snapshot manifest: %w", err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644)
}

// redactSource keeps credentials out of a snapshot whatever the collectors passed on: the
// URL and error texts are redacted (redact.URL, redact.Text), and the Prometheus
// configuration has its secret fields replaced by <secret> (promconfig.RedactAnswer), as a
// Prometheus serves it but a proxy or an older server may not.
func redactSource(src *Source) {
	if src.URL != "" {
		src.URL = redact.URL(src.URL)
	}
	if src.History != nil {
		h := *src.History
		h.Errors = slices.Clone(h.Errors)
		for i := range h.Errors {
			h.Errors[i].Err = redact.Text(h.Errors[i].Err)
		}
		src.History = &h
	}
	for j := range src.Responses {
		r := &src.Responses[j]
		r.Error = redact.Text(r.Error)
		if r.Part == analyze.PartConfig && r.Error == "" {
			r.Body = promconfig.RedactAnswer(r.Body)
		}
	}
}

func writeLoki(dir string, src *Source) error {
	if src.Loki == nil {
		return fmt.Errorf("writing snapshot to %s: Loki source %q has no data", dir, src.Name)
	}
	if err := writeCollected(dir, src, "Loki", "logs.json", NewLokiFile(src.Loki)); err != nil {
		return err
	}
	return writeLogHistory(dir, src)
}

func writeGrafana(dir string, src *Source) error {
	if src.Grafana == nil {
		return fmt.Errorf("writing snapshot to %s: Grafana source %q has no data", dir, src.Name)
	}
	f := GrafanaFile{Dashboards: src.Grafana.Dashboards, Notes: src.Grafana.Notes}
	if f.Dashboards == nil {
		f.Dashboards = []grafana.Dashboard{}
	}
	if src.Grafana.Err != nil {
		f.Error = src.Grafana.Err.Error()
	}
	return writeCollected(dir, src, "Grafana", "dashboards.json", f)
}

// writeCollected stores what was collected from a source whose raw answers are not kept, as
// DIR/<source name>/<file>, and names the file in the manifest.
func writeCollected(dir string, src *Source, kind, file string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the %s data of the snapshot: %w", kind, err)
	}
	src.Responses = nil
	src.File = path.Join(src.Name, file)
	return fsutil.WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(src.File)), append(data, '\n'), 0o644)
}

// Read loads a snapshot from fsys; name is how the user named it (for error messages).
func Read(fsys fs.FS, name string) (*Snapshot, error) {
	data, err := fsutil.ReadFileFS(fsys, ManifestFile, fsutil.MaxSnapshotFile)
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
	if err := checkNames(m); err != nil {
		return nil, fmt.Errorf("snapshot %s: invalid %s: %w", name, ManifestFile, err)
	}
	if m.IsFleet() {
		// A server without its fleet entry would be read as a source every member shares.
		for _, src := range m.Sources {
			if src.Kind == KindPrometheus && src.Fleet == nil {
				return nil, fmt.Errorf("snapshot %s: invalid %s: source %q of a fleet's snapshot has no fleet entry", name, ManifestFile, src.Name)
			}
		}
	}
	for i := range m.Sources {
		src := &m.Sources[i]
		if src.Fleet != nil && src.Kind != KindPrometheus {
			return nil, fmt.Errorf("snapshot %s: source %q of kind %q cannot be a server of a fleet", name, src.Name, src.Kind)
		}
		switch src.Kind {
		case KindPrometheus, KindAlertmanager:
		case KindLoki:
			if err := readLoki(fsys, name, src); err != nil {
				return nil, err
			}
			continue
		case KindGrafana:
			if err := readGrafana(fsys, name, src); err != nil {
				return nil, err
			}
			continue
		default:
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
			body, err := fsutil.ReadFileFS(fsys, r.File, fsutil.MaxSnapshotFile)
			if err != nil {
				return nil, fmt.Errorf("snapshot %s is incomplete: %s: %w", name, r.File, unwrapPathError(err))
			}
			r.Body = body
		}
		if err := readHistory(fsys, name, src); err != nil {
			return nil, err
		}
	}
	if err := readRunbookLinks(fsys, name, &m); err != nil {
		return nil, err
	}
	return &Snapshot{Manifest: m}, nil
}

func readLoki(fsys fs.FS, name string, src *Source) error {
	var f LokiFile
	if err := readCollected(fsys, name, src, "Loki", &f); err != nil {
		return err
	}
	var err error
	if src.Loki, err = f.Result(); err != nil {
		return fmt.Errorf("snapshot %s: invalid %s: %w", name, src.File, err)
	}
	return readLogHistory(fsys, name, src)
}

func readGrafana(fsys fs.FS, name string, src *Source) error {
	var f GrafanaFile
	if err := readCollected(fsys, name, src, "Grafana", &f); err != nil {
		return err
	}
	src.Grafana = &grafana.Result{Dashboards: f.Dashboards, Notes: f.Notes}
	if f.Error != "" {
		src.Grafana.Err = errors.New(f.Error)
	}
	return nil
}

// readCollected decodes the file of a source written by writeCollected into v.
func readCollected(fsys fs.FS, name string, src *Source, kind string, v any) error {
	if src.File == "" {
		return fmt.Errorf("snapshot %s: %s source %q names no file", name, kind, src.Name)
	}
	return readJSON(fsys, name, src.File, v)
}

// readJSON decodes the snapshot's file into v.
func readJSON(fsys fs.FS, name, file string, v any) error {
	data, err := fsutil.ReadFileFS(fsys, file, fsutil.MaxSnapshotFile)
	if err != nil {
		return fmt.Errorf("snapshot %s is incomplete: %s: %w", name, file, unwrapPathError(err))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("snapshot %s: invalid %s: %w", name, file, err)
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package snapshot

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/internal/redact"
)

// LogHistoryFile is the content of a Loki source's history file: per job label value of the
// streams, how many lines it had over the lookback and in the last log silence (or, read from
// Loki's index, the size of its chunks and whether it had some in the silence) and when it
// last had some (not the lines or the samples), the range they were read over, and the
// errors and notes of the log history part (a clipped lookback). Durations are Go durations.
type LogHistoryFile struct {
	// Read is false when the log history could not be read; Errors say why.
	Read      bool            `json:"read"`
	Requested string          `json:"requested"`
	Lookback  string          `json:"lookback"`
	Silence   string          `json:"silence"`
	Start     time.Time       `json:"start"`
	End       time.Time       `json:"end"`
	Step      string          `json:"step"`
	Errors    []string        `json:"errors,omitempty"`
	Notes     []string        `json:"notes,omitempty"`
	Jobs      []LogHistoryJob `json:"jobs"`
}

// LogHistoryJob is the streams of one job (analyze.JobLogHistory). Indexed, Bytes and
// Active are left out of files written when the lines were counted, and of older files.
type LogHistoryJob struct {
	Job      string    `json:"job"`
	LastLine time.Time `json:"last_line"`
	Lines    int64     `json:"lines"`
	Recent   int64     `json:"recent"`
	Indexed  bool      `json:"indexed,omitempty"`
	Bytes    int64     `json:"bytes,omitempty"`
	Active   bool      `json:"active,omitempty"`
}

// NewLogHistoryFile converts what the log history collector read to the file's form, its
// errors redacted.
func NewLogHistoryFile(r loki.HistoryResult) LogHistoryFile {
	h := r.History
	f := LogHistoryFile{
		Read: r.OK, Requested: h.Requested.String(), Lookback: h.Lookback.String(), Silence: h.Silence.String(),
		Start: h.Start.UTC(), End: h.End.UTC(), Step: h.Step.String(), Notes: r.Notes, Jobs: []LogHistoryJob{},
	}
	for _, e := range r.Errors {
		f.Errors = append(f.Errors, redact.Text(e.Err))
	}
	for _, j := range h.Jobs {
		f.Jobs = append(f.Jobs, LogHistoryJob{Job: j.Job, LastLine: j.LastLine.UTC(), Lines: j.Lines, Recent: j.Recent,
			Indexed: j.Indexed, Bytes: j.Bytes, Active: j.Active})
	}
	return f
}

// Result converts the file back to what the log history collector returns.
func (f LogHistoryFile) Result() (loki.HistoryResult, error) {
	var r loki.HistoryResult
	var durations durationParser
	duration := durations.parse
	r.OK, r.Notes = f.Read, f.Notes
	r.History = analyze.LogHistory{Requested: duration("requested", f.Requested), Lookback: duration("lookback", f.Lookback),
		Silence: duration("silence", f.Silence), Start: f.Start.UTC(), End: f.End.UTC(), Step: duration("step", f.Step)}
	for _, e := range f.Errors {
		r.Errors = append(r.Errors, analyze.SourceError{Part: analyze.PartLogHistory, Err: e})
	}
	for _, j := range f.Jobs {
		r.History.Jobs = append(r.History.Jobs, analyze.JobLogHistory{Job: j.Job, LastLine: j.LastLine.UTC(), Lines: j.Lines, Recent: j.Recent,
			Indexed: j.Indexed, Bytes: j.Bytes, Active: j.Active})
	}
	return r, durations.err
}

// writeLogHistory stores the log history of a Loki source as DIR/<source name>/history.json
// and names the file in the manifest; a source without one is left alone.
func writeLogHistory(dir string, src *Source) error {
	src.HistoryFile = ""
	if src.Loki == nil || src.Loki.History == nil {
		return nil
	}
	return writeHistoryJSON(dir, src, "log history", NewLogHistoryFile(*src.Loki.History))
}

// readLogHistory reads the history file a Loki source names, if any, into its result.
func readLogHistory(fsys fs.FS, name string, src *Source) error {
	if src.HistoryFile == "" || src.Loki == nil {
		return nil
	}
	var f LogHistoryFile
	if err := readJSON(fsys, name, src.HistoryFile, &f); err != nil {
		return err
	}
	r, err := f.Result()
	if err != nil {
		return fmt.Errorf("snapshot %s: invalid %s: %w", name, src.HistoryFile, err)
	}
	src.Loki.History = &r
	return nil
}

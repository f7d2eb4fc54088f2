package snapshot

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/internal/fsutil"
)

// HistoryFile is the content of a Prometheus source's history file: the few facts per job
// and per counter the history checks read (not the samples), the range they were read over,
// and the errors and notes of the history part (a clipped lookback). Durations are Go
// durations ("168h0m0s").
type HistoryFile struct {
	// Read is false when the history could not be read; Errors say why.
	Read      bool             `json:"read"`
	Requested string           `json:"requested"`
	Lookback  string           `json:"lookback"`
	Start     time.Time        `json:"start"`
	End       time.Time        `json:"end"`
	Step      string           `json:"step"`
	Errors    []string         `json:"errors,omitempty"`
	Notes     []string         `json:"notes,omitempty"`
	Jobs      []HistoryJob     `json:"jobs"`
	Counters  []HistoryCounter `json:"counters"`
	// Probes are absent from files written before probes were read.
	Probes []HistoryProbe `json:"probes,omitempty"`
	// Successes and TargetCounts are absent from files written before they were read.
	Successes    []HistorySuccess     `json:"successes,omitempty"`
	TargetCounts []HistoryTargetCount `json:"target_counts,omitempty"`
	// Alerts are absent from files written before ALERTS was read.
	Alerts *HistoryAlerts `json:"alerts,omitempty"`
	// SeriesStep is the width of the buckets of the jobs' and counters' series
	// (analyze.History.SeriesStep); absent from files written before series were read.
	SeriesStep string `json:"series_step,omitempty"`
}

// HistoryProbe is a probe failing at the end (analyze.ProbeHistory); Since is absent when it
// failed throughout the lookback.
type HistoryProbe struct {
	Job      string    `json:"job"`
	Instance string    `json:"instance"`
	Since    time.Time `json:"since,omitzero"`
}

// HistoryJob is a job whose up series stopped during the lookback (analyze.JobHistory).
type HistoryJob struct {
	Name     string    `json:"name"`
	LastSeen time.Time `json:"last_seen"`
	Series   Series    `json:"series,omitempty"`
}

// HistoryCounter is when a job's counter rose (analyze.CounterHistory).
type HistoryCounter struct {
	Job           string    `json:"job"`
	Metric        string    `json:"metric"`
	FirstIncrease time.Time `json:"first_increase"`
	LastIncrease  time.Time `json:"last_increase"`
	Increases     int       `json:"increases"`
	LongestGap    string    `json:"longest_gap"`
	Rise          float64   `json:"rise"`
	Series        Series    `json:"series,omitempty"`
}

// NewHistoryFile converts what the history collector read to the file's form.
func NewHistoryFile(r prometheus.HistoryResult) HistoryFile {
	h := r.History
	f := HistoryFile{
		Read: r.OK, Requested: h.Requested.String(), Lookback: h.Lookback.String(),
		Start: h.Start.UTC(), End: h.End.UTC(), Step: h.Step.String(), Notes: r.Notes,
		Jobs: []HistoryJob{}, Counters: []HistoryCounter{},
	}
	if h.SeriesStep > 0 {
		f.SeriesStep = h.SeriesStep.String()
	}
	for _, e := range r.Errors {
		f.Errors = append(f.Errors, e.Err)
	}
	for _, j := range h.Jobs {
		f.Jobs = append(f.Jobs, HistoryJob{Name: j.Name, LastSeen: j.LastSeen.UTC(), Series: Series(j.Series)})
	}
	for _, c := range h.Counters {
		f.Counters = append(f.Counters, HistoryCounter{Job: c.Job, Metric: c.Metric, FirstIncrease: c.FirstIncrease.UTC(),
			LastIncrease: c.LastIncrease.UTC(), Increases: c.Increases, LongestGap: c.LongestGap.String(), Rise: c.Rise, Series: Series(c.Series)})
	}
	for _, p := range h.Probes {
		f.Probes = append(f.Probes, HistoryProbe{Job: p.Job, Instance: p.Instance, Since: p.Since.UTC()})
	}
	f.addHistoryData(h)
	f.Alerts = newHistoryAlerts(h.Alerts)
	return f
}

// Result converts the file back to what the history collector returns.
func (f HistoryFile) Result() (prometheus.HistoryResult, error) {
	var r prometheus.HistoryResult
	var durations durationParser
	duration := durations.parse
	r.OK, r.Notes = f.Read, f.Notes
	r.History = analyze.History{Requested: duration("requested", f.Requested), Lookback: duration("lookback", f.Lookback),
		Start: f.Start.UTC(), End: f.End.UTC(), Step: duration("step", f.Step)}
	if f.SeriesStep != "" {
		r.History.SeriesStep = duration("series_step", f.SeriesStep)
	}
	for _, e := range f.Errors {
		r.Errors = append(r.Errors, analyze.SourceError{Part: analyze.PartHistory, Err: e})
	}
	for _, j := range f.Jobs {
		r.History.Jobs = append(r.History.Jobs, analyze.JobHistory{Name: j.Name, LastSeen: j.LastSeen.UTC(), Series: j.Series})
	}
	for _, c := range f.Counters {
		r.History.Counters = append(r.History.Counters, analyze.CounterHistory{Job: c.Job, Metric: c.Metric,
			FirstIncrease: c.FirstIncrease.UTC(), LastIncrease: c.LastIncrease.UTC(), Increases: c.Increases,
			LongestGap: duration("longest_gap", c.LongestGap), Rise: c.Rise, Series: c.Series})
	}
	for _, p := range f.Probes {
		r.History.Probes = append(r.History.Probes, analyze.ProbeHistory{Job: p.Job, Instance: p.Instance, Since: p.Since.UTC()})
	}
	f.historyData(&r.History, duration)
	if a, e := f.Alerts.result(); e == nil {
		r.History.Alerts = a
	} else if durations.err == nil {
		durations.err = fmt.Errorf("alerts: %w", e)
	}
	return r, durations.err
}

// writeHistory stores the history of a Prometheus source as DIR/<source name>/history.json and
// names the file in the manifest; a source without one is left alone.
func writeHistory(dir string, src *Source) error {
	src.HistoryFile = ""
	if src.History == nil {
		return nil
	}
	return writeHistoryJSON(dir, src, "history", NewHistoryFile(*src.History))
}

// writeHistoryJSON stores file, the history of the source src (what it is), as
// DIR/<source name>/history.json and names it in the manifest.
func writeHistoryJSON(dir string, src *Source, what string, file any) error {
	data, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the %s of the snapshot: %w", what, err)
	}
	src.HistoryFile = path.Join(src.Name, "history.json")
	return fsutil.WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(src.HistoryFile)), append(data, '\n'), 0o644)
}

// readHistory reads the history file a source names, if any.
func readHistory(fsys fs.FS, name string, src *Source) error {
	if src.HistoryFile == "" {
		return nil
	}
	var f HistoryFile
	if err := readJSON(fsys, name, src.HistoryFile, &f); err != nil {
		return err
	}
	r, err := f.Result()
	if err != nil {
		return fmt.Errorf("snapshot %s: invalid %s: %w", name, src.HistoryFile, err)
	}
	src.History = &r
	return nil
}

// durationParser parses the durations of a file, keeping the first error, named by what.
type durationParser struct{ err error }

func (d *durationParser) parse(what, s string) time.Duration {
	v, err := time.ParseDuration(s)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("%s: %w", what, err)
	}
	return v
}

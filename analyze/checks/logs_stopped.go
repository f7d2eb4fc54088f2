package checks

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
)

// LogsStoppedName is the ID of the LogsStopped check.
const LogsStoppedName = "logs/stopped"

// LogsStopped reports the jobs whose Loki streams had lines during the history's lookback and
// none in the last log silence while the job's targets are up: the process still answers its
// scrapes, but its logs (or their shipping) stopped, and whatever it does now leaves no trace.
type LogsStopped struct{}

var logsStoppedMeta = Meta{
	ID:          LogsStoppedName,
	Severity:    analyze.Warning,
	Requires:    []analyze.Part{analyze.PartLogHistory},
	SubjectKeys: []string{"job"},
	SubjectDoc:  "`job`: the `job` label value of the Loki streams (their lines are summed by `job`), compared with the `job` label of the Prometheus targets",
	Scope:       ScopeStream,
	Summary:     "a job's Loki streams that had lines during the history's lookback and none in the last `history.log_silence`, while its targets are up",
	Finds:       "a `job` label value of Loki streams that had lines during the lookback (`history.lookback`) and none in the last `history.log_silence` (default 1h), while the Prometheus job of the same name has targets up (when the targets were read). Details: `last_line`, `silence`, `lines` (or `bytes` when read from Loki's index), `targets_up`",
}

func (LogsStopped) Meta() Meta { return logsStoppedMeta }

func (LogsStopped) Run(inv *analyze.Inventory, _ *Derived) []analyze.Finding {
	h := inv.LogHistory
	silence := model.Duration(h.Silence).String()
	var out []analyze.Finding
	for _, j := range h.Jobs {
		if j.Job == "" || !j.Stopped() || j.LastLine.IsZero() {
			continue
		}
		details := map[string]string{
			"last_line": j.LastLine.UTC().Format(time.RFC3339),
			"silence":   silence,
		}
		// Read from Loki's index, the history weighs chunks and never counted a line.
		had := countOf(int(j.Lines), "line", "lines") + " during the lookback, the last at"
		if j.Indexed {
			details["bytes"] = strconv.FormatInt(j.Bytes, 10)
			had = fmt.Sprintf("chunks during the lookback (%s by Loki's index), the last in the step ending at", formatBytes(j.Bytes))
		} else {
			details["lines"] = strconv.FormatInt(j.Lines, 10)
		}
		up := ""
		if inv.Has(analyze.PartTargets) {
			// A job Prometheus does not scrape, or whose targets are all down, is not known
			// to be running: its silence may be its absence, which other checks report.
			job := inv.Job(j.Job)
			if job == nil || job.Up == 0 {
				continue
			}
			details["targets_up"] = strconv.Itoa(job.Up)
			up = fmt.Sprintf(", while its %s up", countOf(job.Up, "target is", "targets are"))
		} else {
			up = " (whether its targets are up is unknown: no Prometheus targets were read)"
		}
		msg := fmt.Sprintf("the Loki streams of job %s had %s %s (%s ago), and none in the last %s%s: the process stopped logging, or its logs stopped being shipped",
			strconv.Quote(j.Job), had, j.LastLine.UTC().Format(historyTime), roundDuration(h.End.Sub(j.LastLine)), silence, up)
		f := logsStoppedMeta.finding(map[string]string{"job": j.Job}, msg, details)
		f.Fix = "check the log agent that ships the job's logs (Promtail, Alloy, Fluent Bit) and the process's own logging; a job that logs rarely needs a longer history.log_silence"
		out = append(out, f)
	}
	return out
}

// countOf is n followed by one or many: "1 line", "3 lines".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// formatBytes is n in bytes, KiB, MiB or GiB, with one decimal past bytes: "512 B", "1.5 KiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 2 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + []string{"KiB", "MiB", "GiB"}[i]
}

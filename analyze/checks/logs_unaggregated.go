package checks

import (
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
)

// LogsUnaggregatedName is the ID of the LogsUnaggregated check.
const LogsUnaggregatedName = "logs/unaggregated"

// LogsUnaggregated reports jobs with healthy targets whose logs reach no Loki stream in the
// window: when such a process crashes, its logs die with it.
type LogsUnaggregated struct {
	// Pairs map jobs to streams; empty means logmatch.DefaultPairs.
	Pairs []logmatch.Pair
}

func (LogsUnaggregated) Meta() Meta {
	return Meta{ID: LogsUnaggregatedName, Severity: analyze.Warning, Scope: ScopeJob, MatrixColumn: ColumnLogs, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartTargets, analyze.PartLogStreams}, SubjectKeys: []string{"job"},
		Summary: "a job with healthy targets whose logs reach no Loki stream",
		Finds:   "a job with healthy targets whose logs reach no Loki stream in the log window. Details: `window`, `pairs_tried`",
	}
}

func (c LogsUnaggregated) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	var out []analyze.Finding
	window := model.Duration(inv.Logs.Window).String()
	for _, j := range inv.Jobs {
		if j.Up == 0 || logmatch.Job(inv, j.Name, c.Pairs).Matched() {
			continue
		}
		f := c.Meta().finding(map[string]string{"job": j.Name},
			fmt.Sprintf("job %s has %d healthy targets but no Loki stream in the last %s: its logs are not shipped", strconv.Quote(j.Name), j.Up, window),
			map[string]string{"window": window, "pairs_tried": pairsTried(c.Pairs)})
		f.Fix = "ship the job's logs to Loki (a log agent on its hosts or pods); check how its streams are labelled if they are shipped under other labels"
		out = append(out, f)
	}
	return out
}

func pairsTried(pairs []logmatch.Pair) string {
	if len(pairs) == 0 {
		pairs = logmatch.DefaultPairs
	}
	s := ""
	for i, p := range pairs {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s
}

package checks

import (
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
)

// LogsSecretsName is the ID of the LogsSecrets check.
const LogsSecretsName = "logs/secrets"

// LogsSecrets reports streams whose lines in the window match a secret pattern: everyone who
// can read the logs can read the secret. The finding carries a masked example only.
type LogsSecrets struct {
	Pairs []logmatch.Pair
}

func (LogsSecrets) Meta() Meta {
	return Meta{ID: LogsSecretsName, Severity: analyze.Critical, Scope: ScopeStream, MatrixColumn: ColumnSecrets, GroupByJob: true,
		Requires: []analyze.Part{analyze.PartLogSecrets}, SubjectKeys: []string{"stream", "pattern"},
		SubjectDoc: "`stream`, `pattern` (and `job` when the stream is a job's)",
		Summary:    "log lines that hold a secret (reported masked, never in clear)",
		Finds:      "log lines in the log window that match a secret pattern; the example is masked. Details: `count`, `example`, `window`",
	}
}

func (c LogsSecrets) Run(inv *analyze.Inventory, d *Derived) []analyze.Finding {
	var out []analyze.Finding
	jobs := map[string]string{}
	if inv.Has(analyze.PartTargets) {
		jobs = logmatch.Index(inv, c.Pairs)
	}
	window := model.Duration(inv.Logs.Window).String()
	for _, h := range inv.Logs.Secrets {
		subject := map[string]string{"stream": h.Stream, "pattern": h.Pattern}
		if job, ok := jobs[h.Stream]; ok {
			subject["job"] = job
		}
		f := c.Meta().finding(subject,
			fmt.Sprintf("%d log lines of %s in the last %s hold a secret (%s)", h.Count, h.Stream, window, h.Pattern),
			map[string]string{"count": strconv.FormatInt(h.Count, 10), "example": h.Example, "window": window})
		f.Fix = "rotate the leaked secret, stop logging it, and mask it in the log pipeline (blindspot generate writes masking stages for Alloy, Promtail, Fluent Bit, Vector and the OpenTelemetry Collector)"
		out = append(out, f)
	}
	return out
}

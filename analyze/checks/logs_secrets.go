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

func (LogsSecrets) Name() string               { return LogsSecretsName }
func (LogsSecrets) Severity() analyze.Severity { return analyze.Critical }
func (LogsSecrets) Requires() []analyze.Part   { return []analyze.Part{analyze.PartLogSecrets} }

func (c LogsSecrets) Run(inv *analyze.Inventory) []analyze.Finding {
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
		f := analyze.NewFinding(c.Name(), c.Severity(), subject,
			fmt.Sprintf("%d log lines of %s in the last %s hold a secret (%s)", h.Count, h.Stream, window, h.Pattern),
			map[string]string{"count": strconv.FormatInt(h.Count, 10), "example": h.Example, "window": window})
		f.Fix = "rotate the leaked secret, stop logging it, and mask it in the log pipeline (blindspot generate writes masking stages for Alloy, Promtail, Fluent Bit, Vector and the OpenTelemetry Collector)"
		out = append(out, f)
	}
	return out
}

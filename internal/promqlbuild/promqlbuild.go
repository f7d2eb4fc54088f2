// Package promqlbuild builds the PromQL selectors and names that blindspot writes: as syntax
// trees printed by the Prometheus library (so any job or metric name is quoted and escaped
// correctly), and names derived deterministically from job and metric names. Checks (for the
// fixes they announce) and generators (for what they write) share it, so the two agree.
package promqlbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Selector selects metric{job="…"}. A name outside the classic character set (UTF-8 names of
// Prometheus 3) is given as a __name__ matcher only, which the printer quotes correctly.
func Selector(metric, job string) *parser.VectorSelector {
	vs := &parser.VectorSelector{LabelMatchers: []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, metric),
		labels.MustNewMatcher(labels.MatchEqual, "job", job),
	}}
	if model.IsValidLegacyMetricName(metric) {
		vs.Name = metric
	}
	return vs
}

// TargetDown fires for each target of the job that is down: up{job="…"} == 0.
func TargetDown(job string) parser.Expr {
	return &parser.BinaryExpr{Op: parser.EQLC, LHS: Selector("up", job), RHS: &parser.NumberLiteral{Val: 0}}
}

// JobAbsent fires when the job has no target at all: absent(up{job="…"}).
func JobAbsent(job string) parser.Expr {
	return &parser.Call{Func: parser.Functions["absent"], Args: parser.Expressions{Selector("up", job)}}
}

// Stale fires when the Unix time a last-success gauge holds is more than age ago:
// time() - metric{job="…"} > <age in seconds>.
func Stale(metric, job string, age time.Duration) parser.Expr {
	return &parser.BinaryExpr{
		Op: parser.GTR,
		LHS: &parser.BinaryExpr{
			Op:  parser.SUB,
			LHS: &parser.Call{Func: parser.Functions["time"], Args: parser.Expressions{}},
			RHS: Selector(metric, job),
		},
		RHS: &parser.NumberLiteral{Val: age.Seconds()},
	}
}

// AlertPrefix turns a job name into the CamelCase start of an alert name:
// "kube-state-metrics" → "KubeStateMetrics". Alert names must be valid label values only, but
// tools and people expect identifiers.
func AlertPrefix(job string) string { return camel(job, "Job") }

// MetricPrefix turns a metric name into CamelCase without its unit suffixes:
// "invoices_created_total" → "InvoicesCreated".
func MetricPrefix(metric string) string {
	m := metric
	for _, suffix := range []string{"_total", "_timestamp_seconds", "_seconds", "_count"} {
		m = strings.TrimSuffix(m, suffix)
	}
	return camel(m, "Metric")
}

// camel keeps ASCII letters and digits, upper-casing the first of each run; a result that is
// empty or starts with a digit gets fallback in front.
func camel(s, fallback string) string {
	var b strings.Builder
	upper := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) || r > unicode.MaxASCII {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" || unicode.IsDigit(rune(out[0])) {
		out = fallback + out
	}
	return out
}

// FileStem turns a job name into a file name without directories or odd characters:
// "monitoring/node-exporter" → "monitoring-node-exporter".
func FileStem(job string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(job) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		return "job"
	}
	return s
}

// DashboardUID is the stable Grafana dashboard uid of a job: "bs-" and the first 16 hex digits
// of the SHA-256 of the job name (Grafana uids are at most 40 characters of a limited set).
func DashboardUID(job string) string {
	sum := sha256.Sum256([]byte(job))
	return "bs-" + hex.EncodeToString(sum[:])[:16]
}

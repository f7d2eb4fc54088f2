// Package rules turns the coverage gaps of an audit (alerts/missing-up, alerts/missing-absent,
// alerts/missing-business) into alerting rules: Plan builds one rule file per job as typed
// alerts with syntax-tree expressions and promtool test cases, Render writes a file as a
// Prometheus rule file or a PrometheusRule resource, validated with the Prometheus libraries.
//
// Names (documented in docs/generate.md):
//
//   - file: promqlbuild.FileStem(job), group "blindspot-" + file;
//   - alerts: promqlbuild.AlertPrefix(job) + "TargetDown" | "Absent", and
//     AlertPrefix(job) + promqlbuild.MetricPrefix(metric) + "Stopped" (absolute mode) |
//     "Dropped" (relative mode) | "Stale" (last-success gauges).
//
// Names that collide, compared case-insensitively (runbooks/<Alert>.md must differ on
// case-insensitive file systems too) and, for files, as Kubernetes object names, get the first
// 8 hex digits of the SHA-256 of the job (or metric) appended to the colliding part: jobs
// "a-b" and "a_b" give files "a-b-<hash>" and "a_b-<hash>" and alerts "AB<hash>TargetDown".
// Each part is cut to 100 characters first.
package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// GeneratedBy is the value of the generated_by label of every generated alert.
const GeneratedBy = "blindspot"

// gap is one alert to generate: what it watches, on which job and metric. For KindPoolEmpty,
// job holds the scrape pool's name: files and alerts are named after it like after a job.
type gap struct {
	job, metric string
	kind        generate.Kind
}

// key identifies a gap for naming: length-prefixed, so that no two gaps share one.
func (g gap) key() string {
	return strconv.Itoa(len(g.job)) + ":" + g.job + strconv.Itoa(len(g.metric)) + ":" + g.metric + string(g.kind)
}

// Plan turns the findings of alerts/missing-up, alerts/missing-absent and
// alerts/missing-business into one rule file per job, sorted by name; other findings are
// ignored. Options are validated first (see OptionError).
func Plan(findings []analyze.Finding, o generate.Options) ([]generate.RuleFile, error) {
	o = generate.DefaultOptions(o)
	if err := validateOptions(o); err != nil {
		return nil, err
	}
	gaps, _ := gapsOf(findings)
	if len(gaps) == 0 {
		return nil, nil
	}
	n, err := newNamer(gaps, o.Business.Mode)
	if err != nil {
		return nil, err
	}

	byJob := map[string]*generate.RuleFile{}
	for _, g := range gaps {
		f := byJob[g.job]
		if f == nil {
			stem := n.files[g.job]
			f = &generate.RuleFile{Name: stem, Group: "blindspot-" + stem}
			byJob[g.job] = f
		}
		f.Alerts = append(f.Alerts, newAlert(g, n.alerts[g.key()], o))
	}
	files := make([]generate.RuleFile, 0, len(byJob))
	for _, f := range byJob {
		slices.SortFunc(f.Alerts, compareAlerts)
		files = append(files, *f)
	}
	slices.SortFunc(files, func(a, b generate.RuleFile) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// kindOrder puts the alerts of a file in reading order: is it scraped, does it exist, is its
// work getting done.
var kindOrder = []generate.Kind{generate.KindUp, generate.KindAbsent, generate.KindPoolEmpty, generate.KindRateDrop, generate.KindStaleness}

func compareAlerts(a, b generate.Alert) int {
	if c := slices.Index(kindOrder, a.Kind) - slices.Index(kindOrder, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Metric, b.Metric); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Unplanned lists the coverage findings Plan writes no alert for, each with the reason: a
// finding that names neither a job nor a scrape pool, or a pool whose alert needs a metric
// Prometheus does not store. cmd prints them; they never stop the other files.
func Unplanned(findings []analyze.Finding) []string {
	_, skipped := gapsOf(findings)
	return skipped
}

// gapsOf reads the gaps out of the findings, deduplicated and sorted, and says why it skipped
// the findings it could not turn into a gap.
func gapsOf(findings []analyze.Finding) ([]gap, []string) {
	seen := map[gap]bool{}
	var gaps []gap
	var skipped []string
	skip := func(f analyze.Finding, why string) {
		skipped = append(skipped, fmt.Sprintf("%s %s (%s): %s", f.Check, f.ID, subjectText(f.Subject), why))
	}
	for _, f := range findings {
		var g gap
		switch f.Check {
		case checks.AlertsMissingUpName:
			g.kind = generate.KindUp
		case checks.AlertsMissingAbsentName:
			g.kind = generate.KindAbsent
			if pool := f.Subject["scrape_pool"]; pool != "" && f.Subject["job"] == "" {
				if f.Details[checks.PoolMetricDetail] == checks.PoolMetricNotStored {
					skip(f, "the alert reads "+promqlbuild.PoolTargetsMetric+", which this Prometheus does not store: make it scrape itself")
					continue
				}
				g.kind, g.job = generate.KindPoolEmpty, pool
			}
		case checks.AlertsMissingBusinessName:
			switch kind := f.Details["kind"]; kind {
			case coverage.KindCounter:
				g.kind = generate.KindRateDrop
			case coverage.KindStaleness:
				g.kind = generate.KindStaleness
			default:
				skip(f, fmt.Sprintf("unknown business metric kind %q", kind))
				continue
			}
			g.metric = f.Subject["metric"]
			if g.metric == "" {
				skip(f, "the finding names no metric")
				continue
			}
		default:
			continue
		}
		if g.kind != generate.KindPoolEmpty {
			g.job = f.Subject["job"]
		}
		if g.job == "" {
			// job="" would select every series without a job label.
			skip(f, "the finding names no job and no scrape pool")
			continue
		}
		if !seen[g] {
			seen[g] = true
			gaps = append(gaps, g)
		}
	}
	slices.SortFunc(gaps, func(a, b gap) int { return strings.Compare(a.key(), b.key()) })
	slices.Sort(skipped)
	return gaps, skipped
}

// subjectText prints a subject as sorted key=value pairs.
func subjectText(subject map[string]string) string {
	keys := make([]string, 0, len(subject))
	for k := range subject {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(subject[k])
	}
	return strings.Join(parts, " ")
}

// namer holds the collision-free names of the files (by job) and alerts (by gap key).
type namer struct {
	files, alerts map[string]string
}

func newNamer(gaps []gap, mode string) (namer, error) {
	var jobs []string
	metrics := map[string][]string{}
	var keys []string
	for _, g := range gaps {
		jobs = append(jobs, g.job)
		if g.metric != "" {
			metrics[g.job] = append(metrics[g.job], g.metric)
		}
		keys = append(keys, g.key())
	}

	files, err := unique(jobs, func(job, hash string) string {
		stem := strings.TrimRight(truncate(promqlbuild.FileStem(job)), "-")
		if hash != "" {
			stem += "-" + hash
		}
		return stem
	}, resourceName)
	if err != nil {
		return namer{}, fmt.Errorf("naming rule files: %w", err)
	}

	// The job part first, so that all alerts of two jobs that collapse to the same prefix
	// carry the same hash; then the metric part within each job; then whatever still
	// collides across parts ("a" + "b_c" and "a-b" + "c").
	jobPart, err := unique(jobs, func(job, hash string) string {
		return truncate(promqlbuild.AlertPrefix(job)) + hash
	}, strings.ToLower)
	if err != nil {
		return namer{}, fmt.Errorf("naming alerts: %w", err)
	}
	metricPart := map[[2]string]string{} // by job and metric
	for job, ms := range metrics {
		names, err := unique(ms, func(m, hash string) string {
			return truncate(promqlbuild.MetricPrefix(m)) + hash
		}, strings.ToLower)
		if err != nil {
			return namer{}, fmt.Errorf("naming the alerts of job %q: %w", job, err)
		}
		for m, name := range names {
			metricPart[[2]string{job, m}] = name
		}
	}
	byKey := map[string]gap{}
	for _, g := range gaps {
		byKey[g.key()] = g
	}
	alerts, err := unique(keys, func(key, hash string) string {
		g := byKey[key]
		return jobPart[g.job] + metricPart[[2]string{g.job, g.metric}] + hash + suffix(g.kind, mode)
	}, strings.ToLower)
	if err != nil {
		return namer{}, fmt.Errorf("naming alerts: %w", err)
	}
	return namer{files: files, alerts: alerts}, nil
}

// suffix ends the alert names by kind; a counter alert says what its mode detects.
func suffix(kind generate.Kind, mode string) string {
	switch kind {
	case generate.KindUp:
		return "TargetDown"
	case generate.KindAbsent:
		return "Absent"
	case generate.KindPoolEmpty:
		return "NoTargets"
	case generate.KindStaleness:
		return "Stale"
	}
	if mode == ModeRelative {
		return "Dropped"
	}
	return "Stopped"
}

// roundUp rounds d up to a multiple of step.
func roundUp(d, step time.Duration) time.Duration {
	return (d + step - 1) / step * step
}

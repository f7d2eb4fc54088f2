// Package analyze holds blindspot's source-independent model of a monitoring setup (the
// Inventory) and the findings that checks derive from it.
//
// An Inventory is built once by the collectors and then only read: checks, report renderers
// and generators must treat every field as read-only.
package analyze

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// Part names a piece of information an Inventory may or may not hold. A check that needs a
// part the inventory lacks does not run, so "unknown" is never reported as "missing".
type Part string

const (
	PartTargets     Part = "targets"
	PartRules       Part = "rules"
	PartConfig      Part = "config"
	PartMetricNames Part = "metric_names"
	PartMetadata    Part = "metadata"
	PartBuildInfo   Part = "buildinfo"
	// PartJobMetrics is which job exposes which candidate business metric (counters and
	// last-success gauges), which ruleset detection metric and which metric the rules join
	// with, read with a few batched queries.
	PartJobMetrics Part = "job_metrics"
	// PartLogStreams is the set of Loki streams seen in the log window.
	PartLogStreams Part = "log_streams"
	// PartLogSecrets is the result of scanning the window's log lines for secret patterns.
	PartLogSecrets Part = "log_secrets"
)

// PartDashboards is the set of Grafana dashboards read with --dashboards.
const PartDashboards Part = "dashboards"

// AllLokiParts lists the parts a fully readable Loki provides.
var AllLokiParts = []Part{PartLogStreams, PartLogSecrets}

// AllHistoryParts lists the parts a Prometheus provides when its history is read too.
var AllHistoryParts = []Part{PartHistory}

// AllPrometheusParts lists the parts a fully readable Prometheus server provides.
var AllPrometheusParts = []Part{PartTargets, PartRules, PartConfig, PartMetricNames, PartMetadata, PartBuildInfo, PartJobMetrics, PartAlertmanagers}

// Inventory is a read-only snapshot of what the sources reported.
type Inventory struct {
	CollectedAt time.Time
	Sources     []Source
	// Parts lists the parts that were read successfully from some source.
	Parts []Part

	Jobs        []Job        // sorted by Name
	Pools       []ScrapePool // sorted by Name
	Targets     []Target     // sorted by Job, Instance
	RuleGroups  []RuleGroup
	MetricNames []string // sorted
	Metadata    map[string][]Metadata
	// JobMetrics maps a job label value to the sorted names of the candidate business metrics,
	// ruleset detection metrics and metrics rules join with that its series carry
	// (PartJobMetrics). Other metric names were not asked about.
	JobMetrics map[string][]string
	// ExposedBy maps each metric name the dashboards read to the sorted jobs whose series
	// carry it (empty when none does), as the Prometheus answered once the dashboards were
	// known. A name that was not asked about, or whose query failed, is absent.
	ExposedBy map[string][]string
	// Dashboards are the Grafana dashboards read from files, a Grafana or a snapshot of one
	// (PartDashboards); nil when none were read, or a Grafana could not be read.
	Dashboards []Dashboard

	// Logs is what Loki held in the log window (PartLogStreams, PartLogSecrets).
	Logs  Logs
	Build BuildInfo

	// Alerting is where alerts go: Prometheus's Alertmanagers and what one of them has
	// loaded (PartAlertmanagers, PartAlertmanagerConfig, PartSilences).
	Alerting Alerting

	// History is what Prometheus stored over the lookback (PartHistory).
	History History

	// LogHistory is what Loki stored over the history's lookback (PartLogHistory).
	LogHistory LogHistory
	// RunbookLinks are what the distinct runbook links of the alerting rules answered,
	// sorted by Link (PartRunbookLinks).
	RunbookLinks []RunbookLink
	// Kubernetes is what kube-state-metrics told the Prometheus of the cluster (PartKubernetes).
	Kubernetes Kubernetes
}

// Has reports whether the inventory holds part p.
func (inv *Inventory) Has(p Part) bool { return slices.Contains(inv.Parts, p) }

// Job returns the job with the given name, or nil.
func (inv *Inventory) Job(name string) *Job {
	i, ok := slices.BinarySearchFunc(inv.Jobs, name, func(j Job, n string) int {
		switch {
		case j.Name < n:
			return -1
		case j.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return &inv.Jobs[i]
}

// Pool returns the scrape pool with the given name, or nil.
func (inv *Inventory) Pool(name string) *ScrapePool {
	i, ok := slices.BinarySearchFunc(inv.Pools, name, func(p ScrapePool, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return nil
	}
	return &inv.Pools[i]
}

// TargetsOf returns the active targets of a job (Targets is sorted by job).
func (inv *Inventory) TargetsOf(job string) []Target {
	lo, _ := slices.BinarySearchFunc(inv.Targets, job, func(t Target, j string) int { return strings.Compare(t.Job, j) })
	hi := lo
	for hi < len(inv.Targets) && inv.Targets[hi].Job == job {
		hi++
	}
	return inv.Targets[lo:hi:hi]
}

// Rules returns every rule of every group, in group order.
func (inv *Inventory) Rules() []Rule {
	var out []Rule
	for _, g := range inv.RuleGroups {
		out = append(out, g.Rules...)
	}
	return out
}

// Source describes one place the inventory was read from and what went wrong there.
type Source struct {
	Name string // "prometheus", "rules", …
	Kind string // "live", "snapshot", "files", "demo"
	// URL is the address without credentials, or a path for files and snapshots.
	URL string
	// Version is what the server says it is (its build information), "" when unknown: a
	// Prometheus 3 built from the Go module reports none.
	Version string
	// Errors are failures to read (connection refused, HTTP 5xx, timeouts, invalid responses).
	Errors []SourceError
	// Missing lists parts the source does not provide (for example a Thanos Query without the
	// config endpoint). Unlike Errors, a missing part is not a failure to read.
	Missing []MissingPart
	// Notes are facts worth telling that are neither errors nor gaps (a skipped file, say).
	Notes []string
}

// OK reports whether everything asked of the source was read.
func (s Source) OK() bool { return len(s.Errors) == 0 }

// SourceError is a failure to read one part of a source.
type SourceError struct {
	Part Part
	Err  string
}

// MissingPart is a part a source does not offer, with the reason.
type MissingPart struct {
	Part   Part
	Reason string
}

// Job is a value of the job label: the job label of active targets, or the job_name of a
// scrape config without targets whose configuration gives every target that job label
// (ScrapePool.JobLabel). A scrape config is not a job: relabeling may give its targets other
// job labels (Prometheus Operator's serviceMonitor/<namespace>/<name>/<endpoint> pools set
// job to the Service's name), or several.
type Job struct {
	Name string
	// Configured is true when one of the job's scrape pools appears in the loaded
	// scrape_configs.
	Configured bool
	// Pools are the scrape pools (job_name) of the job's targets, sorted.
	Pools []string
	// Up, Down and Unknown count the active targets whose job label is Name.
	Up, Down, Unknown int
	// Dropped is the number of discovered targets that relabeling dropped in the job's pools.
	Dropped int
	// SDKinds are the service discovery mechanisms of the job's pools ("static", "file",
	// "kubernetes", …), sorted.
	SDKinds []string
	// RelabelRules is the number of relabel_configs of the job's pools.
	RelabelRules int
}

// ScrapePool is one scrape config (job_name), known from the configuration, from the targets
// API or both.
type ScrapePool struct {
	Name string
	// Configured is true when the pool appears in the loaded scrape_configs.
	Configured bool
	// JobLabel is the job label the configuration gives every target of the pool (its
	// name), or "" when service discovery or relabeling decides it.
	JobLabel string
	// Active counts the pool's active targets, whatever their job label.
	Active int
	// Jobs are the job labels of the pool's active targets, sorted; targets without a job
	// label are counted in Active but give no job.
	Jobs []string
	// Dropped is the number of discovered targets that relabeling dropped.
	Dropped int
	// SDKinds are the service discovery mechanisms configured ("static", "file", "kubernetes", …).
	SDKinds []string
	// RelabelRules is the number of relabel_configs.
	RelabelRules int
}

// Active is the number of active targets.
func (j Job) Active() int { return j.Up + j.Down + j.Unknown }

// Health of a target as reported by Prometheus.
type Health string

const (
	HealthUp      Health = "up"
	HealthDown    Health = "down"
	HealthUnknown Health = "unknown"
)

// Target is one active scrape target.
type Target struct {
	Job                string
	ScrapePool         string
	Instance           string
	ScrapeURL          string
	Labels             map[string]string
	Health             Health
	LastError          string
	LastScrape         time.Time
	LastScrapeDuration time.Duration
}

// RuleKind tells alerting from recording rules.
type RuleKind string

const (
	RuleAlerting  RuleKind = "alerting"
	RuleRecording RuleKind = "recording"
)

// RuleGroup is a group of rules as loaded by a server or read from a file.
type RuleGroup struct {
	Name     string
	File     string
	Interval time.Duration
	// Language is "promql" or, for groups such as vmalert's `type: vlogs`, the declared type.
	Language string
	Rules    []Rule
}

// Rule is one alerting or recording rule. Expr is parsed exactly once, when the inventory is
// built: Parsed is nil when ParseError is set or when the rule is not PromQL.
type Rule struct {
	Kind        RuleKind
	Name        string // alert name or recorded metric name
	Expr        string
	Parsed      parser.Expr
	ParseError  string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
	Health      string // "ok", "err", "unknown"; empty for rules read from files
	LastError   string
	Group       string
	File        string
	// Line is the rule's line in File when it was read from a file, else 0.
	Line int
}

// Metadata describes a metric as reported by the metadata API.
type Metadata struct {
	Type string
	Help string
	Unit string
}

// BuildInfo is the server's self-description. Version may be empty (Prometheus 3 built from the
// Go module reports none), so nothing may depend on it.
type BuildInfo struct {
	Version   string
	Revision  string
	GoVersion string
}

// Logs is what was read from Loki.
type Logs struct {
	// Window is how far back the streams and lines were read.
	Window time.Duration
	// Streams are the label sets of the streams that had entries in the window, sorted by
	// their selector.
	Streams []LogStream
	// Secrets are the secret patterns found, per stream and pattern, sorted.
	Secrets []SecretHit
}

// LogStream is one Loki stream.
type LogStream struct {
	Labels map[string]string
	// Selector is the stream's LogQL selector, e.g. {env="prod", job="api"}.
	Selector string
	// Entries is the number of log lines in the window when known (Loki >= 2.9 volume
	// endpoint or a count query), else -1.
	Entries int64
}

// SecretHit is a secret pattern found in a stream's lines. It never holds the secret: Example
// is a masked line.
type SecretHit struct {
	Stream  string // the stream's selector
	Labels  map[string]string
	Pattern string // pattern id from rulesets/secrets.yaml
	// Count is the number of lines in the window that match the pattern's keywords and
	// regular expression (from a metric query; the regular expression is checked on samples).
	Count int64
	// Example is one matching line with every secret masked.
	Example string
}

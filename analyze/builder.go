package analyze

import (
	"cmp"
	"slices"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
)

// Builder assembles an Inventory from what collectors report. Collectors add facts in any
// order; Build derives the per-job view and sorts everything.
type Builder struct {
	collectedAt time.Time
	sources     []Source
	parts       map[Part]bool
	configured  map[string]configuredJob
	dropped     map[string]int
	targets     []Target
	groups      []RuleGroup
	metricNames []string
	metadata    map[string][]Metadata
	jobMetrics  map[string][]string
	storage     map[string]Storage
	build       BuildInfo
	logs        Logs
	alerting    Alerting
	history     History
	logHistory  LogHistory
	kubernetes  Kubernetes
}

type configuredJob struct {
	jobLabel     string
	sdKinds      []string
	relabelRules int
}

// NewBuilder starts an inventory collected at the given time.
func NewBuilder(collectedAt time.Time) *Builder {
	return &Builder{
		collectedAt: collectedAt,
		parts:       map[Part]bool{},
		configured:  map[string]configuredJob{},
		dropped:     map[string]int{},
		metadata:    map[string][]Metadata{},
		jobMetrics:  map[string][]string{},
		storage:     map[string]Storage{},
	}
}

// AddAlertmanager records an Alertmanager Prometheus reports.
func (b *Builder) AddAlertmanager(t AlertmanagerTarget) {
	b.alerting.Alertmanagers = append(b.alerting.Alertmanagers, t)
}

// ActiveAlertmanagers returns the URLs of the active Alertmanagers recorded so far, sorted.
func (b *Builder) ActiveAlertmanagers() []string {
	var out []string
	for _, t := range b.alerting.Alertmanagers {
		if t.Active {
			out = append(out, t.URL)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SetAlertmanagerStatus records what an Alertmanager has loaded.
func (b *Builder) SetAlertmanagerStatus(cfg *amconfig.Config, url, version, cluster string) {
	b.alerting.Config, b.alerting.ConfigURL = cfg, url
	b.alerting.Version, b.alerting.Cluster = version, cluster
}

// AddSilences records an Alertmanager's silences.
func (b *Builder) AddSilences(s []Silence) { b.alerting.Silences = append(b.alerting.Silences, s...) }

// SetLogs records what was read from Loki.
func (b *Builder) SetLogs(l Logs) { b.logs = l }

// AddJobMetric records that series of job carry metric.
func (b *Builder) AddJobMetric(job, metric string) {
	b.jobMetrics[job] = append(b.jobMetrics[job], metric)
}

func (b *Builder) AddSource(s Source)            { b.sources = append(b.sources, s) }
func (b *Builder) AddPart(p Part)                { b.parts[p] = true }
func (b *Builder) AddTarget(t Target)            { b.targets = append(b.targets, t) }
func (b *Builder) AddRuleGroup(g RuleGroup)      { b.groups = append(b.groups, g) }
func (b *Builder) AddMetricNames(names []string) { b.metricNames = append(b.metricNames, names...) }
func (b *Builder) SetBuildInfo(bi BuildInfo)     { b.build = bi }

// AddConfiguredJob records a scrape config whose targets all get its name as job label.
func (b *Builder) AddConfiguredJob(name string, sdKinds []string, relabelRules int) {
	b.AddScrapeConfig(name, name, sdKinds, relabelRules)
}

// AddScrapeConfig records a scrape config from scrape_configs; jobLabel is the job label the
// configuration gives all its targets, "" when discovery or relabeling decides it.
func (b *Builder) AddScrapeConfig(name, jobLabel string, sdKinds []string, relabelRules int) {
	b.configured[name] = configuredJob{jobLabel: jobLabel, sdKinds: slices.Clone(sdKinds), relabelRules: relabelRules}
}

// SetDropped records how many discovered targets relabeling dropped in a scrape pool.
func (b *Builder) SetDropped(pool string, n int) { b.dropped[pool] = n }

// AddMetadata records metadata for a metric.
func (b *Builder) AddMetadata(metric string, m []Metadata) {
	b.metadata[metric] = append(b.metadata[metric], m...)
}

// Build returns the finished inventory.
func (b *Builder) Build() *Inventory {
	inv := &Inventory{
		CollectedAt: b.collectedAt,
		Sources:     slices.Clone(b.sources),
		Build:       b.build,
		Metadata:    b.metadata,
	}
	for _, p := range slices.Concat(AllPrometheusParts, AllLokiParts, []Part{PartDashboards}, AllAlertmanagerParts, AllHistoryParts, AllLogHistoryParts, []Part{PartRunbookLinks, PartKubernetes}) {
		if b.parts[p] {
			inv.Parts = append(inv.Parts, p)
		}
	}
	inv.Logs = b.logs
	inv.History = sortedHistory(b.history)
	inv.LogHistory = b.logHistory
	inv.Kubernetes = sortedKubernetes(b.kubernetes)
	inv.Alerting = b.alerting
	inv.Alerting.Alertmanagers = slices.Clone(b.alerting.Alertmanagers)
	slices.SortFunc(inv.Alerting.Alertmanagers, func(a, c AlertmanagerTarget) int {
		return cmp.Or(cmp.Compare(a.URL, c.URL), cmp.Compare(boolRank(a.Active), boolRank(c.Active)))
	})
	inv.Alerting.Silences = slices.Clone(b.alerting.Silences)
	slices.SortFunc(inv.Alerting.Silences, func(a, c Silence) int { return cmp.Compare(a.ID, c.ID) })
	inv.Logs.Streams = slices.Clone(b.logs.Streams)
	slices.SortFunc(inv.Logs.Streams, func(a, c LogStream) int { return cmp.Compare(a.Selector, c.Selector) })
	inv.Logs.Secrets = slices.Clone(b.logs.Secrets)
	slices.SortFunc(inv.Logs.Secrets, func(a, c SecretHit) int {
		return cmp.Or(cmp.Compare(a.Stream, c.Stream), cmp.Compare(a.Pattern, c.Pattern))
	})

	inv.Targets = slices.Clone(b.targets)
	slices.SortStableFunc(inv.Targets, func(a, c Target) int {
		return cmp.Or(cmp.Compare(a.Job, c.Job), cmp.Compare(a.Instance, c.Instance), cmp.Compare(a.ScrapeURL, c.ScrapeURL))
	})

	inv.Pools, inv.Jobs = b.poolsAndJobs(inv.Targets)

	inv.RuleGroups = slices.Clone(b.groups)
	slices.SortStableFunc(inv.RuleGroups, func(a, c RuleGroup) int {
		return cmp.Or(cmp.Compare(a.File, c.File), cmp.Compare(a.Name, c.Name))
	})

	inv.JobMetrics = make(map[string][]string, len(b.jobMetrics))
	for job, ms := range b.jobMetrics {
		ms = slices.Clone(ms)
		slices.Sort(ms)
		inv.JobMetrics[job] = slices.Compact(ms)
	}

	names := slices.Clone(b.metricNames)
	slices.Sort(names)
	inv.MetricNames = slices.Compact(names)
	return inv
}

// poolsAndJobs derives the scrape pools and the jobs. Jobs are the job labels of the active
// targets, each with the facts of the pools its targets come from; a pool without active
// targets gives a job only when its configuration fixes its targets' job label, so a pool
// whose targets get their job from relabeling is never mistaken for a job.
func (b *Builder) poolsAndJobs(targets []Target) ([]ScrapePool, []Job) {
	pools := map[string]*ScrapePool{}
	pool := func(name string) *ScrapePool {
		p, ok := pools[name]
		if !ok {
			p = &ScrapePool{Name: name}
			pools[name] = p
		}
		return p
	}
	for name, c := range b.configured {
		p := pool(name)
		p.Configured, p.JobLabel = true, c.jobLabel
		p.SDKinds, p.RelabelRules = c.sdKinds, c.relabelRules
	}
	jobs := map[string]*Job{}
	job := func(name string) *Job {
		j, ok := jobs[name]
		if !ok {
			j = &Job{Name: name}
			jobs[name] = j
		}
		return j
	}
	for _, t := range targets {
		if t.ScrapePool != "" {
			p := pool(t.ScrapePool)
			p.Active++
			if t.Job != "" {
				p.Jobs = append(p.Jobs, t.Job)
			}
		}
		if t.Job == "" {
			continue // a target without a job label belongs to no job, not to job ""
		}
		j := job(t.Job)
		switch t.Health {
		case HealthUp:
			j.Up++
		case HealthDown:
			j.Down++
		default:
			j.Unknown++
		}
		if t.ScrapePool != "" {
			j.Pools = append(j.Pools, t.ScrapePool)
		}
	}
	for name, n := range b.dropped {
		p, ok := pools[name]
		if !ok && (name == "" || len(b.configured) > 0) {
			// Prometheus 2.x lists dropped targets by their discovered labels, whose job
			// may be missing or set by discovery: it names no pool the configuration has.
			continue
		}
		if !ok {
			p = pool(name)
		}
		p.Dropped = n
	}
	for _, p := range pools {
		slices.Sort(p.Jobs)
		p.Jobs = slices.Compact(p.Jobs)
		if p.Active == 0 && p.JobLabel != "" {
			job(p.JobLabel).Pools = append(job(p.JobLabel).Pools, p.Name)
		}
	}

	out := make([]Job, 0, len(jobs))
	for _, j := range jobs {
		slices.Sort(j.Pools)
		j.Pools = slices.Compact(j.Pools)
		for _, name := range j.Pools {
			p := pools[name]
			j.Configured = j.Configured || p.Configured
			j.Dropped += p.Dropped
			j.RelabelRules += p.RelabelRules
			j.SDKinds = append(j.SDKinds, p.SDKinds...)
		}
		if j.SDKinds != nil {
			slices.Sort(j.SDKinds)
			j.SDKinds = slices.Compact(j.SDKinds)
		}
		out = append(out, *j)
	}
	slices.SortFunc(out, func(a, c Job) int { return cmp.Compare(a.Name, c.Name) })
	ps := make([]ScrapePool, 0, len(pools))
	for _, p := range pools {
		ps = append(ps, *p)
	}
	slices.SortFunc(ps, func(a, c ScrapePool) int { return cmp.Compare(a.Name, c.Name) })
	return ps, out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

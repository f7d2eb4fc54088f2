package collect

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/alertmanager"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/links"
	"github.com/blindspot-dev/blindspot/analyze/collect/promconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
)

// SourceKind says which API a fleet source speaks.
type SourceKind string

const (
	// KindPrometheus is a Prometheus server (or anything answering its full API).
	KindPrometheus SourceKind = "prometheus"
	// KindThanos is a Thanos Query: merged targets and rules of many stores, their external
	// labels added, no configuration endpoint, and a /api/v1/stores listing store health.
	KindThanos SourceKind = "thanos"
	// KindMimir is a Mimir or Cortex tenant: the Prometheus API under /prometheus, no targets
	// or configuration endpoints; jobs and target health come from the up series.
	KindMimir SourceKind = "mimir"
)

// SourceKinds lists the kinds a configuration may name.
var SourceKinds = []SourceKind{KindPrometheus, KindThanos, KindMimir}

// RoleRuler marks a source whose rules cover the jobs of every source (a Thanos Ruler or a
// Mimir ruler evaluating rules over the whole fleet).
const RoleRuler = "ruler"

// DefaultMemberLabels identify the member of a Thanos source a target or rule belongs to.
var DefaultMemberLabels = []string{"cluster"}

// DefaultFleetConcurrency bounds how many sources are read at once.
const DefaultFleetConcurrency = 4

// FleetSource is one server of a fleet.
type FleetSource struct {
	Name string
	Kind SourceKind
	Role string
	HTTP httpconfig.Options
	// MemberLabels are the external labels that split a Thanos source into members
	// (DefaultMemberLabels when empty).
	MemberLabels []string
	// Replay, when not nil, holds the answers a snapshot recorded of the source: they are
	// replayed instead of asking the server.
	Replay []prometheus.Response
	// Notes are said of the source before anything read from it: how Recognise recognised
	// a server named by URL alone.
	Notes []string
	// Refused, when set, is why the source is not read (a Mimir given no tenant, say): it
	// becomes the source's error.
	Refused string
	// Alertmanager, when set, is how to reach the server's own Alertmanager (its URL, when
	// set, names it instead of the one the server reports); FleetOptions.Alertmanager
	// otherwise.
	Alertmanager *httpconfig.Options
	// ReplayAlertmanager, when not nil, holds the answers a snapshot recorded of the
	// server's Alertmanager.
	ReplayAlertmanager *AlertmanagerAnswers
	// History, with Replay, is what a snapshot recorded of the server's history; nil when it
	// recorded none.
	History *prometheus.HistoryResult
}

// FleetOptions say which servers make up the fleet.
type FleetOptions struct {
	Sources []FleetSource
	// Concurrency bounds how many sources are read at once (DefaultFleetConcurrency when 0).
	Concurrency int
	Now         func() time.Time
	Logger      *slog.Logger
	// Shared holds what every member shares, read once: Loki's streams and secret hits, the
	// dashboards part, rule groups of rule files (which, like a ruler's, cover every
	// member). Members reference it; nothing of it is copied per member.
	Shared *analyze.Inventory
	// Record, when set, is given the raw answers of every source once it has been read (for
	// snapshots); it may be called from several goroutines at once.
	Record func(FleetSource, []prometheus.Response)
	// Alertmanager, when set, are the settings (auth, TLS, timeout) with which the
	// Alertmanager each live source reports (/api/v1/alertmanagers) is read, for the member
	// it belongs to; its URL is not used. Nil reads none (but FleetSource.Alertmanager).
	Alertmanager *httpconfig.Options
	// RecordAlertmanager, when set, is given the raw answers of every source's Alertmanager
	// that was read (for snapshots); it may be called from several goroutines at once.
	RecordAlertmanager func(FleetSource, *AlertmanagerAnswers)
	// PrometheusConfigFile, when set, is a prometheus.yml whose scrape_configs every source
	// is judged against, as a single server is with --prometheus-config.
	PrometheusConfigFile string
	// History, when set, reads what every live Prometheus or Mimir source stored over the
	// lookback (the history part), as for a single server. A Thanos source's history is not
	// read: its members would not be told apart.
	History *prometheus.HistoryOptions
	// RecordHistory, when set, is given what was read of every source's history (for
	// snapshots); it may be called from several goroutines at once.
	RecordHistory func(FleetSource, *prometheus.HistoryResult)
	// RunbookLinks, when set, fetches the runbook links of every member's alerting rules,
	// each distinct link once across the fleet.
	RunbookLinks *links.Checker
	// ReplayRunbookLinks, when not nil, is what a snapshot recorded of the runbook links:
	// every member holding rules is given it, and nothing is fetched.
	ReplayRunbookLinks []analyze.RunbookLink
}

// Member is the part of a fleet that is judged on its own: a source, or one value of the
// member labels of a Thanos source. Scope holds the subject keys that name it ("source",
// "cluster"); it is empty for a fleet of one plain source, so that such an audit's findings
// are those of a single-server audit.
type Member struct {
	Scope     map[string]string
	Inventory *analyze.Inventory
	// borrowed are the rule groups (file, name) of ruler sources added to the inventory: they
	// cover the member's jobs, but findings about the rules themselves belong to the ruler.
	borrowed map[[2]string]bool
}

// Owns reports whether a finding of this member's checks is the member's to report: not a
// finding about a rule the member only borrowed from a ruler source, which the ruler's own
// member reports once.
func (m Member) Owns(f analyze.Finding) bool {
	return f.Group == "" || !m.borrowed[[2]string{f.File, f.Group}]
}

// Validate rejects a fleet that cannot be read: unnamed or duplicate sources, unknown kinds.
func (o FleetOptions) Validate() error {
	seen := map[string]bool{}
	for i, s := range o.Sources {
		if s.Name == "" && len(o.Sources) > 1 {
			return fmt.Errorf("prometheus[%d]: a source of a fleet needs a name", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("prometheus[%d]: the name %q is used twice", i, s.Name)
		}
		seen[s.Name] = true
		if s.Kind != "" && !slices.Contains(SourceKinds, s.Kind) {
			return fmt.Errorf("prometheus[%d] (%s): unknown kind %q (want prometheus, thanos or mimir)", i, s.Name, s.Kind)
		}
		if s.Role != "" && s.Role != RoleRuler {
			return fmt.Errorf("prometheus[%d] (%s): unknown role %q (want ruler)", i, s.Name, s.Role)
		}
		for _, l := range s.MemberLabels {
			if l == "source" || !model.LabelName(l).IsValidLegacy() {
				return fmt.Errorf("prometheus[%d] (%s): member label %q: want a label name other than source", i, s.Name, l)
			}
		}
		if s.Replay != nil {
			continue // answered from a snapshot: no connection settings
		}
		if s.Alertmanager != nil && s.Alertmanager.URL != "" {
			if err := s.Alertmanager.Validate(); err != nil {
				return fmt.Errorf("prometheus[%d] (%s): alertmanager: %w", i, s.Name, err)
			}
		}
		if err := s.HTTP.Validate(); err != nil {
			return fmt.Errorf("prometheus[%d] (%s): %w", i, s.Name, err)
		}
	}
	return nil
}

// RunFleet reads every source, at most Concurrency at once, splits each into its members and
// calls judge for every member, one call at a time, in the order the members become ready.
// A member's inventory is not kept after judge returns, so memory is bounded by the sources
// being read at once, not by the whole fleet. The rule groups of ruler sources are read first
// and added to every member. A source that cannot be read is recorded on its member's
// inventory, as for a single server.
func RunFleet(ctx context.Context, o FleetOptions, judge func(Member)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultFleetConcurrency
	}
	clients := make([]api.Client, len(o.Sources))
	for i, s := range o.Sources {
		if s.Replay != nil {
			clients[i] = prometheus.NewReplay(s.Replay)
			continue
		}
		c, err := prometheus.NewClient(apiOptions(s))
		if err != nil {
			return fmt.Errorf("prometheus %s: %w", s.Name, err)
		}
		defer httpconfig.CloseIdle(c)
		clients[i] = c
	}
	now := o.Now().UTC()
	scoped := len(o.Sources) > 1
	var scrape *promconfig.Config
	if o.PrometheusConfigFile != "" {
		cfg, err := promconfig.LoadFile(o.PrometheusConfigFile)
		if err != nil {
			return err
		}
		scrape = &cfg
	}

	var rulers, others []int
	for i, s := range o.Sources {
		if s.Role == RoleRuler {
			rulers = append(rulers, i)
		} else {
			others = append(others, i)
		}
	}
	var mu sync.Mutex
	var shared []analyze.RuleGroup
	if o.Shared != nil {
		shared = slices.Clip(o.Shared.RuleGroups)
	}
	emit := func(ms []Member) {
		for _, m := range ms {
			memberRunbookLinks(ctx, o, m.Inventory)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			if o.Shared != nil {
				share(m.Inventory, o.Shared)
			}
			judge(m)
		}
	}
	read := func(idx []int, each func(i int, inv *analyze.Inventory)) {
		sem := make(chan struct{}, o.Concurrency)
		var wg sync.WaitGroup
		for _, i := range idx {
			wg.Go(func() {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
					// readSource records the cancellation on the source.
				}
				each(i, readRecorded(ctx, o, i, clients[i], now, scrape))
			})
		}
		wg.Wait()
	}
	// Rulers first: their groups cover every member, so they must be known before any
	// member is judged.
	read(rulers, func(i int, inv *analyze.Inventory) {
		mu.Lock()
		shared = append(shared, inv.RuleGroups...)
		mu.Unlock()
		emit(split(inv, o.Sources[i], scoped, nil))
	})
	read(others, func(i int, inv *analyze.Inventory) {
		emit(split(inv, o.Sources[i], scoped, shared))
	})
	return nil
}

// share gives a member the facts of the shared sources: the log streams and secret hits, the
// dashboards, and the parts they make available. Rule files' groups are added with the
// rulers' (split), and, like theirs, their part is not: a member whose own rules could not be
// read stays so.
func share(inv, shared *analyze.Inventory) {
	inv.Logs = shared.Logs
	inv.LogHistory = shared.LogHistory
	inv.Dashboards = shared.Dashboards
	for _, p := range shared.Parts {
		if p != analyze.PartRules && !inv.Has(p) {
			inv.Parts = append(inv.Parts, p)
		}
	}
}

// apiOptions points the client at the Prometheus-compatible API of a source.
func apiOptions(s FleetSource) httpconfig.Options {
	o := s.HTTP
	if s.Kind == KindMimir {
		o.URL = strings.TrimSuffix(o.URL, "/") + "/prometheus"
	}
	return o
}

// readRecorded reads source i, giving its raw answers to o.Record. The answers are released
// on return, before the source's members are judged.
func readRecorded(ctx context.Context, o FleetOptions, i int, client api.Client, now time.Time, scrape *promconfig.Config) *analyze.Inventory {
	rec := prometheus.NewAuditRecorder(client)
	if o.Record != nil {
		rec = prometheus.NewRecorder(client) // the raw answers are wanted whole
	}
	inv := readSource(ctx, o, o.Sources[i], rec, now, scrape)
	if o.Record != nil {
		o.Record(o.Sources[i], rec.Responses())
	}
	return inv
}

// readSource reads one source into an inventory of its own, every request through rec so
// that a snapshot holds all of them, with the Alertmanager it reports and the scrape
// configuration it is judged against.
func readSource(ctx context.Context, o FleetOptions, s FleetSource, rec *prometheus.Recorder, now time.Time, scrape *promconfig.Config) *analyze.Inventory {
	logger := o.Logger
	b := analyze.NewBuilder(now)
	client := api.Client(rec)
	src := analyze.Source{Name: s.Name, Kind: "live", URL: s.HTTP.Redacted()}
	if src.Name == "" {
		src.Name = "prometheus"
	}
	switch {
	case s.Replay != nil:
		src.Kind = "snapshot"
	case s.Kind == KindThanos:
		src.Kind = "thanos"
	case s.Kind == KindMimir:
		src.Kind = "mimir"
	}
	src.Notes = slices.Clone(s.Notes)
	if s.Refused != "" {
		for _, p := range prometheus.Parts() {
			src.Errors = append(src.Errors, analyze.SourceError{Part: p, Err: s.Refused})
		}
		b.AddSource(src)
		return b.Build()
	}
	if ctx.Err() != nil {
		src.Errors = append(src.Errors, analyze.SourceError{Part: analyze.PartTargets, Err: context.Cause(ctx).Error()})
		b.AddSource(src)
		return b.Build()
	}
	src = prometheus.Collect(ctx, rec, src, b, logger)
	var derived bool
	targetsErr := slices.ContainsFunc(src.Errors, func(e analyze.SourceError) bool { return e.Part == analyze.PartTargets })
	targetsMissing := slices.ContainsFunc(src.Missing, func(m analyze.MissingPart) bool { return m.Part == analyze.PartTargets })
	switch {
	case s.Kind == KindMimir && targetsMissing:
		// No targets API: jobs and target health come from the up series.
		targets, err := prometheus.TargetsFromUp(ctx, client)
		if err != nil {
			src.Errors = append(src.Errors, analyze.SourceError{Part: analyze.PartTargets, Err: err.Error()})
			break
		}
		for _, t := range targets {
			b.AddTarget(t)
		}
		b.AddPart(analyze.PartTargets)
		derived = true
	case s.Kind == KindThanos && !targetsErr && !targetsMissing:
		// Stores without a targets API (a receiver, a store gateway) still have up series:
		// their jobs come from those.
		extra, err := upOnly(ctx, client, b.Build().Targets, memberLabels(s))
		if err != nil {
			src.Errors = append(src.Errors, analyze.SourceError{Part: analyze.PartTargets, Err: err.Error()})
			break
		}
		for _, t := range extra {
			b.AddTarget(t)
		}
		if len(extra) > 0 {
			src.Notes = append(src.Notes, fmt.Sprintf("targets: %d known only from the up series (stores without a targets API)", len(extra)))
		}
	}
	if hr := sourceHistory(ctx, o, s, src.Name, client, now, b, historyAskable(src)); hr != nil {
		hr.AddToSource(b, &src) // src replaces the source the builder holds
	}
	readSourceAlertmanager(ctx, o, s, b)
	if scrape != nil {
		addScrapeConfigFile(b, *scrape, o.PrometheusConfigFile)
	}
	inv := b.Build()
	// Collect recorded the source, first, before the amendments above.
	inv.Sources[0] = amend(src, derived)
	if s.Kind == KindThanos {
		last := &inv.Sources[0]
		errs, notes, stores, err := prometheus.Stores(ctx, client)
		if err != nil {
			last.Errors = append(last.Errors, analyze.SourceError{Part: analyze.PartStores, Err: err.Error()})
		}
		for _, e := range errs {
			last.Errors = append(last.Errors, analyze.SourceError{Part: analyze.PartStores, Err: e})
		}
		last.Notes = append(last.Notes, notes...)
		if note, ok := unsplitStores(stores, memberLabels(s)); ok {
			last.Notes = append(last.Notes, note)
		}
	}
	return inv
}

// sourceHistory reads the history of a live source (called name in b) when o asks for it, giving it to
// o.RecordHistory, or returns what a snapshot recorded of it; nil when there is none, when it
// is not askable (historyAskable) and for a ruler.
func sourceHistory(ctx context.Context, o FleetOptions, s FleetSource, name string, client api.Client, now time.Time, b *analyze.Builder, askable bool) *prometheus.HistoryResult {
	var hr prometheus.HistoryResult
	switch {
	case s.Replay != nil:
		return s.History
	case o.History == nil, !askable, s.Role == RoleRuler:
		// A ruler evaluates rules over the others' series and scrapes none: no history.
		return nil
	case s.Kind == KindThanos:
		hr.Notes = []string{"history: not read of a Thanos source, whose members it would not tell apart"}
	default:
		hr = readHistory(ctx, client, *o.History, b, name, now)
	}
	if o.RecordHistory != nil {
		o.RecordHistory(s, &hr)
	}
	return &hr
}

// readSourceAlertmanager reads the Alertmanager of a source (the one it reports, or the one
// its configuration names), or replays what a snapshot recorded of it.
func readSourceAlertmanager(ctx context.Context, o FleetOptions, s FleetSource, b *analyze.Builder) {
	if s.ReplayAlertmanager != nil {
		alertmanager.Collect(s.ReplayAlertmanager.Responses, analyze.Source{Name: "alertmanager", Kind: "snapshot", URL: s.ReplayAlertmanager.URL}, b)
		return
	}
	var opts httpconfig.Options
	switch {
	case s.Replay != nil:
		return // a snapshot that did not record one
	case s.Alertmanager != nil:
		opts = *s.Alertmanager
	case o.Alertmanager != nil:
		opts = *o.Alertmanager
		opts.URL = ""
	default:
		return
	}
	am, err := readAlertmanager(ctx, Options{Alertmanager: &opts}, b.ActiveAlertmanagers(), b)
	if err != nil {
		// The member's configured Alertmanager cannot be asked: its source says why, and the
		// other members are still audited.
		src := analyze.Source{Name: "alertmanager", Kind: "live", URL: opts.Redacted()}
		am = &AlertmanagerAnswers{URL: src.URL, Responses: alertmanager.Unusable(err)}
		alertmanager.Collect(am.Responses, src, b)
	}
	if am != nil && o.RecordAlertmanager != nil {
		o.RecordAlertmanager(s, am)
	}
}

// upOnly returns the targets whose up series has no target in the targets API, told apart by
// job, instance and the member labels.
func upOnly(ctx context.Context, client api.Client, known []analyze.Target, labels []string) ([]analyze.Target, error) {
	up, err := prometheus.TargetsFromUp(ctx, client)
	if err != nil {
		return nil, err
	}
	key := func(t analyze.Target) string {
		parts := []string{t.Job, t.Instance}
		for _, l := range labels {
			parts = append(parts, t.Labels[l])
		}
		return strings.Join(parts, "\x00")
	}
	seen := make(map[string]bool, len(known))
	for _, t := range known {
		seen[key(t)] = true
	}
	var out []analyze.Target
	for _, t := range up {
		if !seen[key(t)] {
			out = append(out, t)
		}
	}
	return out, nil
}

func memberLabels(s FleetSource) []string {
	if len(s.MemberLabels) == 0 {
		return DefaultMemberLabels
	}
	return s.MemberLabels
}

// amend turns the missing targets part of a source whose targets were derived from the up
// series into a note saying what that leaves out.
func amend(src analyze.Source, derived bool) analyze.Source {
	if !derived {
		return src
	}
	src.Missing = slices.DeleteFunc(slices.Clone(src.Missing), func(m analyze.MissingPart) bool { return m.Part == analyze.PartTargets })
	src.Notes = append(src.Notes, "targets: derived from the up series (no targets API): no scrape URLs, "+
		"last errors or dropped targets, and a job with no series at all is not seen")
	return src
}

// split divides a source's inventory into its members: one for a Prometheus or Mimir source,
// one per value of the member labels for a Thanos source. Rule groups of a ruler (shared) are
// added to every member.
func split(inv *analyze.Inventory, s FleetSource, scoped bool, shared []analyze.RuleGroup) []Member {
	base := map[string]string{}
	if scoped {
		base["source"] = inv.Sources[0].Name
	}
	borrowed := map[[2]string]bool{}
	for _, g := range shared {
		borrowed[[2]string{g.File, g.Name}] = true
	}
	if s.Kind != KindThanos {
		if len(shared) > 0 {
			inv.RuleGroups = slices.Concat(inv.RuleGroups, shared)
		}
		return []Member{{Scope: base, Inventory: inv, borrowed: borrowed}}
	}
	labels := memberLabels(s)
	key := func(l map[string]string) (string, map[string]string, bool) {
		vals := make(map[string]string, len(labels))
		var parts []string
		for _, name := range labels {
			v, ok := l[name]
			if !ok {
				return "", nil, false
			}
			vals[name] = v
			parts = append(parts, name+"="+v)
		}
		return strings.Join(parts, ","), vals, true
	}
	type part struct {
		scope   map[string]string
		targets []analyze.Target
		groups  []analyze.RuleGroup
	}
	parts := map[string]*part{}
	get := func(k string, vals map[string]string) *part {
		p, ok := parts[k]
		if !ok {
			scope := maps.Clone(base)
			maps.Copy(scope, vals)
			p = &part{scope: scope}
			parts[k] = p
		}
		return p
	}
	const unlabeled = "\x00"
	for _, t := range inv.Targets {
		k, vals, ok := key(t.Labels)
		if !ok {
			k, vals = unlabeled, nil
		}
		p := get(k, vals)
		p.targets = append(p.targets, t)
	}
	// Rules without the member labels (evaluated by a ruler that has none) cover every member.
	global := slices.Clone(shared)
	for _, g := range inv.RuleGroups {
		byKey := map[string]*analyze.RuleGroup{}
		for _, r := range g.Rules {
			k, vals, ok := key(r.Labels)
			if !ok {
				k = unlabeled
			} else {
				get(k, vals)
			}
			mg, ok := byKey[k]
			if !ok {
				mg = &analyze.RuleGroup{Name: g.Name, File: g.File, Interval: g.Interval, Language: g.Language}
				byKey[k] = mg
			}
			mg.Rules = append(mg.Rules, r)
		}
		for k, mg := range byKey {
			if k == unlabeled {
				global = append(global, *mg)
				continue
			}
			parts[k].groups = append(parts[k].groups, *mg)
		}
	}
	if len(parts) == 0 {
		get(unlabeled, nil)
	}
	keys := slices.Sorted(maps.Keys(parts))
	out := make([]Member, 0, len(keys))
	for i, k := range keys {
		p := parts[k]
		b := analyze.NewBuilder(inv.CollectedAt)
		// The source is listed once, with the first member.
		if i == 0 {
			for _, src := range inv.Sources {
				b.AddSource(src)
			}
		}
		for _, part := range inv.Parts {
			b.AddPart(part)
		}
		for _, sp := range inv.Pools {
			if sp.Configured {
				b.AddScrapeConfig(sp.Name, sp.JobLabel, sp.SDKinds, sp.RelabelRules)
			}
		}
		for _, t := range p.targets {
			b.AddTarget(t)
		}
		for _, g := range slices.Concat(p.groups, global) {
			b.AddRuleGroup(g)
		}
		b.AddMetricNames(inv.MetricNames)
		for m, md := range inv.Metadata {
			b.AddMetadata(m, md)
		}
		for job, ms := range inv.JobMetrics {
			for _, m := range ms {
				b.AddJobMetric(job, m)
			}
		}
		b.SetBuildInfo(inv.Build)
		out = append(out, Member{Scope: p.scope, Inventory: b.Build(), borrowed: borrowed})
	}
	return out
}

// memberRunbookLinks gives a member what the runbook links of its alerting rules answered: as
// a snapshot recorded them, or fetched (once per distinct link across the fleet).
func memberRunbookLinks(ctx context.Context, o FleetOptions, inv *analyze.Inventory) {
	switch {
	case !inv.Has(analyze.PartRules):
	case o.ReplayRunbookLinks != nil:
		inv.SetRunbookLinks(o.ReplayRunbookLinks)
	case o.RunbookLinks != nil:
		o.RunbookLinks.Collect(ctx, inv)
	}
}

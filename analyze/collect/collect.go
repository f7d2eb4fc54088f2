// Package collect runs the collectors a configuration asks for (a live Prometheus and Loki, a
// snapshot, rule and scrape-config files) and assembles one inventory from what they read.
package collect

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect/alertmanager"
	"github.com/blindspot-dev/blindspot/analyze/collect/dashboards"
	"github.com/blindspot-dev/blindspot/analyze/collect/grafana"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/links"
	"github.com/blindspot-dev/blindspot/analyze/collect/loki"
	"github.com/blindspot-dev/blindspot/analyze/collect/promconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/rulefiles"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/dashboard"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// Options say where to read from. A snapshot excludes the live servers (Prometheus, Loki);
// rule files and a scrape configuration may be added to either, or used alone.
type Options struct {
	Prometheus *httpconfig.Options
	// Loki is read concurrently with Prometheus, within the bounds of LokiOptions.
	Loki        *httpconfig.Options
	LokiOptions loki.Options
	// Grafana is read concurrently with Prometheus and Loki: its dashboards are judged as
	// DashboardFiles are.
	Grafana        *httpconfig.Options
	GrafanaOptions grafana.Options

	// Alertmanager is how to reach the Alertmanager whose routing is audited. Its URL may be
	// empty: the first active Alertmanager the live Prometheus reports is read then, with
	// these connection settings. Nil reads no Alertmanager unless the Prometheus reports one.
	Alertmanager *httpconfig.Options

	Snapshot     fs.FS
	SnapshotName string // how the user named the snapshot, for messages
	SnapshotKind string // "snapshot" or "demo"
	// SnapshotRead is the snapshot, already read from Snapshot; Run reads it when nil. The
	// servers of a fleet it holds are left to RunFleet (SnapshotFleet).
	SnapshotRead *snapshot.Snapshot

	RuleFiles            []string
	PrometheusConfigFile string
	// DashboardFiles are Grafana dashboard files or directories (--dashboards).
	DashboardFiles []string

	// History, when set, reads what a live Prometheus stored over the lookback (the history
	// part); a snapshot holds the history read when it was taken, if any.
	History *prometheus.HistoryOptions

	Now    func() time.Time
	Logger *slog.Logger
	// StreamAnswers decodes the large answers of a live Prometheus as they arrive and keeps
	// none of them: for an audit, not a snapshot (Result.Recorder then has no bodies).
	StreamAnswers bool

	// LokiHistory, when set with Loki, reads which jobs' log streams stopped over the
	// history's lookback (the log history part); a snapshot holds it when it was read.
	LokiHistory *loki.HistoryOptions
	// RunbookLinks, when set, fetches the runbook links of the alerting rules read (the runbook
	// links part; checks.runbook_links). A snapshot holds what they answered when it was
	// taken, and is never fetched from.
	RunbookLinks *links.Options
}

// Result is what was collected.
type Result struct {
	Inventory *analyze.Inventory
	// Recorder holds the raw responses of a live Prometheus, for snapshots; nil otherwise.
	Recorder *prometheus.Recorder
	// Loki is what was read from a live Loki, for snapshots; nil otherwise.
	Loki *loki.Result
	// Grafana is what was read from a live Grafana, for snapshots; nil otherwise.
	Grafana *grafana.Result
	// Alertmanager holds the raw answers of a live Alertmanager, for snapshots; nil otherwise.
	Alertmanager *AlertmanagerAnswers
	// History is what was read of a live Prometheus's history, for snapshots; nil when it was
	// not read.
	History *prometheus.HistoryResult
	// Manifest is the snapshot that was read, if any.
	Manifest *snapshot.Manifest
	// RunbookLinks are what the runbook links answered, for snapshots; nil when they were not
	// fetched.
	RunbookLinks []analyze.RunbookLink
}

// Run collects. Its error is reserved for input that cannot be used at all (an unreadable
// snapshot, a malformed rule file); a server that cannot be read is recorded in the inventory.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	res := &Result{}
	var b *analyze.Builder
	// read are the dashboards of PartDashboards, given to the inventory once it is built.
	var read []analyze.Dashboard
	now := o.Now().UTC()

	switch {
	case o.Prometheus != nil && o.Snapshot != nil:
		return nil, fmt.Errorf("a live Prometheus and a snapshot cannot be audited together")
	case o.Loki != nil && o.Snapshot != nil:
		return nil, fmt.Errorf("a live Loki and a snapshot cannot be audited together")
	case o.Grafana != nil && o.Snapshot != nil:
		return nil, fmt.Errorf("a live Grafana and a snapshot cannot be audited together")
	case o.Alertmanager != nil && o.Alertmanager.URL != "" && o.Snapshot != nil:
		return nil, fmt.Errorf("a live Alertmanager and a snapshot cannot be audited together")
	}
	var promClient api.Client
	if o.Prometheus != nil {
		var err error
		if promClient, err = prometheus.NewClient(*o.Prometheus); err != nil {
			return nil, fmt.Errorf("prometheus: %w", err)
		}
		defer httpconfig.CloseIdle(promClient)
	}
	// Loki is read while Prometheus is; the builder is only touched once both are done.
	lokiDone := func() {}
	if o.Loki != nil {
		client, err := loki.NewClient(*o.Loki)
		if err != nil {
			return nil, fmt.Errorf("loki: %w", err)
		}
		defer httpconfig.CloseIdle(client)
		patterns, err := rulesets.SecretPatterns()
		if err != nil {
			return nil, fmt.Errorf("loki: %w", err)
		}
		lokiOpts := o.LokiOptions
		if lokiOpts.End.IsZero() {
			lokiOpts.End = now
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			res.Loki = loki.Read(ctx, client, lokiOpts, patterns, o.Logger)
			if o.LokiHistory != nil {
				ho := *o.LokiHistory
				ho.End = lokiOpts.End
				hr := loki.ReadHistory(ctx, client, ho)
				res.Loki.History = &hr
			}
		}()
		lokiDone = func() { <-done }
	}

	grafanaDone := func() {}
	if o.Grafana != nil {
		client, err := grafana.NewClient(*o.Grafana)
		if err != nil {
			return nil, fmt.Errorf("grafana: %w", err)
		}
		defer httpconfig.CloseIdle(client)
		done := make(chan struct{})
		go func() {
			defer close(done)
			r := grafana.Read(ctx, client, o.GrafanaOptions, o.Logger)
			res.Grafana = &r
		}()
		grafanaDone = func() { <-done }
	}

	// The Prometheus sources read, asked once the dashboards are known which job exposes the
	// metrics the dashboards read.
	var proms []promSource
	switch {
	case o.Prometheus != nil:
		b = analyze.NewBuilder(now)
		res.Recorder = prometheus.NewRecorder(promClient)
		if o.StreamAnswers {
			res.Recorder = prometheus.NewAuditRecorder(promClient)
		}
		src := prometheus.Collect(ctx, res.Recorder, analyze.Source{Name: "prometheus", Kind: "live", URL: o.Prometheus.Redacted()}, b, o.Logger)
		proms = append(proms, promSource{src, res.Recorder})
		if o.History != nil && historyAskable(src) {
			hr := readHistory(ctx, promClient, *o.History, b, src.Name, now)
			hr.AddTo(b, src.Name)
			res.History = &hr
		}
		am, err := readAlertmanager(ctx, o, b.ActiveAlertmanagers(), b)
		if err != nil {
			return nil, err
		}
		res.Alertmanager = am
	case o.Snapshot != nil:
		snap := o.SnapshotRead
		if snap == nil {
			var err error
			if snap, err = snapshot.Read(o.Snapshot, o.SnapshotName); err != nil {
				return nil, err
			}
		}
		res.Manifest = &snap.Manifest
		b = analyze.NewBuilder(snap.Manifest.CreatedAt.UTC())
		kind := o.SnapshotKind
		if kind == "" {
			kind = "snapshot"
		}
		fleetAMs := map[string]bool{}
		for _, src := range snap.Manifest.Sources {
			if src.Fleet != nil && src.Fleet.Alertmanager != "" {
				fleetAMs[src.Fleet.Alertmanager] = true
			}
		}
		for _, src := range snap.Manifest.Sources {
			as := analyze.Source{Name: src.Name, Kind: kind, URL: src.URL}
			if src.Fleet != nil || fleetAMs[src.Name] {
				continue // a server of a fleet, or its Alertmanager: RunFleet reads them
			}
			switch src.Kind {
			case snapshot.KindLoki:
				src.Loki.AddTo(b, as)
				continue
			case snapshot.KindAlertmanager:
				alertmanager.Collect(snapshot.Responses(src), as, b)
				continue
			case snapshot.KindGrafana:
				if err := addGrafana(b, &read, as, src.Grafana); err != nil {
					return nil, fmt.Errorf("snapshot %s: %w", o.SnapshotName, err)
				}
				continue
			}
			rec := prometheus.NewRecorder(prometheus.NewReplay(snapshot.Responses(src)))
			proms = append(proms, promSource{prometheus.Collect(ctx, rec, as, b, o.Logger), rec})
			if src.History != nil {
				src.History.AddTo(b, as.Name)
			}
		}
	default:
		b = analyze.NewBuilder(now)
		am, err := readAlertmanager(ctx, o, nil, b)
		if err != nil {
			return nil, err
		}
		res.Alertmanager = am
	}
	lokiDone()
	if res.Loki != nil {
		res.Loki.AddTo(b, analyze.Source{Name: "loki", Kind: "live", URL: o.Loki.Redacted()})
	}
	grafanaDone()
	if res.Grafana != nil {
		if err := addGrafana(b, &read, analyze.Source{Name: "grafana", Kind: "live", URL: o.Grafana.Redacted()}, res.Grafana); err != nil {
			return nil, fmt.Errorf("grafana %s: %w", o.Grafana.Redacted(), err)
		}
	}

	if len(o.RuleFiles) > 0 {
		loaded, err := rulefiles.Load(o.RuleFiles)
		if err != nil {
			return nil, err
		}
		src := analyze.Source{Name: "rules", Kind: "files", URL: strings.Join(o.RuleFiles, ",")}
		for _, s := range loaded.Skipped {
			src.Notes = append(src.Notes, fmt.Sprintf("skipped %s: %s", s.File, s.Reason))
		}
		for _, g := range loaded.Groups {
			if g.Language != "promql" {
				src.Notes = append(src.Notes, fmt.Sprintf("skipped group %q in %s: not PromQL (type %s)", g.Name, g.File, g.Language))
			}
			b.AddRuleGroup(g)
		}
		b.AddSource(src)
		b.AddPart(analyze.PartRules)
	}
	if o.PrometheusConfigFile != "" {
		cfg, err := promconfig.LoadFile(o.PrometheusConfigFile)
		if err != nil {
			return nil, err
		}
		addScrapeConfigFile(b, cfg, o.PrometheusConfigFile)
	}
	if len(o.DashboardFiles) > 0 {
		ds, skipped, err := dashboards.Load(o.DashboardFiles)
		if err != nil {
			return nil, err
		}
		src := analyze.Source{Name: "dashboards", Kind: "files", URL: strings.Join(o.DashboardFiles, ",")}
		for _, s := range skipped {
			src.Notes = append(src.Notes, fmt.Sprintf("skipped %s: %s", s.File, s.Reason))
		}
		b.AddSource(src)
		b.AddPart(analyze.PartDashboards)
		read = append(read, ds...)
		if read == nil {
			read = []analyze.Dashboard{}
		}
	}
	exposure := exposures(ctx, proms, read)
	addKubernetes(ctx, b, proms)
	res.Inventory = b.Build()
	res.Inventory.Dashboards = read
	runbookLinks(ctx, o, res)
	addExposures(res.Inventory, proms, exposure)
	noteMergedView(res.Inventory)
	return res, nil
}

// addScrapeConfigFile adds the scrape configs of the prometheus.yml at path, and the file as
// the source of the config part.
func addScrapeConfigFile(b *analyze.Builder, cfg promconfig.Config, path string) {
	for _, j := range cfg.Jobs {
		b.AddScrapeConfig(j.Name, j.JobLabel, j.SDKinds, j.RelabelRules)
	}
	b.AddSource(analyze.Source{Name: "prometheus-config", Kind: "files", URL: path})
	b.AddPart(analyze.PartConfig)
}

// noteMergedView says when the one Prometheus-compatible server of a single-server audit
// looks like several merged into one view that blindspot cannot split: it serves targets but
// no scrape configuration (as a Thanos Query does), and its targets carry several values of
// the member labels. A rule then seems to cover the jobs of every server, though each server
// evaluates its own rules. Thanos Query is recognised and split before this (Recognise); this
// is a view without a store listing.
func noteMergedView(inv *analyze.Inventory) {
	if !inv.Has(analyze.PartTargets) || inv.Has(analyze.PartConfig) {
		return
	}
	for i, src := range inv.Sources {
		if !slices.ContainsFunc(src.Missing, func(m analyze.MissingPart) bool { return m.Part == analyze.PartConfig }) {
			continue
		}
		for _, l := range DefaultMemberLabels {
			values := map[string]bool{}
			for _, t := range inv.Targets {
				if v, ok := t.Labels[l]; ok {
					values[v] = true
				}
			}
			if len(values) < 2 {
				continue
			}
			inv.Sources[i].Notes = append(inv.Sources[i].Notes, fmt.Sprintf(
				"targets carry %d values of %s (%s) and no scrape configuration is served: this looks like several Prometheus servers merged into one view, "+
					"which blindspot cannot split here (no /api/v1/stores), so a rule of one seems to cover the jobs of all; audit each server, or the Thanos Query with kind: thanos",
				len(values), l, strings.Join(slices.Sorted(maps.Keys(values)), ", ")))
		}
	}
}

// promSource is a Prometheus source that was read, and the client its answers came through.
type promSource struct {
	src analyze.Source
	rec *prometheus.Recorder
}

// exposures asks each Prometheus which job exposes the metrics the dashboards read: the
// query group made once both are read (a Grafana is read while the Prometheus is). Nothing is
// asked without dashboards; a source that is not asked has an Exposure without Jobs.
func exposures(ctx context.Context, proms []promSource, ds []analyze.Dashboard) []prometheus.Exposure {
	names := dashboard.MetricNames(ds)
	if len(names) == 0 {
		return nil
	}
	out := make([]prometheus.Exposure, len(proms))
	for i, p := range proms {
		// A server whose job_metrics queries failed or are not served (or that could not be
		// reached) would fail these as well.
		failed := slices.ContainsFunc(p.src.Errors, func(e analyze.SourceError) bool { return e.Part == analyze.PartJobMetrics }) ||
			slices.ContainsFunc(p.src.Missing, func(m analyze.MissingPart) bool { return m.Part == analyze.PartJobMetrics })
		if !failed {
			out[i] = prometheus.CollectExposure(ctx, p.rec, names)
		}
	}
	return out
}

// addKubernetes reads what kube-state-metrics exposed through each Prometheus source whose
// queries can be answered, and keeps the first cluster found.
func addKubernetes(ctx context.Context, b *analyze.Builder, proms []promSource) {
	for _, p := range proms {
		if slices.ContainsFunc(p.src.Errors, func(e analyze.SourceError) bool { return e.Part == analyze.PartJobMetrics }) ||
			slices.ContainsFunc(p.src.Missing, func(m analyze.MissingPart) bool { return m.Part == analyze.PartJobMetrics }) {
			continue
		}
		r := prometheus.CollectKubernetes(ctx, p.rec)
		if r.OK && r.Kubernetes.Ready() && b.HasKubernetes() {
			continue
		}
		r.AddTo(b, p.src.Name)
	}
}

// addExposures gives the inventory what the Prometheus sources answered about the
// dashboards' metrics (ExposedBy: a name counts as known when every source that could be
// asked answered it), and tells on each source what it could not answer.
func addExposures(inv *analyze.Inventory, proms []promSource, exps []prometheus.Exposure) {
	if len(exps) == 0 {
		return
	}
	var asked int
	known := map[string]int{}
	jobs := map[string][]string{}
	for i, e := range exps {
		if e.Jobs == nil {
			continue // not asked: its job_metrics queries failed already
		}
		asked++
		for name, js := range e.Jobs {
			known[name]++
			jobs[name] = append(jobs[name], js...)
		}
		at := slices.IndexFunc(inv.Sources, func(s analyze.Source) bool {
			return s.Name == proms[i].src.Name && s.Kind == proms[i].src.Kind && s.URL == proms[i].src.URL
		})
		if at < 0 {
			continue
		}
		src := &inv.Sources[at]
		if e.Unanswered > 0 {
			src.Notes = append(src.Notes, fmt.Sprintf("which jobs expose %d metrics the dashboards read is unknown (%s): a panel is taken to show every job its job matchers accept", e.Unanswered, e.Why))
		}
		if e.Err != nil {
			src.Errors = append(src.Errors, analyze.SourceError{Part: analyze.PartJobMetrics, Err: e.Err.Error()})
		}
	}
	if asked == 0 {
		return
	}
	inv.ExposedBy = map[string][]string{}
	for name, n := range known {
		if n == asked {
			js := jobs[name]
			slices.Sort(js)
			inv.ExposedBy[name] = slices.Compact(js)
		}
	}
}

// addGrafana adds what was read from a Grafana (live or from a snapshot). A Grafana that could
// not be read completely is a source error and its dashboards are not judged: a coverage
// verdict on part of them would report jobs their missing dashboards watch.
func addGrafana(b *analyze.Builder, boards *[]analyze.Dashboard, src analyze.Source, r *grafana.Result) error {
	src.Notes = append(src.Notes, r.Notes...)
	if r.Err != nil {
		src.Errors = append(src.Errors, analyze.SourceError{Part: analyze.PartDashboards, Err: r.Err.Error()})
		b.AddSource(src)
		return nil
	}
	ds, notes, err := grafana.Parse(r.Dashboards)
	if err != nil {
		return err
	}
	src.Notes = append(src.Notes, notes...)
	read := fmt.Sprintf("%d dashboards read", len(r.Dashboards))
	if len(r.Dashboards) == 1 {
		read = "1 dashboard read"
	}
	src.Notes = append(src.Notes, read)
	b.AddSource(src)
	b.AddPart(analyze.PartDashboards)
	*boards = append(*boards, ds...)
	if *boards == nil {
		*boards = []analyze.Dashboard{}
	}
	return nil
}

// AlertmanagerAnswers are the raw answers of the Alertmanager that was read.
type AlertmanagerAnswers struct {
	URL       string
	Responses []prometheus.Response
}

// readAlertmanager reads the configured Alertmanager or, without a configured URL, the first
// of the active ones Prometheus reports. With neither it reads nothing.
func readAlertmanager(ctx context.Context, o Options, reported []string, b *analyze.Builder) (*AlertmanagerAnswers, error) {
	var opts httpconfig.Options
	if o.Alertmanager != nil {
		opts = *o.Alertmanager
	}
	src := analyze.Source{Name: "alertmanager", Kind: "live"}
	discovered := opts.URL == ""
	if discovered {
		if len(reported) == 0 {
			return nil, nil
		}
		opts.URL = alertmanager.BaseURL(reported[0])
		src.Notes = append(src.Notes, "the Alertmanager Prometheus sends to (alertmanager.url is not set)")
		if len(reported) > 1 {
			src.Notes = append(src.Notes, fmt.Sprintf("Prometheus sends to %d Alertmanagers; the first was read", len(reported)))
		}
	}
	src.URL = opts.Redacted()
	responses, err := alertmanager.Fetch(ctx, opts)
	switch {
	case err != nil && discovered:
		// The URL is what the server reported, not what the user configured: it is an
		// answer that cannot be used, and the rest of the audit goes on.
		responses = alertmanager.Unusable(fmt.Errorf("the Alertmanager URL Prometheus reports cannot be read: %w", err))
	case err != nil:
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	alertmanager.Collect(responses, src, b)
	return &AlertmanagerAnswers{URL: src.URL, Responses: responses}, nil
}

// runbookLinks gives the inventory what the runbook links of its alerting rules answered: as a
// snapshot recorded it, or fetched when o asks for it and no snapshot is read.
func runbookLinks(ctx context.Context, o Options, res *Result) {
	switch {
	case res.Manifest != nil:
		if res.Manifest.RunbookLinks != nil {
			res.Inventory.SetRunbookLinks(res.Manifest.RunbookLinks)
		}
	case o.RunbookLinks != nil && res.Inventory.Has(analyze.PartRules):
		links.Collect(ctx, res.Inventory, *o.RunbookLinks)
		res.RunbookLinks = res.Inventory.RunbookLinks
		if res.RunbookLinks == nil {
			res.RunbookLinks = []analyze.RunbookLink{}
		}
	}
}

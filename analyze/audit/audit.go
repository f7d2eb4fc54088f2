// Package audit is the audit pipeline every command runs: it reads the servers and the sources
// they share, judges one member at a time with the configured checks, and builds the report
// or the generated files from the judgements. A single server is a fleet with one member and
// an empty scope: its findings are those of a single-server audit.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/links"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/analyze/logmatch"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// Request is one audit: the servers, the sources they share, the checks and the policy to
// judge them with.
type Request struct {
	// Servers are the Prometheus-compatible servers to audit, one per entry of `prometheus:`.
	// One server of no kind is asked what it is first (collect.Recognise): a Thanos Query or
	// a Mimir named by URL is audited as one. None: the sources alone, or a snapshot.
	Servers []collect.FleetSource
	// Concurrency bounds how many servers are read at once (the collector's default when 0).
	Concurrency int
	// Sources are what every server shares: Loki, Grafana, the Alertmanager's settings, rule
	// files, a scrape configuration, dashboard files, or a snapshot (or the demo) instead of
	// live servers. Its Prometheus is set by the audit, from Servers.
	Sources collect.Options
	// Checks configure the checks; Policy disables, re-rates and ignores their findings.
	Checks checks.Options
	Policy checks.Policy
	// Now is the time the report is made at (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// defaults fills what the request leaves unset.
func (r *Request) defaults() {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	r.Sources.Logger = r.Logger
}

// Member is one member of the audit judged: a server, one member of a Thanos source, or (for
// a fleet) the sources the members share, judged on their own for the findings no member
// explains.
type Member struct {
	// Scope holds the subject keys naming the member ("source", member labels); empty for a
	// single server and for the shared sources.
	Scope map[string]string
	// Shared marks the judgement of the shared sources of a fleet.
	Shared    bool
	Inventory *analyze.Inventory
	// Checks are the checks the member was judged with, disabled ones included.
	Checks []checks.Check
	Judgement
	// fleet marks a member of a fleet, even of a fleet of one.
	fleet bool
	// generating are the findings the member's files are generated from: its own findings
	// and the secrets in streams of no member's job, which every member's log agents see and
	// mask (the shared judgement reports them once). Nil when they are Result.Findings.
	generating []analyze.Finding
	// live is the live Prometheus a single server's audit read, with its history: the one
	// the generated alerts are backtested on. Nil otherwise.
	live *httpconfig.Options
}

// Name is how the member is named in messages and directory names ("" for a single server).
func (m Member) Name() string { return report.MemberName(m.Scope) }

// Report is the member's report.
func (m Member) Report(now time.Time) report.Report {
	return report.BuildMember(report.Input{
		Inventory:  m.Inventory,
		Result:     m.Result,
		Checks:     m.Checks,
		Matrix:     m.Matrix,
		Pages:      m.Pages,
		Now:        now,
		Dashboards: m.Dashboards,
	}, m.Scope)
}

// Unread lists the sources of the member that were not read completely: "name url: first error".
func (m Member) Unread() []string { return unread(m.Inventory.Sources) }

func unread(srcs []analyze.Source) []string {
	var out []string
	for _, s := range srcs {
		if !s.OK() {
			out = append(out, fmt.Sprintf("%s %s: %s", s.Name, s.URL, s.Errors[0].Err))
		}
	}
	return out
}

// UnreadError is a refusal to go on from sources that were not read completely.
type UnreadError struct{ Sources []string }

func (e *UnreadError) Error() string { return "could not read " + strings.Join(e.Sources, "; ") }

// Judgement is what the checks make of one inventory.
type Judgement struct {
	Result checks.Result
	// Matrix is the coverage of every job; Pages the paging receivers each job's alerts
	// reach (nil when the routing is unknown); Dashboards the titles of the dashboards
	// querying each job (nil when none were read).
	Matrix     []coverage.JobCoverage
	Pages      map[string][]string
	Dashboards map[string][]string
}

// judge runs the checks over one inventory, with what they derive from it computed once: the
// one place the checks are run.
func judge(inv *analyze.Inventory, o checks.Options, all []checks.Check, p checks.Policy) Judgement {
	d := checks.Derive(inv, o)
	return Judgement{
		Result: checks.Run(inv, d, all, p),
		Matrix: d.Matrix,
		Pages:  d.Pages,
		// Only the dashboards the check judged: none when the source failed.
		Dashboards: d.Dashboards,
	}
}

// Each audits what the request names and calls fn with every member as soon as it is judged,
// one call at a time; a fleet's members come in the order their servers answered, and the
// judgement of the sources they share comes last. An error of fn stops the calls and is
// returned.
func Each(ctx context.Context, req Request, fn func(Member) error) error {
	_, err := each(ctx, req, fn)
	return err
}

// each is Each, saying whether the request named a fleet.
func each(ctx context.Context, req Request, fn func(Member) error) (bool, error) {
	req.defaults()
	fo, err := fleetOf(ctx, &req)
	if err != nil {
		return false, err
	}
	if fo == nil {
		return false, single(ctx, req, fn)
	}
	return true, fleet(ctx, req, fo, fn)
}

// fleetOf describes the fleet the request names: several servers, a server of another kind
// than Prometheus (explicit or recognised), or a snapshot of a fleet. It returns nil for one
// Prometheus server or none, which collect.Run reads; a single-server snapshot it read to tell
// is kept in req for the collector.
func fleetOf(ctx context.Context, req *Request) (*collect.FleetOptions, error) {
	servers := slices.Clone(req.Servers)
	if len(servers) == 1 && servers[0].Kind == "" && servers[0].Role == "" {
		servers[0] = collect.Recognise(ctx, servers[0], req.Logger)
	}
	if len(servers) == 1 && servers[0].Kind == collect.KindPrometheus && servers[0].Role == "" && servers[0].Replay == nil && servers[0].Alertmanager == nil {
		opts := servers[0].HTTP
		req.Sources.Prometheus = &opts
		return nil, nil
	}
	var now func() time.Time
	if len(servers) == 0 {
		if req.Sources.Snapshot == nil || req.Sources.SnapshotKind == "demo" {
			return nil, nil
		}
		snap, err := snapshot.Read(req.Sources.Snapshot, req.Sources.SnapshotName)
		if err != nil {
			return nil, err
		}
		req.Sources.SnapshotRead = snap
		if !snap.Manifest.IsFleet() {
			return nil, nil
		}
		servers = collect.SnapshotFleet(snap.Manifest)
		created := snap.Manifest.CreatedAt
		now = func() time.Time { return created }
	}
	if req.Concurrency < 0 {
		return nil, fmt.Errorf("fleet_concurrency %d: want the number of servers read at once, at least 1", req.Concurrency)
	}
	fo := &collect.FleetOptions{
		Sources: servers, Concurrency: req.Concurrency, Now: now, Logger: req.Logger,
		// Each member is read with the Alertmanager its Prometheus reports, and judged
		// against the scrape configuration, as a single server is.
		Alertmanager:         req.Sources.Alertmanager,
		PrometheusConfigFile: req.Sources.PrometheusConfigFile,
		History:              req.Sources.History,
	}
	switch {
	case req.Sources.SnapshotRead != nil:
		fo.ReplayRunbookLinks = req.Sources.SnapshotRead.Manifest.RunbookLinks
	case req.Sources.RunbookLinks != nil:
		fo.RunbookLinks = links.NewChecker(*req.Sources.RunbookLinks)
	}
	if err := fo.Validate(); err != nil {
		return nil, err
	}
	return fo, nil
}

// single audits one Prometheus server, a snapshot of one, or the sources alone: a fleet of
// one member with an empty scope.
func single(ctx context.Context, req Request, fn func(Member) error) error {
	o := req.Sources
	o.StreamAnswers = true // no snapshot is taken of what an audit reads (Record keeps the answers)
	res, err := collect.Run(ctx, o)
	if err != nil {
		return err
	}
	logStreamMatches(req, res.Inventory)
	all := checks.All(req.Checks)
	m := Member{Inventory: res.Inventory, Checks: all, Judgement: judge(res.Inventory, req.Checks, all, req.Policy)}
	if o.Prometheus != nil && o.History != nil {
		m.live = o.Prometheus
	}
	return fn(m)
}

// fleet audits a fleet, one member at a time as the servers are read. The shared sources are
// read once, and judged once more on their own after the members, for the findings no member
// explains (rule files' rules, secrets in streams of no member's job).
func fleet(ctx context.Context, req Request, fo *collect.FleetOptions, fn func(Member) error) error {
	shared, err := readShared(ctx, req)
	if err != nil {
		return err
	}
	all := checks.All(req.Checks)
	fo.Shared = shared.Inventory
	claimed := map[[2]string]bool{}
	var fnErr error
	err = collect.RunFleet(ctx, *fo, func(m collect.Member) {
		if fnErr != nil {
			return
		}
		p := req.Policy
		p.Scope = m.Scope
		j := judge(m.Inventory, req.Checks, all, p)
		owns := func(f analyze.Finding) bool { return m.Owns(f) && !unclaimedSecret(f) }
		generating := slices.DeleteFunc(slices.Clone(j.Result.Findings), func(f analyze.Finding) bool { return !m.Owns(f) })
		j.Result.Findings = slices.DeleteFunc(j.Result.Findings, func(f analyze.Finding) bool { return !owns(f) })
		j.Result.Suppressed = slices.DeleteFunc(j.Result.Suppressed, func(s checks.Suppressed) bool { return !owns(s.Finding) })
		for _, f := range slices.Concat(j.Result.Findings, suppressedFindings(j.Result.Suppressed)) {
			if f.Check == checks.LogsSecretsName {
				claimed[secretKey(f)] = true
			}
		}
		fnErr = fn(Member{Scope: m.Scope, Inventory: m.Inventory, Checks: all, Judgement: j, fleet: true, generating: generating})
	})
	if err != nil {
		return err
	}
	if fnErr != nil {
		return fnErr
	}
	if len(shared.Inventory.Sources) == 0 {
		return nil
	}
	if fo.RunbookLinks != nil {
		fo.RunbookLinks.Collect(ctx, shared.Inventory)
	}
	j := judge(shared.Inventory, req.Checks, all, req.Policy)
	// A secret in a stream of some member's job was reported by that member.
	j.Result.Findings = slices.DeleteFunc(j.Result.Findings, func(f analyze.Finding) bool { return claimed[secretKey(f)] })
	j.Result.Suppressed = slices.DeleteFunc(j.Result.Suppressed, func(s checks.Suppressed) bool { return claimed[secretKey(s.Finding)] })
	// The checks that need a server ran for the members; none is skipped for lack of one.
	j.Result.Skipped = nil
	// The members compared the stopped log streams with their targets; the shared sources
	// alone have none to compare with.
	j.Result.Findings = slices.DeleteFunc(j.Result.Findings, func(f analyze.Finding) bool { return f.Check == checks.LogsStoppedName })
	j.Result.Suppressed = slices.DeleteFunc(j.Result.Suppressed, func(s checks.Suppressed) bool { return s.Finding.Check == checks.LogsStoppedName })
	return fn(Member{Shared: true, Inventory: shared.Inventory, Checks: all, Judgement: j, fleet: true})
}

// readShared reads once what every member of a fleet shares: Loki, Grafana, dashboard and
// rule files, or what a fleet's snapshot holds of Loki and Grafana.
func readShared(ctx context.Context, req Request) (*collect.Result, error) {
	o := req.Sources
	o.Prometheus = nil
	// Each member reads its own Alertmanager, and is judged against the scrape configuration.
	o.Alertmanager = nil
	o.PrometheusConfigFile = ""
	// The members' checker fetches the links of the rule files with theirs, once.
	o.RunbookLinks = nil
	res, err := collect.Run(ctx, o)
	if err != nil {
		return nil, err
	}
	logStreamMatches(req, res.Inventory)
	return res, nil
}

// unclaimedSecret is a secret found in a log stream of none of a member's jobs: the shared
// Loki's own Judgement reports it, once, unless another member's job claims the stream.
func unclaimedSecret(f analyze.Finding) bool {
	return f.Check == checks.LogsSecretsName && f.Subject["job"] == ""
}

func secretKey(f analyze.Finding) [2]string {
	if f.Check != checks.LogsSecretsName {
		return [2]string{}
	}
	return [2]string{f.Subject["stream"], f.Subject["pattern"]}
}

func suppressedFindings(s []checks.Suppressed) []analyze.Finding {
	out := make([]analyze.Finding, len(s))
	for i, x := range s {
		out[i] = x.Finding
	}
	return out
}

// logStreamMatches shows at debug level (--verbose) which label pair related each job to its
// Loki streams, so that a surprising logs/unaggregated finding can be explained.
func logStreamMatches(req Request, inv *analyze.Inventory) {
	if !inv.Has(analyze.PartLogStreams) {
		return
	}
	for _, j := range inv.Jobs {
		m := logmatch.Job(inv, j.Name, req.Checks.LogPairs)
		if !m.Matched() {
			req.Logger.Debug("no Loki stream for job", "job", j.Name)
			continue
		}
		req.Logger.Debug("Loki streams of job", "job", j.Name, "pair", m.Pair.String(), "streams", len(m.Streams))
	}
}

package audit

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

// Recording is what Record read, to be written as a snapshot.
type Recording struct {
	// Manifest is the snapshot; its ToolVersion is left to the caller.
	Manifest snapshot.Manifest
	// Fleet says whether the servers were recorded as a fleet.
	Fleet bool
	// Collected is what was read besides the servers of a fleet: with one Prometheus, that
	// server and the sources read alongside it.
	Collected *collect.Result
	// Endpoints counts the answers of the fleet's servers.
	Endpoints int
	// Unread lists the members of a fleet that were not read completely, sorted.
	Unread []string
}

// Record reads the servers of the request and the sources they share once, keeping their raw
// answers, so that an audit of the snapshot judges the same servers (a fleet with every
// server's name, kind, role and member labels) with the same findings.
func Record(ctx context.Context, req Request) (Recording, error) {
	req.defaults()
	fo, err := fleetOf(ctx, &req)
	if err != nil {
		return Recording{}, err
	}
	if fo == nil {
		return recordOne(ctx, req)
	}
	shared, err := readShared(ctx, req)
	if err != nil {
		return Recording{}, err
	}
	now := req.Now().UTC()
	fo.Now = func() time.Time { return now }
	var mu sync.Mutex
	recorded := map[string][]prometheus.Response{}
	alertmanagers := map[string]*collect.AlertmanagerAnswers{}
	histories := map[string]*prometheus.HistoryResult{}
	fo.Record = func(s collect.FleetSource, r []prometheus.Response) {
		mu.Lock()
		defer mu.Unlock()
		recorded[s.Name] = r
	}
	fo.RecordHistory = func(s collect.FleetSource, h *prometheus.HistoryResult) {
		mu.Lock()
		defer mu.Unlock()
		histories[s.Name] = h
	}
	fo.RecordAlertmanager = func(s collect.FleetSource, am *collect.AlertmanagerAnswers) {
		mu.Lock()
		defer mu.Unlock()
		alertmanagers[s.Name] = am
	}
	var failed []string
	err = collect.RunFleet(ctx, *fo, func(m collect.Member) {
		failed = append(failed, unread(m.Inventory.Sources)...)
	})
	if err != nil {
		return Recording{}, err
	}
	rec := Recording{Manifest: snapshot.Manifest{CreatedAt: now}, Fleet: true, Collected: shared}
	for _, s := range fo.Sources {
		responses, am, history := recorded[s.Name], alertmanagers[s.Name], histories[s.Name]
		if s.Name == "" {
			s.Name = "prometheus" // the one source of a fleet of one, as the audit names it
		}
		src := collect.SnapshotSource(s, responses)
		src.History = history
		rec.Endpoints += len(responses)
		if am == nil {
			rec.Manifest.Sources = append(rec.Manifest.Sources, src)
			continue
		}
		// The server's own Alertmanager, in a directory beside the server's.
		src.Fleet.Alertmanager = s.Name + ".alertmanager"
		rec.Manifest.Sources = append(rec.Manifest.Sources, src, collect.SnapshotAlertmanager(src.Fleet.Alertmanager, am))
	}
	rec.Manifest.Sources = append(rec.Manifest.Sources, collectedSources(shared)...)
	if fo.RunbookLinks != nil {
		rec.Manifest.RunbookLinks = fo.RunbookLinks.Links()
	}
	slices.Sort(failed)
	rec.Unread = failed
	return rec, nil
}

// Failed lists what a fleet's snapshot could not read completely: its members (Unread), then
// the sources they share, "name url: first error" each.
func (r Recording) Failed() []string {
	return append(slices.Clone(r.Unread), unread(r.Collected.Inventory.Sources)...)
}

// recordOne records one Prometheus server and the sources read alongside it.
func recordOne(ctx context.Context, req Request) (Recording, error) {
	res, err := collect.Run(ctx, req.Sources)
	if err != nil {
		return Recording{}, err
	}
	src := res.Inventory.Sources[0]
	m := snapshot.Manifest{
		CreatedAt: res.Inventory.CollectedAt,
		Sources:   []snapshot.Source{{Name: src.Name, Kind: snapshot.KindPrometheus, URL: src.URL, History: res.History}},
	}
	for _, r := range res.Recorder.Responses() {
		m.Sources[0].Responses = append(m.Sources[0].Responses, snapshot.Response{Response: r})
	}
	m.Sources = append(m.Sources, collectedSources(res)...)
	m.RunbookLinks = res.RunbookLinks
	// An Alertmanager is stored as its raw answers, like the Prometheus.
	if res.Alertmanager != nil {
		amSrc := snapshot.Source{Name: "alertmanager", Kind: snapshot.KindAlertmanager, URL: res.Alertmanager.URL}
		for _, r := range res.Alertmanager.Responses {
			amSrc.Responses = append(amSrc.Responses, snapshot.Response{Response: r})
		}
		m.Sources = append(m.Sources, amSrc)
	}
	return Recording{Manifest: m, Collected: res}, nil
}

// collectedSources are the sources of a snapshot whose raw answers are not stored: a Loki as
// what was collected (masked), never as raw answers; a Grafana as the dashboards it answered.
func collectedSources(res *collect.Result) []snapshot.Source {
	var out []snapshot.Source
	if res.Loki != nil {
		lokiSrc := res.Inventory.Sources[slices.IndexFunc(res.Inventory.Sources, func(s analyze.Source) bool { return s.Name == "loki" })]
		out = append(out, snapshot.Source{Name: lokiSrc.Name, Kind: snapshot.KindLoki, URL: lokiSrc.URL, Loki: res.Loki})
	}
	if res.Grafana != nil {
		grafanaSrc := res.Inventory.Sources[slices.IndexFunc(res.Inventory.Sources, func(s analyze.Source) bool { return s.Name == "grafana" })]
		out = append(out, snapshot.Source{Name: grafanaSrc.Name, Kind: snapshot.KindGrafana, URL: grafanaSrc.URL, Grafana: res.Grafana})
	}
	return out
}

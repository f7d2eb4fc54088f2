package collect

import (
	"slices"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

// SnapshotFleet returns the servers of a fleet a snapshot holds, answered from their recorded
// responses, in the order the snapshot lists them; none for a single-server snapshot.
func SnapshotFleet(m snapshot.Manifest) []FleetSource {
	var out []FleetSource
	for _, src := range m.Sources {
		if src.Fleet == nil {
			continue
		}
		replay := snapshot.Responses(src)
		if replay == nil {
			replay = []prometheus.Response{} // a server that answered nothing is still replayed
		}
		var am *AlertmanagerAnswers
		if i := slices.IndexFunc(m.Sources, func(s snapshot.Source) bool { return s.Name == src.Fleet.Alertmanager }); src.Fleet.Alertmanager != "" && i >= 0 {
			am = &AlertmanagerAnswers{URL: m.Sources[i].URL, Responses: snapshot.Responses(m.Sources[i])}
		}
		out = append(out, FleetSource{
			ReplayAlertmanager: am,
			Name:               src.Name,
			Kind:               SourceKind(src.Fleet.Kind),
			Role:               src.Fleet.Role,
			HTTP:               httpconfig.Options{URL: src.URL},
			MemberLabels:       slices.Clone(src.Fleet.MemberLabels),
			Replay:             replay,
			Notes:              slices.Clone(src.Fleet.Recognised),
			Refused:            src.Fleet.Refused,
			History:            src.History,
		})
	}
	return out
}

// SnapshotAlertmanager describes the Alertmanager of a fleet source in a snapshot's manifest,
// with the answers it gave; the source's entry names it (FleetServer.Alertmanager).
func SnapshotAlertmanager(name string, am *AlertmanagerAnswers) snapshot.Source {
	src := snapshot.Source{Name: name, Kind: snapshot.KindAlertmanager, URL: am.URL}
	for _, r := range am.Responses {
		src.Responses = append(src.Responses, snapshot.Response{Response: r})
	}
	return src
}

// SnapshotSource describes a fleet source in a snapshot's manifest, with the answers it gave.
func SnapshotSource(s FleetSource, responses []prometheus.Response) snapshot.Source {
	src := snapshot.Source{
		Name:  s.Name,
		Kind:  snapshot.KindPrometheus,
		URL:   s.HTTP.Redacted(),
		Fleet: &snapshot.FleetServer{Kind: string(s.Kind), Role: s.Role, MemberLabels: s.MemberLabels, Recognised: s.Notes, Refused: s.Refused},
	}
	if src.Fleet.Kind == "" {
		src.Fleet.Kind = string(KindPrometheus)
	}
	for _, r := range responses {
		src.Responses = append(src.Responses, snapshot.Response{Response: r})
	}
	return src
}

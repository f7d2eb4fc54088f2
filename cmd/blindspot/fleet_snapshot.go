package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/collect/prometheus"
	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
)

// snapshotFleet writes one snapshot of every server of a fleet (their raw answers, Thanos
// stores included, each with its fleet name, kind, role and member labels) and of the
// sources they share, so that `audit --from` audits it as the same fleet.
func (a *app) snapshotFleet(ctx context.Context, fo *collect.FleetOptions, out string) error {
	shared, err := a.fleetShared(ctx, sourceFlags{})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	fo.Now = func() time.Time { return now }
	fo.Logger = a.logger
	var mu sync.Mutex
	recorded := map[string][]prometheus.Response{}
	fo.Record = func(s collect.FleetSource, r []prometheus.Response) {
		mu.Lock()
		defer mu.Unlock()
		recorded[s.Name] = r
	}
	var failed []string
	err = collect.RunFleet(ctx, *fo, func(m collect.Member) {
		failed = append(failed, unreadable(m.Inventory.Sources)...)
	})
	if err != nil {
		return usageError(err)
	}
	m := snapshot.Manifest{ToolVersion: toolVersion(), CreatedAt: now}
	endpoints := 0
	for _, s := range fo.Sources {
		responses := recorded[s.Name]
		if s.Name == "" {
			s.Name = "prometheus" // the one source of a fleet of one, as the audit names it
		}
		m.Sources = append(m.Sources, collect.SnapshotSource(s, responses))
		endpoints += len(responses)
	}
	m.Sources = append(m.Sources, collectedSources(shared)...)
	if err := snapshot.Write(out, m); err != nil {
		return usageError(err)
	}
	slices.Sort(failed)
	fmt.Fprintf(a.stdout, "wrote snapshot of %d servers to %s (%d endpoints, %d servers with errors)\n", len(fo.Sources), out, endpoints, len(failed))
	a.printCollected(m, shared)
	failed = append(failed, unreadable(shared.Inventory.Sources)...)
	if len(failed) > 0 {
		return sourceError(fmt.Errorf("snapshot is partial: could not read %s", strings.Join(failed, "; ")))
	}
	return nil
}

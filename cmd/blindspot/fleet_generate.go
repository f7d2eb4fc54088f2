package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/report"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/bundle"
	"github.com/blindspot-dev/blindspot/generate/rules"
)

// fleetFiles generates the files of every member of the fleet the configuration names, each
// member's bundle in a directory of its own named after it (memberDir), so each can be
// deployed to its own server and its links (runbooks, dashboards) stay within it. When the
// fleet has a ruler, the rules of a Thanos cluster carry its labels in every selector: they
// are for that ruler, which sees every cluster (on the cluster's own Prometheus, whose series
// lack the external labels, they would never fire). It returns
// the files, the directories blindspot manages under the output directory, and false when
// the configuration names one plain server.
func (a *app) fleetFiles(ctx context.Context, src *sourceFlags, gopts generate.Options) ([]generate.File, []string, bool, error) {
	fo, err := a.fleetSources(ctx, src)
	if err != nil {
		return nil, nil, true, err
	}
	if fo == nil {
		return nil, nil, false, nil
	}
	if _, _, err := a.cfg.checkSuite(); err != nil {
		return nil, nil, true, usageError(err)
	}
	shared, err := a.fleetShared(ctx, *src)
	if err != nil {
		return nil, nil, true, err
	}
	if f := unreadable(shared.Inventory.Sources); len(f) > 0 {
		return nil, nil, true, notGenerating(f)
	}
	all, policy, err := a.cfg.checkSuite()
	if err != nil {
		return nil, nil, true, usageError(err)
	}
	fo.Logger = a.logger
	fo.Shared = shared.Inventory
	ruler := slices.ContainsFunc(fo.Sources, func(s collect.FleetSource) bool { return s.Role == collect.RoleRuler })
	var (
		files    []generate.File
		managed  []string
		firstErr error
		failed   []string
		dirs     = map[string]string{}
	)
	err = collect.RunFleet(ctx, *fo, func(m collect.Member) {
		if firstErr != nil {
			return
		}
		if f := unreadable(m.Inventory.Sources); len(f) > 0 {
			failed = append(failed, f...)
			return
		}
		dir := memberDir(m.Scope)
		if other, ok := dirs[dir]; ok {
			firstErr = usageError(fmt.Errorf("members %s and %s would share the output directory %s", other, report.MemberName(m.Scope), dir))
			return
		}
		dirs[dir] = report.MemberName(m.Scope)
		p := policy
		p.Scope = m.Scope
		d := a.cfg.derive(m.Inventory)
		res := checks.Run(m.Inventory, d, all, p)
		// A secret of no member's job stays: the masking pipelines follow the logs/secrets
		// findings, and every member's log agents see all of Loki's streams.
		owned := slices.DeleteFunc(res.Findings, func(f analyze.Finding) bool { return !m.Owns(f) })
		// The generators see the findings without the member's keys: a member's bundle is
		// deployed to that member alone.
		for i := range owned {
			owned[i].Subject = withoutKeys(owned[i].Subject, m.Scope)
		}
		mo := gopts
		if ruler {
			// A global ruler evaluates every member's rules over the whole fleet: each rule
			// selects its member by the member's identifying labels (a Thanos cluster).
			mo.Scope = withoutKeys(m.Scope, map[string]string{"source": ""})
		}
		fs, err := bundle.Files(m.Inventory, owned, d.Matrix, mo)
		if err != nil {
			firstErr = usageError(fmt.Errorf("generate for %s: %w", report.MemberName(m.Scope), err))
			return
		}
		for _, s := range rules.Unplanned(owned) {
			fmt.Fprintf(a.stderr, "blindspot: %s: no alert generated for %s\n", report.MemberName(m.Scope), s)
		}
		for _, f := range fs {
			files = append(files, generate.File{Path: dir + "/" + f.Path, Content: f.Content})
		}
		for _, d := range bundle.Managed {
			managed = append(managed, dir+"/"+d)
		}
	})
	if err != nil {
		return nil, nil, true, usageError(err)
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return nil, nil, true, notGenerating(failed)
	}
	if firstErr != nil {
		return nil, nil, true, firstErr
	}
	slices.SortFunc(files, func(a, b generate.File) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(managed)
	return files, managed, true, nil
}

// memberDir names a member's output directory: the source, then the values of the other
// member keys in key order, joined by "_", with characters other than letters, digits, '.'
// and '-' replaced by '_'.
func memberDir(scope map[string]string) string {
	var parts []string
	if s, ok := scope["source"]; ok {
		parts = append(parts, s)
	}
	for _, k := range slices.Sorted(maps.Keys(scope)) {
		if k != "source" {
			parts = append(parts, scope[k])
		}
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, strings.Join(parts, "_"))
	if name == "" || strings.Trim(name, ".") == "" {
		name = "_" + name
	}
	return name
}

func withoutKeys(subject, scope map[string]string) map[string]string {
	out := maps.Clone(subject)
	for k := range scope {
		delete(out, k)
	}
	return out
}

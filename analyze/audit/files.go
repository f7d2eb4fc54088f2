package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/generate/bundle"
	"github.com/blindspot-dev/blindspot/generate/rules"
)

// Generated is what Files generates.
type Generated struct {
	Files []generate.File
	// Managed are the directories of the output directory that blindspot owns.
	Managed []string
	// Notes say what was deliberately not generated or still needs the user, one line each.
	Notes []string
	// Unplanned are the findings no alert could be generated for.
	Unplanned []Unplanned
	// Fleet says whether the request named a fleet, whose members' files are in directories
	// of their own (even a fleet of one, a Thanos or Mimir named by URL).
	Fleet bool
	// Backtest is how each alert generated for a single live server with history would have
	// behaved over Lookback, the alerts left out as too noisy included; nil when none was
	// backtested.
	Backtest []Backtested
	Lookback time.Duration
}

// Unplanned is a finding no alert could be generated for, and the member it is of ("" for a
// single server).
type Unplanned struct {
	Member  string
	Subject string
}

// Files audits what the request names and generates the files that close its gaps. A fleet's
// members each get a directory of their own named after them (memberDir), so that each bundle
// can be deployed to its own server and its links (runbooks, dashboards) stay within it. When
// the fleet has a ruler, the rules of a Thanos cluster carry its labels in every selector:
// they are for that ruler, which sees every cluster (on the cluster's own Prometheus, whose
// series lack the external labels, they would never fire). Nothing is generated from a partial
// audit (an *UnreadError): it would drop the rules of every job it did not see.
func Files(ctx context.Context, req Request, o generate.Options) (Generated, error) {
	var (
		out      Generated
		firstErr error
		failed   []string
		shared   []string
		members  int
		dirs     = map[string]string{}
	)
	ruler := slices.ContainsFunc(req.Servers, func(s collect.FleetSource) bool { return s.Role == collect.RoleRuler })
	isFleet, err := each(ctx, req, func(m Member) error {
		switch {
		case m.Shared:
			shared = m.Unread()
			return nil
		case firstErr != nil:
			return nil
		}
		if f := m.Unread(); len(f) > 0 {
			failed = append(failed, f...)
			return nil
		}
		members++
		findings := m.Result.Findings
		if m.generating != nil {
			findings = m.generating
		}
		mo := o
		dir := ""
		if m.fleet {
			dir = memberDir(m.Scope)
			if other, ok := dirs[dir]; ok {
				firstErr = fmt.Errorf("members %s and %s would share the output directory %s", other, m.Name(), dir)
				return nil
			}
			dirs[dir] = m.Name()
			// The generators see the findings without the member's keys: a member's bundle is
			// deployed to that member alone.
			findings = slices.Clone(findings)
			for i := range findings {
				findings[i].Subject = withoutKeys(findings[i].Subject, m.Scope)
			}
			if ruler {
				// A global ruler evaluates every member's rules over the whole fleet: each rule
				// selects its member by the member's identifying labels (a Thanos cluster).
				mo.Scope = withoutKeys(m.Scope, map[string]string{"source": ""})
			}
		}
		mo = withHistory(m.Inventory, mo)
		var notes []string
		if m.live != nil && m.Inventory.Has(analyze.PartHistory) {
			var (
				tested []Backtested
				err    error
			)
			if mo, tested, notes, err = backtest(ctx, *m.live, m.Inventory, findings, m.Matrix, mo); err != nil {
				firstErr = fmt.Errorf("generate: %w", err)
				return nil
			}
			out.Backtest, out.Lookback = tested, m.Inventory.History.Lookback
		}
		g, err := bundle.Generate(m.Inventory, findings, m.Matrix, mo)
		if err != nil {
			if m.fleet {
				firstErr = fmt.Errorf("generate for %s: %w", m.Name(), err)
			} else {
				firstErr = fmt.Errorf("generate: %w", err)
			}
			return nil
		}
		if !m.fleet {
			// A fleet's members say nothing of what they left out.
			out.Notes = append(g.Notes, notes...)
		}
		for _, s := range rules.Unplanned(findings) {
			out.Unplanned = append(out.Unplanned, Unplanned{Member: m.Name(), Subject: s})
		}
		prefix := ""
		if dir != "" {
			prefix = dir + "/"
		}
		for _, f := range g.Files {
			out.Files = append(out.Files, generate.File{Path: prefix + f.Path, Content: f.Content})
		}
		for _, d := range bundle.Managed {
			out.Managed = append(out.Managed, prefix+d)
		}
		return nil
	})
	switch {
	case err != nil:
		return Generated{}, err
	case len(shared) > 0:
		return Generated{}, &UnreadError{Sources: shared}
	case len(failed) > 0:
		if isFleet {
			slices.Sort(failed)
		}
		return Generated{}, &UnreadError{Sources: failed}
	case firstErr != nil:
		return Generated{}, firstErr
	}
	out.Fleet = isFleet
	if isFleet {
		slices.SortFunc(out.Files, func(a, b generate.File) int { return strings.Compare(a.Path, b.Path) })
		slices.Sort(out.Managed)
	}
	return out, nil
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

// Package packs instantiates the built-in packs of rulesets/packs for the jobs they are
// recognised for: a pack applies to a job whose series carry one of the pack's detect metric
// names (inventory part job_metrics), and every vector selector of its expressions gets the
// job's matcher through the syntax tree, as does every series of its tests.
//
// Names: file promqlbuild.FileStem(job) + "-" + pack, group "blindspot-" + file, alerts
// promqlbuild.AlertPrefix(job) + the pack alert's name. Jobs whose names collide (compared
// case-insensitively) get the first 8 hex digits of the SHA-256 of the job appended to the
// colliding part, as generate/rules does for its files.
package packs

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
	"github.com/blindspot-dev/blindspot/rulesets"
)

// generatedBy is the value of the generated_by label of every generated alert.
const generatedBy = "blindspot"

// maxNamePart bounds the job part of file and alert names, so that file names stay below
// the 255 bytes file systems allow however long a job name is.
const maxNamePart = 100

var seriesParser = parser.NewParser(parser.Options{})

// Skipped is a pack alert left out because the server already has it.
type Skipped struct {
	Job, Pack string
	// Alert is the name the generated alert would have had.
	Alert string
	// Reason says which loaded alert it duplicates: "an alert named … is already loaded
	// (group …, file …)" or "alert … (group …, file …) already evaluates the same expression".
	Reason string
}

// Instantiate returns one rule file per job and recognised pack, sorted by name, and the pack
// alerts it left out because the server has them already. Without job_metrics in the
// inventory no pack is recognised. When the inventory knows the server's metric names, a pack
// alert reading a metric the server does not have is left out: it could never fire, and the
// next audit would report it as reading an unknown metric. When it knows the server's rules,
// a pack alert is left out when an alert of the same name is loaded (two alerts of one name
// confuse routing, silences and whoever is paged), or an alert with the same expression, as
// instantiated for the job or as the pack writes it for every job (compared parsed and
// normalised, see promqlbuild.Normalize); alerts blindspot generated (generated_by:
// blindspot) do not count, so that deploying the output does not make it shrink. A file
// whose every alert is left out is not written; the others say in a comment what they left out.
func Instantiate(inv *analyze.Inventory, o generate.Options) ([]generate.RuleFile, []Skipped, error) {
	o = generate.DefaultOptions(o)
	packs, err := rulesets.Packs()
	if err != nil {
		return nil, nil, fmt.Errorf("loading the built-in rulesets: %w", err)
	}

	type instance struct {
		job  string
		pack rulesets.Pack
	}
	var instances []instance
	for _, job := range slices.Sorted(maps.Keys(inv.JobMetrics)) {
		if job == "" {
			continue // job="" would select every series without a job label
		}
		for _, p := range packs {
			if Detects(p, inv.JobMetrics[job]) {
				instances = append(instances, instance{job, p})
			}
		}
	}
	if len(instances) == 0 {
		return nil, nil, nil
	}
	var jobs []string
	for _, in := range instances {
		jobs = append(jobs, in.job)
	}
	stems := uniqueNames(jobs, func(job string) string {
		return strings.TrimRight(truncate(promqlbuild.FileStem(job)), "-")
	}, "-")
	prefixes := uniqueNames(jobs, func(job string) string { return truncate(promqlbuild.AlertPrefix(job)) }, "")

	var known []string
	if inv.Has(analyze.PartMetricNames) {
		known = inv.MetricNames
	}
	loaded := loadedAlerts(inv)
	var (
		files   []generate.RuleFile
		skipped []Skipped
	)
	for _, in := range instances {
		name := stems[in.job] + "-" + in.pack.Name
		f := generate.RuleFile{Name: name, Group: "blindspot-" + name}
		used := map[string]bool{}
		var left []string
		for _, pa := range in.pack.Alerts {
			a, err := instantiate(in.job, prefixes[in.job], in.pack, pa, o)
			if err != nil {
				return nil, nil, fmt.Errorf("instantiating ruleset %s for job %q: alert %s: %w", in.pack.Name, in.job, pa.Name, err)
			}
			if known != nil && !readsKnownMetrics(a.Expr, known) {
				continue
			}
			if reason := loaded.duplicate(a, pa); reason != "" {
				skipped = append(skipped, Skipped{Job: in.job, Pack: in.pack.Name, Alert: a.Name, Reason: reason})
				left = append(left, fmt.Sprintf("Left out %s: %s.", a.Name, reason))
				continue
			}
			used[pa.Origin] = true
			f.Alerts = append(f.Alerts, a)
		}
		if len(f.Alerts) == 0 {
			continue
		}
		for _, origin := range in.pack.Origins {
			if used[origin.Name] {
				f.Attribution = append(f.Attribution, attribution(in.pack, origin))
			}
		}
		f.Attribution = append(f.Attribution, left...)
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b generate.RuleFile) int { return strings.Compare(a.Name, b.Name) })
	if err := checkUnique(files); err != nil {
		return nil, nil, err
	}
	return files, skipped, nil
}

// loaded are the alerting rules the server has, blindspot's own left aside, by name and by
// normalised expression.
type loaded struct {
	byName map[string]*analyze.Rule
	byExpr map[string]*analyze.Rule
	// packForms memoises the normalised form of a pack expression, the same for every job
	// ("" when it does not parse).
	packForms map[string]string
}

func loadedAlerts(inv *analyze.Inventory) loaded {
	l := loaded{byName: map[string]*analyze.Rule{}, byExpr: map[string]*analyze.Rule{}, packForms: map[string]string{}}
	if !inv.Has(analyze.PartRules) {
		return l
	}
	for _, g := range inv.RuleGroups {
		for _, rule := range g.Rules {
			if rule.Kind != analyze.RuleAlerting || rule.Labels["generated_by"] == generatedBy {
				continue
			}
			r := &rule
			r.File, r.Group = cmp.Or(r.File, g.File), cmp.Or(r.Group, g.Name)
			if _, ok := l.byName[r.Name]; !ok {
				l.byName[r.Name] = r
			}
			if r.Parsed == nil {
				continue
			}
			if n := promqlbuild.Normalize(r.Parsed); n != "" {
				if _, ok := l.byExpr[n]; !ok {
					l.byExpr[n] = r
				}
			}
		}
	}
	return l
}

// duplicate says which loaded alert the instantiated alert a of pack alert pa duplicates, or
// returns "".
func (l loaded) duplicate(a generate.Alert, pa rulesets.PackAlert) string {
	if r, ok := l.byName[a.Name]; ok {
		return fmt.Sprintf("an alert of that name is already loaded (%s)", where(r))
	}
	if len(l.byExpr) == 0 {
		return ""
	}
	// The pack's own expression selects every job, this one included.
	pack, ok := l.packForms[pa.Expr]
	if !ok {
		if e, err := analyze.ParseExpr(pa.Expr); err == nil {
			pack = promqlbuild.Normalize(e)
		}
		l.packForms[pa.Expr] = pack
	}
	for _, n := range []string{promqlbuild.Normalize(a.Expr), pack} {
		if r, ok := l.byExpr[n]; n != "" && ok {
			return fmt.Sprintf("alert %s (%s) already evaluates the same expression", strconv.Quote(r.Name), where(r))
		}
	}
	return ""
}

// where names a loaded rule's group and file, quoted: they come from the server and may hold
// anything, and the reason ends up in comments of the rule file.
func where(r *analyze.Rule) string {
	return fmt.Sprintf("group %s, file %s", strconv.Quote(r.Group), strconv.Quote(r.File))
}

// Detects reports whether a job exposing metrics (sorted) is one the pack applies to.
func Detects(p rulesets.Pack, metrics []string) bool {
	return slices.ContainsFunc(p.Detect, func(name string) bool {
		_, found := slices.BinarySearch(metrics, name)
		return found
	})
}

// instantiate builds the alert pa of pack p for job.
func instantiate(job, prefix string, p rulesets.Pack, pa rulesets.PackAlert, o generate.Options) (generate.Alert, error) {
	expr, err := scopedExpr(pa.Expr, job)
	if err != nil {
		return generate.Alert{}, err
	}
	a := generate.Alert{
		Name:      prefix + pa.Name,
		Kind:      generate.KindRuleset,
		Job:       job,
		Metric:    firstMetric(expr),
		Expr:      expr,
		For:       pa.For,
		Labels:    map[string]string{"severity": pa.Severity, "generated_by": generatedBy},
		Pack:      p.Name,
		PackAlert: pa.Name,
	}
	if team := o.OwnerOf(job); team != "" {
		a.Labels[o.OwnerLabel] = team
	}
	a.Runbook = "runbooks/" + a.Name + ".md"
	a.Annotations = map[string]string{
		"summary":     pa.Summary,
		"description": pa.Description,
		"runbook_url": templateText(o.RunbookURL(a.Runbook)),
	}
	if u := o.DashboardURL(job); u != "" {
		a.Annotations["dashboard_url"] = templateText(u)
	}

	a.Test = generate.TestCase{
		Interval:     pa.Test.Interval,
		EvalTime:     pa.Test.EvalTime,
		FiringLabels: maps.Clone(pa.Test.Labels),
	}
	if a.Test.FiringLabels == nil {
		a.Test.FiringLabels = map[string]string{}
	}
	a.Test.FiringLabels["job"] = job
	maps.Copy(a.Test.FiringLabels, a.Labels)
	if a.Test.FailingSeries, err = scopedSeries(pa.Test.Failing, job); err != nil {
		return generate.Alert{}, err
	}
	if a.Test.HealthySeries, err = scopedSeries(pa.Test.Healthy, job); err != nil {
		return generate.Alert{}, err
	}
	return a, nil
}

// scopedExpr parses a pack expression, adds job="<job>" to every vector selector, prints the
// tree with the library and parses the result again, checking that every selector of what
// will be written selects exactly the job.
func scopedExpr(text, job string) (parser.Expr, error) {
	e, err := analyze.ParseExpr(text)
	if err != nil {
		return nil, err
	}
	promqlbuild.AddMatchers(e, map[string]string{"job": job})
	printed := e.String()
	again, err := analyze.ParseExpr(printed)
	if err != nil {
		return nil, fmt.Errorf("the scoped expression %s does not parse: %w", printed, err)
	}
	if err := checkScoped(again, job); err != nil {
		return nil, fmt.Errorf("the scoped expression %s: %w", printed, err)
	}
	return again, nil
}

// checkScoped checks that every vector selector of e has exactly one job matcher, job="<job>".
func checkScoped(e parser.Expr, job string) error {
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || bad != nil {
			return nil
		}
		var jobMatchers []*labels.Matcher
		for _, m := range vs.LabelMatchers {
			if m.Name == "job" {
				jobMatchers = append(jobMatchers, m)
			}
		}
		if len(jobMatchers) != 1 || jobMatchers[0].Type != labels.MatchEqual || jobMatchers[0].Value != job {
			bad = fmt.Errorf("selector %s does not select exactly job %q", vs, job)
		}
		return nil
	})
	return bad
}

// scopedSeries adds the job label to test series and prints them in PromQL notation.
func scopedSeries(in []rulesets.PackSeries, job string) ([]generate.Series, error) {
	out := make([]generate.Series, 0, len(in))
	for _, s := range in {
		printed, lbls, err := promqlbuild.SeriesWith(s.Series, map[string]string{"job": job})
		if err != nil {
			return nil, err
		}
		again, _, err := seriesParser.ParseSeriesDesc(printed + " " + s.Values)
		if err != nil || !labels.Equal(again, lbls) {
			return nil, fmt.Errorf("test series %s prints as %s, which reads back as %v (%v)", s.Series, printed, again, err)
		}
		out = append(out, generate.Series{Series: printed, Values: s.Values})
	}
	return out, nil
}

// templateText makes s, a URL from the options, a constant of the template language
// Prometheus expands annotations with, when it holds a brace that could start an action.
func templateText(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return "{{ " + strconv.Quote(s) + " }}"
}

// firstMetric is the metric of the first vector selector of e, the one a runbook names.
func firstMetric(e parser.Expr) string {
	var name string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && name == "" {
			name = vs.Name
		}
		return nil
	})
	return name
}

// readsKnownMetrics reports whether every metric e reads is among known (sorted).
func readsKnownMetrics(e parser.Expr, known []string) bool {
	ok := true
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, isVS := n.(*parser.VectorSelector); isVS {
			if _, found := slices.BinarySearch(known, vs.Name); !found {
				ok = false
			}
		}
		return nil
	})
	return ok
}

// attribution is the notice a rule file carries for the alerts it adapts from origin.
func attribution(p rulesets.Pack, o rulesets.Origin) string {
	return fmt.Sprintf("Alerts of the %s ruleset adapted from %s by %s, licensed under %s. Changes: %s",
		p.Name, o.Source, o.Attribution, o.License, o.Changes)
}

// uniqueNames names every job with name(job); jobs whose names collide case-insensitively get
// sep and the first 8 hex digits of the SHA-256 of the job appended.
func uniqueNames(jobs []string, name func(string) string, sep string) map[string]string {
	byName := map[string][]string{}
	out := map[string]string{}
	for _, job := range jobs {
		if _, done := out[job]; done {
			continue
		}
		out[job] = name(job)
		folded := strings.ToLower(out[job])
		byName[folded] = append(byName[folded], job)
	}
	for _, js := range byName {
		if len(js) < 2 {
			continue
		}
		for _, job := range js {
			sum := sha256.Sum256([]byte(job))
			out[job] += sep + hex.EncodeToString(sum[:])[:8]
		}
	}
	return out
}

// checkUnique refuses files or alerts whose names still collide, case-insensitively (a
// runbooks/<Alert>.md of one would overwrite the other's on some file systems).
func checkUnique(files []generate.RuleFile) error {
	seen := map[string]string{}
	add := func(n string) error {
		if other, ok := seen[strings.ToLower(n)]; ok {
			return fmt.Errorf("instantiating the rulesets: %s and %s get the same name", other, n)
		}
		seen[strings.ToLower(n)] = n
		return nil
	}
	for _, f := range files {
		if err := add("file " + f.Name); err != nil {
			return err
		}
		for _, a := range f.Alerts {
			if err := add("alert " + a.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > maxNamePart {
		return s[:maxNamePart]
	}
	return s
}

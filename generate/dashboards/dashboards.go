// Package dashboards generates one Grafana dashboard per job and an overview dashboard that
// links to them (dashboards/<job>.json, dashboards/overview.json). Dashboards are built with
// grafana-foundation-sdk builders: small helpers returning builders, composed in one build
// function per dashboard. PromQL is built as syntax trees and printed by the Prometheus
// library, LogQL selectors quote their values with strconv.Quote, and datasources are the
// ${prometheus} and ${loki} variables, so nothing instance-specific is written.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/blindspot-dev/blindspot/analyze/coverage"
	"github.com/blindspot-dev/blindspot/generate"
	"github.com/blindspot-dev/blindspot/internal/promqlbuild"
)

// Dir is the output directory of the dashboards.
const Dir = "dashboards"

// OverviewUID is the uid of the overview dashboard.
const OverviewUID = "bs-overview"

// Tag marks every generated dashboard, so that Grafana searches and dashboard lists find them.
const Tag = "generated_by:blindspot"

// Files returns the dashboard of every job of matrix and the overview. logStreams maps a job
// to the Loki stream selectors of its logs; a job without an entry (or a nil map) gets
// {job="<job>"}.
func Files(matrix []coverage.JobCoverage, logStreams map[string][]string, o generate.Options) ([]generate.File, error) {
	jobs := slices.Clone(matrix)
	slices.SortFunc(jobs, func(a, b coverage.JobCoverage) int {
		switch {
		case a.Job < b.Job:
			return -1
		case a.Job > b.Job:
			return 1
		}
		return 0
	})
	var files []generate.File
	seen := map[string]string{}
	for _, jc := range jobs {
		p := Dir + "/" + promqlbuild.FileStem(jc.Job) + ".json"
		if other, dup := seen[p]; dup {
			return nil, fmt.Errorf("dashboard of job %q: %s is also the dashboard of job %q", jc.Job, p, other)
		}
		seen[p] = jc.Job
		content, err := render(jobDashboard(jc, logStreams[jc.Job], o))
		if err != nil {
			return nil, fmt.Errorf("building the dashboard of job %q: %w", jc.Job, err)
		}
		files = append(files, generate.File{Path: p, Content: content})
	}
	if _, dup := seen[Dir+"/overview.json"]; dup {
		return nil, fmt.Errorf("dashboard of job %q: clashes with %s/overview.json", seen[Dir+"/overview.json"], Dir)
	}
	content, err := render(overviewDashboard(jobs, o))
	if err != nil {
		return nil, fmt.Errorf("building the overview dashboard: %w", err)
	}
	files = append(files, generate.File{Path: Dir + "/overview.json", Content: content})
	return files, nil
}

// render builds a dashboard and encodes it deterministically: the SDK's JSON is decoded into
// maps (which encoding/json writes with sorted keys) and the header added as "generated_by",
// JSON having no comments.
func render(b *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding the dashboard: %w", err)
	}
	doc["generated_by"] = generate.Header
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // URLs keep their & and <>
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil { // Encode ends with a newline
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	return out.Bytes(), nil
}

package snapshot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/blindspot-dev/blindspot/analyze"
	"github.com/blindspot-dev/blindspot/analyze/baseline"
	"github.com/blindspot-dev/blindspot/analyze/checks"
	"github.com/blindspot-dev/blindspot/analyze/collect"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// fuzzSeeds are small snapshots as txtar archives: a manifest and the files it names.
var fuzzSeeds = []string{
	// One Prometheus (one part failed), a Loki, a Grafana and an Alertmanager.
	`-- manifest.json --
{"version":1,"created_at":"2026-01-01T00:00:00Z","sources":[
{"name":"p","kind":"prometheus","url":"http://p","responses":[
{"part":"targets","path":"/api/v1/targets","status":200,"file":"p/t.json"},
{"part":"rules","path":"/api/v1/rules","status":200,"file":"p/r.json"},
{"part":"metric_names","path":"/api/v1/label/__name__/values","error":"refused"},
{"part":"job_metrics","path":"/api/v1/query","query":"group by (job, __name__) ({__name__=~\"x_total\"})","status":200,"file":"p/q.json"}]},
{"name":"l","kind":"loki","file":"l/logs.json"},
{"name":"g","kind":"grafana","file":"g/d.json"},
{"name":"alertmanager","kind":"alertmanager","responses":[{"part":"silences","path":"/api/v2/silences","status":200,"file":"a/s.json"}]}]}
-- p/t.json --
{"status":"success","data":{"activeTargets":[{"labels":{"job":"a","instance":"a:1"},"scrapePool":"a","health":"down"}]}}
-- p/r.json --
{"status":"success","data":{"groups":[{"name":"g","file":"r.yml","rules":[{"type":"alerting","name":"A","query":"up{job=\"a\"} == 0","labels":{"severity":"page"},"health":"ok"}]}]}}
-- p/q.json --
{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a","__name__":"x_total"},"value":[1,"1"]}]}}
-- l/logs.json --
{"window":"1h0m0s","parts":["log_streams","log_secrets"],"streams":[{"selector":"{job=\"a\"}","labels":{"job":"a"},"entries":2}],"secrets":[{"stream":"{job=\"a\"}","labels":{"job":"a"},"pattern":"password-assignment","count":1,"example":"password=****"}]}
-- g/d.json --
{"dashboards":[{"uid":"u","title":"D","url":"http://g/d/u","dashboard":{"panels":[{"title":"P","targets":[{"expr":"rate(x_total{job=\"$job\"}[5m])"}]}]}}]}
-- a/s.json --
[{"id":"1","status":{"state":"active"},"updatedAt":"2026-01-01T00:00:00Z","comment":"c","createdBy":"me","startsAt":"2026-01-01T00:00:00Z","endsAt":"2027-01-01T00:00:00Z","matchers":[{"name":"alertname","value":"A","isRegex":false,"isEqual":true}]}]
`,
	// A fleet of two servers, one of them a ruler.
	`-- manifest.json --
{"version":1,"created_at":"2026-01-01T00:00:00Z","sources":[
{"name":"a","kind":"prometheus","fleet":{"kind":"prometheus"},"responses":[{"part":"targets","path":"/api/v1/targets","status":200,"file":"a/t.json"}]},
{"name":"r","kind":"prometheus","fleet":{"kind":"prometheus","role":"ruler"},"responses":[{"part":"rules","path":"/api/v1/rules","status":500,"file":"r/r.json"}]}]}
-- a/t.json --
{"status":"success","data":{"activeTargets":[{"labels":{"job":"a","instance":"a:1"},"scrapePool":"a","health":"up"}]}}
-- r/r.json --
{"status":"error","errorType":"internal","error":"boom"}
`,
	// Damaged: a Loki file that is no JSON, a Grafana source without its file.
	`-- manifest.json --
{"version":1,"sources":[{"name":"l","kind":"loki","file":"l/logs.json"},{"name":"g","kind":"grafana"}]}
-- l/logs.json --
{"window":"x"
`,
}

// FuzzAudit loads a snapshot made of fuzzed files (a txtar archive: the manifest and the
// files it names), audits it as `blindspot audit --from` does, a fleet's snapshot as a fleet,
// and renders the report in every format. A snapshot is refused with a one-line error or
// audited; the audit must not panic and the JSON report must be valid JSON.
func FuzzAudit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, archive []byte) {
		fsys := archiveFS(archive)
		rep, ok := audit(t, fsys)
		if !ok {
			return
		}
		render(t, rep)
	})
}

// archiveFS reads a txtar archive: a line "-- name --" starts a file, which holds the lines
// up to the next such line. (go-internal's txtar panics on a marker line "-- --", which is
// not what this target fuzzes.)
func archiveFS(archive []byte) fstest.MapFS {
	fsys := fstest.MapFS{}
	var cur *fstest.MapFile
	for line := range bytes.Lines(archive) {
		l := strings.TrimRight(string(line), "\r\n")
		if len(l) > len("--  --") && strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") {
			name := strings.TrimPrefix(strings.TrimSpace(l[3:len(l)-3]), "/")
			cur = &fstest.MapFile{}
			fsys[name] = cur
			continue
		}
		if cur != nil {
			cur.Data = append(cur.Data, line...)
		}
	}
	return fsys
}

// audit reads and judges the snapshot in fsys; false when it was refused.
func audit(t *testing.T, fsys fstest.MapFS) (report.Report, bool) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	res, err := collect.Run(ctx, collect.Options{Snapshot: fsys, SnapshotName: "fuzz", Now: func() time.Time { return now }})
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
		return report.Report{}, false
	}
	all := checks.All(checks.Options{})
	if res.Manifest == nil || !res.Manifest.IsFleet() {
		d := checks.Derive(res.Inventory, checks.Options{})
		return report.Build(report.Input{
			Inventory:  res.Inventory,
			Result:     checks.Run(res.Inventory, d, all, checks.Policy{}),
			Checks:     all,
			Matrix:     d.Matrix,
			Pages:      d.Pages,
			Now:        now,
			Dashboards: d.Dashboards,
		}), true
	}
	fo := collect.FleetOptions{Sources: collect.SnapshotFleet(*res.Manifest), Now: func() time.Time { return now }, Shared: res.Inventory, Concurrency: 1}
	if err := fo.Validate(); err != nil {
		return report.Report{}, false
	}
	var parts []report.Report
	err = collect.RunFleet(ctx, fo, func(m collect.Member) {
		d := checks.Derive(m.Inventory, checks.Options{})
		parts = append(parts, report.BuildMember(report.Input{
			Inventory:  m.Inventory,
			Result:     checks.Run(m.Inventory, d, all, checks.Policy{Scope: m.Scope}),
			Checks:     all,
			Matrix:     d.Matrix,
			Pages:      d.Pages,
			Now:        now,
			Dashboards: d.Dashboards,
		}, m.Scope))
	})
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line fleet error %q", err)
		}
		return report.Report{}, false
	}
	return report.Merge(parts), true
}

// render writes the report in every format audit and check write.
func render(t *testing.T, rep report.Report) {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		t.Fatalf("json: %v", err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("the JSON report is not valid JSON:\n%s", buf.Bytes())
	}
	if err := report.WriteMarkdown(&buf, rep); err != nil {
		t.Fatalf("markdown: %v", err)
	}
	if err := report.WriteHTML(&buf, rep, report.HTMLOptions{Version: "fuzz"}); err != nil {
		t.Fatalf("html: %v", err)
	}
	for _, color := range []bool{false, true} {
		if err := report.WriteText(&buf, rep, report.TextOptions{Color: color}); err != nil {
			t.Fatalf("text: %v", err)
		}
	}
	g := report.NewGapCheck(rep, baseline.File{}, "fuzz", analyze.Warning)
	if err := report.WriteJUnit(&buf, g); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if err := report.WriteSARIF(&buf, g, report.SARIFOptions{ToolVersion: "fuzz", Checks: checks.All(checks.Options{})}); err != nil {
		t.Fatalf("sarif: %v", err)
	}
	if err := report.WriteCheckMarkdown(&buf, g); err != nil {
		t.Fatalf("check markdown: %v", err)
	}
	if err := report.WriteCheckText(&buf, g); err != nil {
		t.Fatalf("check text: %v", err)
	}
}

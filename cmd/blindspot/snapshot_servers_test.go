package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/blindspot-dev/blindspot/analyze/collect/snapshot"
	"github.com/blindspot-dev/blindspot/analyze/report"
)

// normalized is a report without what differs between a live and an offline audit of the
// same answers: the times and the kind of the sources.
func normalized(t *testing.T, r report.Report) string {
	t.Helper()
	r.GeneratedAt, r.CollectedAt = time.Time{}, time.Time{}
	r.Sources = slices.Clone(r.Sources)
	for i := range r.Sources {
		r.Sources[i].Kind = ""
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// sameAudit fails unless an offline report says what the live one said: the same sources
// (but for their kind), findings with the same IDs, coverage and summary.
func sameAudit(t *testing.T, live, offline report.Report) {
	t.Helper()
	if len(live.Findings) == 0 {
		t.Fatal("the live report has no findings to compare")
	}
	if l, o := normalized(t, live), normalized(t, offline); l != o {
		t.Errorf("the offline report differs from the live one:\nlive:\n%s\noffline:\n%s", l, o)
	}
	for i, s := range offline.Sources {
		if i < len(live.Sources) && live.Sources[i].Kind != "files" && s.Kind != "snapshot" {
			t.Errorf("offline source %s has kind %q, want snapshot", s.Name, s.Kind)
		}
	}
}

// settledSnapshot takes a snapshot (`blindspot snapshot --out DIR snapArgs…`) between two
// live audits (auditArgs) that agree, so that the servers answered the snapshot as they
// answered the audit: real servers keep adding series (rule results, scrape metrics) for a
// while after they start. It returns the snapshot's directory and the live report.
func settledSnapshot(t *testing.T, snapArgs, auditArgs []string) (string, report.Report) {
	t.Helper()
	for range 10 {
		before := auditJSON(t, exitOK, auditArgs...)
		snap := filepath.Join(t.TempDir(), "snap")
		if code, out, stderr := cli(t, append([]string{"snapshot", "--out", snap}, snapArgs...)...); code != exitOK {
			t.Fatalf("snapshot: exit %d\n%s%s", code, out, stderr)
		}
		after := auditJSON(t, exitOK, auditArgs...)
		if normalized(t, before) == normalized(t, after) {
			return snap, after
		}
		time.Sleep(time.Second)
	}
	t.Fatal("the servers answered differently in every pair of audits: nothing to compare a snapshot with")
	return "", report.Report{}
}

// auditJSON runs an audit and decodes its report, failing unless it exits with want.
func auditJSON(t *testing.T, want int, args ...string) report.Report {
	t.Helper()
	code, out, stderr := cli(t, append([]string{"audit", "--format", "json"}, args...)...)
	if code != want {
		t.Fatalf("audit %v: exit %d, want %d; stderr: %s", args, code, want, stderr)
	}
	return decodeReport(t, []byte(out))
}

// readManifest reads the manifest of a snapshot directory.
func readManifest(t *testing.T, dir string) snapshot.Manifest {
	t.Helper()
	s, err := snapshot.Read(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	return s.Manifest
}

// filesUnder returns the files under dir with their contents, by path relative to dir.
func filesUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

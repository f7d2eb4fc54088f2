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

// sameAudit fails unless an offline report says what the live one said: the same sources
// (but for their kind), findings with the same IDs, coverage and summary. The times differ.
func sameAudit(t *testing.T, live, offline report.Report) {
	t.Helper()
	norm := func(r report.Report) []byte {
		r.GeneratedAt, r.CollectedAt = time.Time{}, time.Time{}
		r.Sources = slices.Clone(r.Sources)
		for i := range r.Sources {
			r.Sources[i].Kind = ""
		}
		data, err := json.MarshalIndent(r, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if len(live.Findings) == 0 {
		t.Fatal("the live report has no findings to compare")
	}
	if l, o := norm(live), norm(offline); string(l) != string(o) {
		t.Errorf("the offline report differs from the live one:\nlive:\n%s\noffline:\n%s", l, o)
	}
	for i, s := range offline.Sources {
		if i < len(live.Sources) && live.Sources[i].Kind != "files" && s.Kind != "snapshot" {
			t.Errorf("offline source %s has kind %q, want snapshot", s.Name, s.Kind)
		}
	}
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

// Package golden compares test output with golden files under testdata, or rewrites them when
// the test runs with -update (review the diff before committing it). Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (review the diff!)")

// Updating reports whether the test runs with -update.
func Updating() bool { return *update }

// Check compares got with the file at path, or writes got there (creating its directory) under
// -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := Diff(path, want, got); d != "" {
		t.Errorf("%s differs from the golden file (go test -update rewrites it; review the change in git diff):\n%s", path, d)
	}
}

// Diff is the unified diff from the golden content want to got, labelled with the golden
// file's name, or "" when they are equal. Only the changed lines and their context are shown,
// so that a one-line change in a large file reads as one line.
func Diff(name string, want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	return string(diff.Diff(name+" (golden)", want, name+" (got)", got))
}

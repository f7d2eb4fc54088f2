// Package golden compares test output with golden files under testdata, or rewrites them when
// the test runs with -update (review the diff before committing it). Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
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
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it and shows the change in git diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Package testcorpus finds the third-party files tests read: the few the tests assert facts
// about are copied into testdata/corpus (with their licenses, see its SOURCES.md), the whole
// corpus lives beside the repository in ../shared/corpus when it is there. A test that needs
// the whole corpus is skipped, with the reason, when it is absent, so that the module tests
// cleanly on its own. Only tests import it.
package testcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// root is the repository's root, found from this file's place in it.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Shared is where the whole corpus is expected: shared/corpus beside the repository.
func Shared() string { return filepath.Join(filepath.Dir(root()), "shared", "corpus") }

// Available returns the directory of the whole corpus, or why it cannot be used.
func Available() (string, error) {
	dir := Shared()
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("not a directory")
	}
	if err != nil {
		return "", fmt.Errorf("corpus not found at %s: %w", dir, err)
	}
	return dir, nil
}

// Dir returns the directory of the whole corpus joined with elem (dashboards, rules, …), and
// skips the test when the corpus is absent.
func Dir(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := Available()
	if err != nil {
		t.Skip(err.Error())
	}
	return filepath.Join(append([]string{dir}, elem...)...)
}

// File returns the corpus file at rel (slash-separated, as in the corpus: "dashboards/x.json"):
// the copy in testdata/corpus when there is one, else the file of the whole corpus, skipping
// the test when the corpus is absent.
func File(t testing.TB, rel string) string {
	t.Helper()
	if p := Copied(rel); p != "" {
		return p
	}
	return Dir(t, filepath.FromSlash(rel))
}

// Copied returns the copy of rel in testdata/corpus, or "" when there is none.
func Copied(rel string) string {
	p := filepath.Join(root(), "testdata", "corpus", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

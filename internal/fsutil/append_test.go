package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendFileCreatesAMissingFileAndKeepsWhatAnExistingOneHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	for _, part := range []string{"first\n", "second\n"} {
		if err := AppendFile(path, []byte(part), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "first\nsecond\n" {
		t.Errorf("file %q (%v), want both parts in order", data, err)
	}
	if err := AppendFile(filepath.Join(path, "below-a-file"), []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("err %v, want the open error", err)
	}
}

package baseline_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/baseline"
)

func TestOpen(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "b.json")
	t.Run("A missing baseline is an error unless it is to be created, and then an empty one.", func(t *testing.T) {
		if _, err := baseline.Open(missing, false); !errors.Is(err, baseline.ErrNotExist) {
			t.Errorf("err %v, want ErrNotExist", err)
		}
		f, err := baseline.Open(missing, true)
		if err != nil || f.Version != baseline.Version || len(f.Findings) != 0 {
			t.Errorf("%+v, %v: want an empty baseline of the current version", f, err)
		}
	})
	t.Run("A baseline that exists but does not parse is an error even to be created.", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := baseline.Open(bad, true); err == nil || errors.Is(err, baseline.ErrNotExist) {
			t.Errorf("err %v, want the parse error", err)
		}
	})
}

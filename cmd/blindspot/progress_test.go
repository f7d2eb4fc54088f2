package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestProgress(t *testing.T) {
	// lokiProgress is the progress callback audit would hand the Loki collector.
	lokiProgress := func(t *testing.T, stderr *os.File, args ...string) func(done, total int) {
		t.Helper()
		a := newApp(io.Discard, stderr)
		if err := a.root.PersistentFlags().Parse(args); err != nil {
			t.Fatal(err)
		}
		a.cfg.Loki.URL = "http://127.0.0.1:3100"
		o, err := a.collectOptions(sourceFlags{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Loki == nil {
			t.Fatal("Loki is not collected")
		}
		return o.LokiOptions.Progress
	}
	file := func(t *testing.T) *os.File {
		f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// /dev/null is a character device, as a terminal is: it stands in for one.
	charDevice := func(t *testing.T) *os.File {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}

	t.Run("On a terminal the Loki sampling reports its progress.", func(t *testing.T) {
		if lokiProgress(t, charDevice(t)) == nil {
			t.Error("no progress callback")
		}
	})
	t.Run("With --quiet there is no progress line, even on a terminal.", func(t *testing.T) {
		for _, flag := range []string{"--quiet", "-q"} {
			if lokiProgress(t, charDevice(t), flag) != nil {
				t.Errorf("%s: a progress callback", flag)
			}
		}
	})
	t.Run("When stderr is a file there is no progress line, NO_COLOR or not.", func(t *testing.T) {
		if lokiProgress(t, file(t)) != nil {
			t.Error("a progress callback writing to a file")
		}
		t.Setenv("NO_COLOR", "1")
		if lokiProgress(t, charDevice(t)) == nil {
			t.Error("NO_COLOR turned the progress line off: it is about color only")
		}
	})
	t.Run("The progress line is rewritten in place and ended once the work is done.", func(t *testing.T) {
		// progress decides on the terminal when it is asked for a callback; the callback
		// then writes to stderr, swapped for a file here to read what it prints.
		f := file(t)
		a := newApp(io.Discard, charDevice(t))
		p := a.progress("sampling")
		a.stderr = f
		p(1, 2)
		p(2, 2)
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if want := "\rsampling: 1/2\rsampling: 2/2\n"; string(got) != want {
			t.Errorf("progress wrote %q, want %q", got, want)
		}
	})
}

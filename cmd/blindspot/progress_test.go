package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
		a.progressLine.w = f
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

func TestProgressLine(t *testing.T) {
	t.Run("Two collections running at once share one line, and it ends when both are done.", func(t *testing.T) {
		var buf strings.Builder
		p := &progressLine{w: &buf}
		loki, grafana := p.task("sampling Loki streams"), p.task("reading Grafana dashboards")
		loki(1, 2)
		grafana(5, 10)
		loki(2, 2)
		if strings.Contains(buf.String(), "\n") {
			t.Fatalf("the line ended while Grafana was still read: %q", buf.String())
		}
		grafana(10, 10)
		frames := strings.Split(buf.String(), "\r")[1:]
		want := []string{
			"sampling Loki streams: 1/2",
			"sampling Loki streams: 1/2 · reading Grafana dashboards: 5/10",
			"sampling Loki streams: 2/2 · reading Grafana dashboards: 5/10",
			"sampling Loki streams: 2/2 · reading Grafana dashboards: 10/10\n",
		}
		if !slices.Equal(frames, want) {
			t.Errorf("frames\n%q\nwant\n%q", frames, want)
		}
	})
	t.Run("A shorter line blanks what the longer one before it left on the terminal.", func(t *testing.T) {
		var buf strings.Builder
		p := &progressLine{w: &buf}
		task := p.task("x")
		task(10, 100)
		task(9, 10) // the total shrank: two characters fewer
		task(10, 10)
		if got, want := buf.String(), "\rx: 10/100\rx: 9/10  \rx: 10/10\n"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

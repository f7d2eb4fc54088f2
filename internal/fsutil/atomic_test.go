package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mkfifo makes a FIFO in a fresh directory and starts a reader on it; the returned function
// waits for what the reader got.
func mkfifo(t *testing.T) (string, func() string) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- string(b)
	}()
	return fifo, func() string { return <-got }
}

func assertSymlinkTo(t *testing.T, link, target string) {
	t.Helper()
	info, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is %s after the write, want the symlink kept", link, info.Mode().Type())
	}
	if got, err := os.Readlink(link); err != nil || got != target {
		t.Fatalf("%s points to %q (%v), want %q", link, got, err, target)
	}
}

func TestAWriteCreatesANewFileAndReplacesARegularOne(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.txt")
	for _, want := range []string{"first\n", "second\n"} {
		if err := WriteFileAtomic(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Fatalf("file holds %q, want %q", got, want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
}

func TestAWriteThroughASymlinkToDevNullKeepsTheSymlink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "stdout")
	if err := os.Symlink(os.DevNull, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, []byte("report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertSymlinkTo(t, link, os.DevNull)
	if info, err := os.Stat(os.DevNull); err != nil || info.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device: %v %v", os.DevNull, info, err)
	}
}

func TestAWriteToASymlinkToAFIFOReachesTheReaderAndKeepsBoth(t *testing.T) {
	fifo, read := mkfifo(t)
	link := filepath.Join(t.TempDir(), "stdout")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, []byte("the report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "the report\n" {
		t.Errorf("the reader got %q, want the report", got)
	}
	assertSymlinkTo(t, link, fifo)
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO: %v %v", fifo, info, err)
	}
}

func TestAWriteToAFIFOReachesTheReader(t *testing.T) {
	fifo, read := mkfifo(t)
	if err := WriteFileAtomic(fifo, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "bytes" {
		t.Errorf("the reader got %q, want %q", got, "bytes")
	}
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO: %v %v", fifo, info, err)
	}
}

func TestAWriteToASymlinkToARegularFileReplacesTheTargetAndKeepsTheLink(t *testing.T) {
	targetDir, linkDir := t.TempDir(), t.TempDir()
	target, link := filepath.Join(targetDir, "report.md"), filepath.Join(linkDir, "latest.md")
	fileAndLink(t, target, link, "old")
	if err := WriteFileAtomic(link, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertSymlinkTo(t, link, target)
	if got, _ := os.ReadFile(target); string(got) != "new" {
		t.Errorf("the target holds %q, want %q", got, "new")
	}
	if entries, _ := os.ReadDir(linkDir); len(entries) != 1 {
		t.Errorf("the link's directory holds %d entries, want the link only", len(entries))
	}
}

func TestAWriteToADirectoryOrADanglingSymlinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "missing"), dangling); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{dir: "is a directory", dangling: "target does not exist"} {
		err := WriteFileAtomic(path, []byte("x"), 0o644)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("writing %s: err = %v, want one saying %q", path, err, want)
		}
	}
	assertSymlinkTo(t, dangling, filepath.Join(dir, "missing"))
}

func TestAStreamedWriteThatFailsHalfwayLeavesTheFileAsItWas(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("renderer failed")
	err := WriteAtomic(p, 0o644, func(w io.Writer) error {
		// More than the buffer holds, so part of it reaches the temporary file.
		if _, err := w.Write([]byte(strings.Repeat("x", 200<<10))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteAtomic returned %v, want the renderer's error", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "old\n" {
		t.Fatalf("the file holds %d bytes after a failed write, want the old content", len(got))
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
}

func TestAStreamedWriteProducesWhatTheWriterWrote(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.json")
	want := strings.Repeat("0123456789", 30<<10) // 300 KiB: several buffers
	err := WriteAtomic(p, 0o600, func(w io.Writer) error {
		for i := 0; i < len(want); i += 1000 {
			if _, err := io.WriteString(w, want[i:min(i+1000, len(want))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != want {
		t.Fatalf("the file holds %d bytes, want %d", len(got), len(want))
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
}

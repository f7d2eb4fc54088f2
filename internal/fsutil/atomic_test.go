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
	"time"
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

// readWithin reads path in a goroutine and fails the test if the read has not returned
// by the deadline: a read that hangs must not hang the suite.
func readWithin(t *testing.T, path string, limit int64) ([]byte, error) {
	t.Helper()
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := ReadFile(path, limit)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-time.After(30 * time.Second):
		t.Fatalf("reading %s did not return: it would hang", path)
		return nil, nil
	}
}

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	toFifo := filepath.Join(dir, "to-pipe.yml")
	if err := os.Symlink(fifo, toFifo); err != nil {
		t.Fatal(err)
	}
	toZero := filepath.Join(dir, "zero.yml")
	if err := os.Symlink("/dev/zero", toZero); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, why string
	}{
		{"A named pipe is refused, not waited on.", fifo, "not a regular file (a named pipe)"},
		{"A symlink to a named pipe is refused.", toFifo, "not a regular file (a named pipe)"},
		{"A symlink to /dev/zero is refused, not read for ever.", toZero, "not a regular file (a character device)"},
		{"A directory is refused.", dir, "not a regular file (a directory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readWithin(t, tc.path, MaxInputFile)
			if !errors.Is(err, ErrNotRegular) {
				t.Fatalf("err = %v, want ErrNotRegular", err)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != tc.path || pe.Err.Error() != tc.why {
				t.Errorf("err = %v, want a path error on %s saying %q", err, tc.path, tc.why)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q, want one line", err)
			}
		})
	}
}

func TestReadFileRefusesAFileOverItsLimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, make([]byte, 2<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readWithin(t, big, 2<<20)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 2<<20 {
		t.Fatalf("err = %v, want a TooLargeError of 2 MiB", err)
	}
	if want := big + ": larger than the 2 MiB limit"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %q, want it to end with %q", err, want)
	}
}

func TestReadFileReadsARegularFileAndASymlinkToOne(t *testing.T) {
	dir := t.TempDir()
	file, link := filepath.Join(dir, "rules.yml"), filepath.Join(dir, "link.yml")
	fileAndLink(t, file, link, "groups: []\n")
	for _, p := range []string{file, link} {
		data, err := readWithin(t, p, int64(len("groups: []\n")))
		if err != nil || string(data) != "groups: []\n" {
			t.Errorf("ReadFile(%s) = %q, %v; want the content (exactly at the limit)", p, data, err)
		}
	}
}

func TestReadFileFSRefusesANamedPipeInADirectory(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "answer.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadFileFS(os.DirFS(dir), "answer.json", MaxSnapshotFile)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Fatalf("err = %v, want ErrNotRegular", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("reading a named pipe of a snapshot did not return")
	}
}

func TestSizeNamesTheUnit(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1 << 30: "1 GiB", 1000: "1000 bytes", 4096: "4 KiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// fileAndLink writes content to file and makes link a symbolic link to it.
func fileAndLink(t *testing.T, file, link, content string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
}

package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

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

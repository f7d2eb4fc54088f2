package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An -o naming a symlink to a FIFO stands for `-o /dev/stdout` piped into another program
// without depending on what the host's /dev/stdout is: the report goes through the link and
// both the link and the FIFO stay what they were.
func TestAuditOutputThroughASymlinkToAFIFOReachesTheReaderAndKeepsTheLink(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	link := filepath.Join(dir, "stdout")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		var b []byte
		if f, err := os.Open(fifo); err == nil {
			b, _ = io.ReadAll(f)
			f.Close()
		}
		got <- b
	}()

	code, stdout, stderr := cli(t, "audit", "--format", "json", "-o", link)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing: the report goes to -o", stdout)
	}
	rep := decodeReport(t, <-got)
	if len(rep.Findings) == 0 {
		t.Error("the reader got a report without findings")
	}
	info, err := os.Lstat(link)
	if err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("-o replaced the symlink: %v %v", info, err)
	}
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("-o replaced the FIFO: %v %v", info, err)
	}
}

func TestAuditOutputOntoASymlinkToARegularFileRewritesTheFileAndKeepsTheLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "report-2026.md")
	if err := os.WriteFile(target, []byte("old report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.md")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli(t, "audit", "--format", "markdown", "-o", link); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("-o replaced the symlink: %v %v", info, err)
	}
	data, err := os.ReadFile(target)
	if err != nil || !strings.Contains(string(data), "targets/down") {
		t.Errorf("the link's target holds %q (%v), want the new report", data, err)
	}
}

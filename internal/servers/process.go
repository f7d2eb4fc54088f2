package servers

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ReadyTimeout bounds how long WaitReady and WaitForFirstScrapes poll before failing.
const ReadyTimeout = 30 * time.Second

// pollInterval is short because every server here starts in well under a second.
const pollInterval = 50 * time.Millisecond

// logTailLines is how much of a process log is shown when a test fails.
const logTailLines = 40

var (
	portsMu sync.Mutex
	// portsGiven keeps FreePort from handing the same port out twice in one test binary,
	// which matters for ports meant to stay closed (down targets): the kernel may offer a
	// just-released port again to the next caller.
	portsGiven = map[int]bool{}
)

// FreePort returns a TCP port on 127.0.0.1 that was free when asked and has not been returned
// before in this test binary. Nothing listens on it until the caller starts something there.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			t.Fatalf("releasing port %d: %v", port, err)
		}
		portsMu.Lock()
		seen := portsGiven[port]
		portsGiven[port] = true
		portsMu.Unlock()
		if !seen {
			return port
		}
	}
	t.Fatal("finding a free port: the kernel kept offering ports already handed out")
	return 0
}

// FreeAddress returns "127.0.0.1:<FreePort>".
func FreeAddress(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(FreePort(t)))
}

// Process is a server started by StartProcess. Its combined stdout and stderr go to LogPath.
type Process struct {
	Name    string
	LogPath string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartProcess starts binary with args, its output written to a log file in t.TempDir().
// When the test ends the process (and its process group) is killed and, if the test failed,
// the end of its log is written to the test log. name labels messages and the log file.
func StartProcess(t testing.TB, name, binary string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("creating log file for %s: %v", name, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s (%s): %v", name, binary, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s: %s %s\n%s", name, binary, strings.Join(args, " "), p.LogTail(logTailLines))
		}
	})
	return p
}

// Stop ends the process before the test does, e.g. to see how a client copes with a server
// that went away. Stopping twice is harmless.
func (p *Process) Stop() { p.stop() }

// stop kills the process group and waits for the process to be reaped, so that the temporary
// directories it writes to can be removed after it.
func (p *Process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	killGroup(p.cmd.Process)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// LogTail returns the last n lines of the process log.
func (p *Process) LogTail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", p.LogPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d earlier lines in %s)", len(lines)-n, p.LogPath)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// WaitReady polls url until it answers 200, failing the test if the process exits first or
// ReadyTimeout passes.
func (p *Process) WaitReady(t testing.TB, url string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	var lastErr error
	for {
		if exited, err := p.Exited(); exited {
			t.Fatalf("%s exited before %s answered (%v); log:\n%s", p.Name, url, err, p.LogTail(logTailLines))
		}
		lastErr = getOK(client, url)
		if lastErr == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %s did not answer 200 within %s (last: %v); log:\n%s",
				p.Name, url, ReadyTimeout, lastErr, p.LogTail(logTailLines))
		}
		time.Sleep(pollInterval)
	}
}

// Get GETs url with http.DefaultClient and returns the status and the whole body. A request
// that fails or a body that cannot be read fails t.
func Get(t testing.TB, url string) (int, []byte) {
	t.Helper()
	return GetWith(t, http.DefaultClient, url)
}

// GetWith is Get through client.
func GetWith(t testing.TB, client *http.Client, url string) (int, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func getOK(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

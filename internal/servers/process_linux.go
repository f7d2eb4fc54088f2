package servers

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in its own process group, so the whole group can be killed, and
// has the kernel kill it if the test binary dies without running cleanups (a go test timeout
// panics past them).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

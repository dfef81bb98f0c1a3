package browser

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// setProcAttrs starts the browser in a process group of its own, so that
// killing it reaches every process it started, and has the kernel kill it
// if amber dies first.
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killBrowser kills the browser pid started with profile: its process
// group, and then any process still running with that profile (a child
// that left the group). A process is only killed when its command line
// names the profile, so a reused PID is never hit.
func killBrowser(pid int, profile string) {
	want := []byte("--user-data-dir=" + profile)
	if pid > 0 && usesProfile(pid, want) {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		if p, err := strconv.Atoi(e.Name()); err == nil && usesProfile(p, want) {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
}

func usesProfile(pid int, want []byte) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
		if bytes.Equal(arg, want) {
			return true
		}
	}
	return false
}

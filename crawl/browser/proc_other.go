//go:build !linux

package browser

import (
	"os"
	"os/exec"
)

// setProcAttrs leaves the command as it is: process groups and
// parent-death signals are set up on Linux only.
func setProcAttrs(*exec.Cmd) {}

// killBrowser kills the browser process; its children exit with it.
func killBrowser(pid int, _ string) {
	if p, err := os.FindProcess(pid); err == nil && pid > 0 {
		p.Kill()
	}
}

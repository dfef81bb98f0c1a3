package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOArguments: verify, index, repair and replay given a FIFO refuse
// it at once with a usage error (exit 2) instead of blocking until a
// writer comes. Should one block, the test opens the FIFO's write end
// after 30 s so that it fails rather than hangs.
func TestFIFOArguments(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.warc.gz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, args := range [][]string{
		{"verify", fifo},
		{"index", fifo},
		{"repair", fifo},
		{"replay", fifo},
	} {
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("amber %s still blocked on the FIFO after 30 s", args[0])
				if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					f.Close()
				}
			}
		}()
		var stderr bytes.Buffer
		code := run(context.Background(), args, io.Discard, &stderr)
		close(done)
		if code != exitUsage {
			t.Errorf("amber %s FIFO: exit %d, want %d; %s", args[0], code, exitUsage, stderr.String())
		}
		if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, fifo) || !strings.Contains(msg, "named pipe (FIFO)") {
			t.Errorf("amber %s FIFO: stderr %q, want one line naming the FIFO", args[0], msg)
		}
	}
	// Nothing was written next to it.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want the FIFO alone", len(entries))
	}
}

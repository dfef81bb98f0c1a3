package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// exitLocked is the exit status when another run holds the collection.
const exitLocked = 4

// collectionLock is an exclusive lock on a collection, held for a whole
// run. It is an flock(2) on DIR/state/lock, so the kernel releases it when
// the holder dies, however it dies: a stale lock cannot outlive its PID.
// The file names the holder for the message a second run prints.
type collectionLock struct {
	f *os.File
}

func lockCollection(stateDir string) (*collectionLock, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(stateDir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &exitError{code: exitLocked, err: fmt.Errorf("%s is in use by another amber run (%s); not starting", filepath.Dir(stateDir), describeHolder(string(holder)))}
		}
		return nil, err
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid=%d started=%s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	f.Sync()
	return &collectionLock{f: f}, nil
}

func describeHolder(s string) string {
	fields := map[string]string{}
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	if pid, err := strconv.Atoi(fields["pid"]); err == nil {
		return fmt.Sprintf("PID %d, started %s", pid, fields["started"])
	}
	return "holder unknown"
}

func (l *collectionLock) release() {
	l.f.Truncate(0)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}

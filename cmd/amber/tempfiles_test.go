package main

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// bigCollection writes a collection whose one WARC file holds a resource
// record of size random bytes: enough for pack and repair to take a while.
func bigCollection(t *testing.T, dir string, size int) string {
	t.Helper()
	coll, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: coll.ArchivePath(), SpoolDir: t.TempDir(), Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	b := w.NewRecord(warc.TypeResource, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	b.AddField("WARC-Target-URI", "http://example.com/big.bin")
	b.AddField("Content-Type", "application/octet-stream")
	b.SetIncompressible()
	rng := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(b, rng, int64(size)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(coll.ArchivePath(), w.Files()[0])
	lines, err := warc.IndexWARC(file)
	if err != nil {
		t.Fatal(err)
	}
	var ls []string
	for _, l := range lines {
		ls = append(ls, l.String())
	}
	if err := coll.AddIndex(ls); err != nil {
		t.Fatal(err)
	}
	if err := coll.WriteDatapackage("amber-test", time.Now(), w.FileHashes()); err != nil {
		t.Fatal(err)
	}
	return file
}

// killWhenTemp starts amber with args and kills it with SIGKILL as soon as
// a temporary file for out appears. It reports whether the kill came
// while amber was still running.
func killWhenTemp(t *testing.T, out string, args ...string) bool {
	t.Helper()
	cmd := amberProcess(t, args...)
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	pattern := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
	for {
		select {
		case <-exited:
			t.Logf("amber %v exited first: %s", args, cmd.Stdout)
			return false
		default:
		}
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
		}
		time.Sleep(time.Millisecond)
	}
}

// TestKilledLeavesNoTemp: amber repair and amber pack killed with SIGKILL
// mid-way leave their temporary output next to the destination and
// nothing under the final name; the next run of the same command removes
// the leftover and writes the destination.
func TestKilledLeavesNoTemp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "coll")
	file := bigCollection(t, dir, 32<<20)
	out := t.TempDir()
	for _, c := range []struct {
		name string
		dst  string
		args []string
	}{
		{"repair", filepath.Join(out, "fixed.warc.gz"), []string{"repair", "-o", filepath.Join(out, "fixed.warc.gz"), file}},
		{"pack", filepath.Join(out, "coll.wacz"), []string{"pack", "-q", "-o", filepath.Join(out, "coll.wacz"), dir}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pattern := filepath.Join(out, "."+filepath.Base(c.dst)+".tmp*")
			killed := false
			for try := 0; try < 3 && !killed; try++ {
				os.Remove(c.dst)
				killed = killWhenTemp(t, c.dst, c.args...)
			}
			if !killed {
				t.Fatal("amber finished before it could be killed, three times")
			}
			left, _ := filepath.Glob(pattern)
			if len(left) != 1 {
				t.Fatalf("after SIGKILL: temporary files %v, want the one it was writing", left)
			}
			if _, err := os.Stat(c.dst); err == nil {
				t.Fatalf("after SIGKILL: %s exists", c.dst)
			}
			var stderr strings.Builder
			if code := run(context.Background(), c.args, io.Discard, &stderr); code != 0 {
				t.Fatalf("second run: exit %d: %s", code, stderr.String())
			}
			if left, _ := filepath.Glob(pattern); len(left) != 0 {
				t.Errorf("after the second run: temporary files %v left", left)
			}
			stderr.Reset()
			if code := run(context.Background(), []string{"verify", "-q", c.dst}, io.Discard, &stderr); code != 0 {
				t.Errorf("verify %s: exit %d: %s", c.dst, code, stderr.String())
			}
		})
	}
}

// TestTempOfLiveRunKept: a temporary file another run holds (locked) is
// not taken for a leftover.
func TestTempOfLiveRunKept(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "x.wacz")
	live, err := warc.CreateTemp(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	dead := filepath.Join(filepath.Dir(dst), ".x.wacz.tmp123")
	if err := os.WriteFile(dead, []byte("left by a killed run"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed := warc.RemoveStaleTemps(dst)
	if len(removed) != 1 || removed[0] != dead {
		t.Errorf("removed %v, want only %s", removed, dead)
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Errorf("the live run's temporary file is gone: %v", err)
	}
}

package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unblockAfter opens the FIFO at path for writing (and closes it) if done
// is not closed within a generous time: a reader that blocked on it then
// returns, and the test fails instead of hanging.
func unblockAfter(t *testing.T, path string, done <-chan struct{}) {
	go func() {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("still blocked on %s after 30 s", path)
			if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
		}
	}()
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// TestNotRegularPaths: a FIFO or a device given to verify is a usage
// error (a *PathError wrapping ErrNotRegular), found without opening it.
func TestNotRegularPaths(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe.warc.gz")
	mkfifo(t, fifo)
	done := make(chan struct{})
	unblockAfter(t, fifo, done)
	defer close(done)
	for _, p := range []string{fifo, "/dev/zero", "/dev/null"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		_, err := Paths(context.Background(), []string{p}, Options{})
		var pe *PathError
		if !errors.As(err, &pe) || !errors.Is(err, ErrNotRegular) || pe.Path != p {
			t.Errorf("%s: err = %v, want a PathError wrapping ErrNotRegular", p, err)
			continue
		}
		if want := map[string]string{fifo: "named pipe", "/dev/zero": "character device", "/dev/null": "character device"}[p]; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q does not say %q", p, err, want)
		}
	}
}

// TestCollectionWithFIFO: a FIFO in a collection's archive/ (unlisted) or
// listed in datapackage.json is reported as damage, never opened.
func TestCollectionWithFIFO(t *testing.T) {
	dir, _ := collection(t)
	unlisted := filepath.Join(dir, "archive", "zz-pipe.warc.gz")
	mkfifo(t, unlisted)
	// A listed index replaced by a FIFO.
	index := filepath.Join(dir, cdxjName)
	os.Remove(index)
	mkfifo(t, index)
	done := make(chan struct{})
	unblockAfter(t, unlisted, done)
	unblockAfter(t, index, done)
	defer close(done)

	rep := verifyFile(t, dir)
	var got []string
	for _, fs := range rep.Files {
		for _, f := range fs.Findings {
			if strings.Contains(f.Message, "named pipe") {
				got = append(got, filepath.Base(f.File))
				if f.Severity != Error {
					t.Errorf("%s: %v, want an error", f.File, f.Severity)
				}
			}
		}
	}
	if strings.Join(got, " ") != "index.cdxj zz-pipe.warc.gz" && strings.Join(got, " ") != "zz-pipe.warc.gz index.cdxj" {
		t.Errorf("named pipes reported: %v, want index.cdxj and zz-pipe.warc.gz once each\n%s", got, dumpReport(rep))
	}
	if !rep.Damaged(false) {
		t.Error("not damaged")
	}
}

func dumpReport(rep *Report) string {
	var all []Finding
	for _, fs := range rep.Files {
		all = append(all, fs.Findings...)
	}
	return dump(all)
}

// TestGarbageBoundedRead: a large file that is not a WARC file (zeros,
// text, one good record then zeros) is reported as such after a bounded
// read, not read to its end: only a file listed in datapackage.json is
// read whole (for its hash).
func TestGarbageBoundedRead(t *testing.T) {
	const size = 200 << 20 // sparse: costs no disk
	dir := t.TempDir()
	good, _ := build(t, goodSpecs(t)[:1], nil)
	for _, c := range []struct {
		name, msg string
		head      []byte
		maxRead   int64
	}{
		{"zeros.warc", "not a WARC, ARC or WACZ file (starts with zero bytes)", nil, 1 << 20},
		{"zeros.warc.gz", "not a WARC, ARC or WACZ file (starts with zero bytes)", nil, 1 << 20},
		{"text.warc", `not a WARC, ARC or WACZ file (starts with "<html>hello</html>…")`, []byte("<html>hello</html>\n"), 1 << 20},
		{"record-then-zeros.warc.gz", "more than 16777216 bytes that are not a gzip member", good, 18 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(c.head)
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			f.Close()
			rep := verifyFile(t, p)
			fs := rep.Files[0]
			if fs.Errors == 0 || !strings.Contains(dump(fs.Findings), c.msg) {
				t.Errorf("findings:\n%s\nwant one saying %q", dump(fs.Findings), c.msg)
			}
			if fs.Bytes > c.maxRead {
				t.Errorf("read %d bytes of a %d-byte file, want at most %d", fs.Bytes, size, c.maxRead)
			}
		})
	}
}

// TestEmptyFiles: a WARC file without records is damage, whether it has 0
// bytes or is a gzip stream of empty members.
func TestEmptyFiles(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty.warc":                nil,
		"empty.warc.gz":             nil,
		"empty-member.warc.gz":      gzipBytes(t, nil),
		"two-empty-members.warc.gz": append(gzipBytes(t, nil), gzipBytes(t, nil)...),
	} {
		p := filepath.Join(dir, name)
		writeFile(t, p, data)
		rep := verifyFile(t, p)
		fs := rep.Files[0]
		if fs.Errors != 1 || fs.Records != 0 || !rep.Damaged(false) {
			t.Errorf("%s: %d errors, %d records, damaged %t:\n%s", name, fs.Errors, fs.Records, rep.Damaged(false), dump(fs.Findings))
			continue
		}
		if msg := fs.Findings[0].Message; !strings.Contains(msg, "no records") {
			t.Errorf("%s: %q", name, msg)
		}
	}
}

// TestFindingsBounded: an index of thousands of bad lines lists the first
// maxFindings findings and counts the rest, so memory does not grow per
// line; the counts stay exact.
func TestFindingsBounded(t *testing.T) {
	dir, _ := collection(t)
	const bad = 3 * maxFindings
	var b strings.Builder
	for i := range bad {
		fmt.Fprintf(&b, "com,example)/%06d 20240101000000 {\"url\": \"http://example.com/%06d\", \"offset\": \"%d\", \"filename\": \"nosuch.warc.gz\"}\n", i, i, i)
	}
	writeFile(t, filepath.Join(dir, cdxjName), []byte(b.String()))
	writeManifest(t, dir, allListed...)
	rep := verifyFile(t, dir)
	var idx *FileSummary
	for i := range rep.Files {
		if rep.Files[i].Kind == "index" {
			idx = &rep.Files[i]
		}
	}
	if idx == nil {
		t.Fatal("no index summary")
	}
	if len(idx.Findings) != maxFindings+1 {
		t.Errorf("%d findings listed, want %d and one that counts the rest", len(idx.Findings), maxFindings+1)
	}
	if idx.Errors < bad {
		t.Errorf("%d errors counted, want at least %d", idx.Errors, bad)
	}
	last := idx.Findings[len(idx.Findings)-1]
	if want := fmt.Sprintf("%d more errors and 0 more warnings in this file are not listed", idx.Errors-maxFindings); last.Severity != Error || !strings.Contains(last.Message, want) {
		t.Errorf("last finding %+v, want one saying %q", last, want)
	}
}

// TestManifestFIFO: a collection whose datapackage.json is a FIFO is
// reported, not blocked on.
func TestManifestFIFO(t *testing.T) {
	dir, _ := collection(t)
	manifest := filepath.Join(dir, "datapackage.json")
	os.Remove(manifest)
	mkfifo(t, manifest)
	done := make(chan struct{})
	unblockAfter(t, manifest, done)
	defer close(done)
	rep := verifyFile(t, dir)
	if all := dump(findings(rep)); !strings.Contains(all, "datapackage.json is a named pipe (FIFO), not a regular file") || !rep.Damaged(false) {
		t.Errorf("findings:\n%s", all)
	}
}

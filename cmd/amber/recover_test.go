package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/amber-archiver/amber/warc"
)

// TestArchiveRebuildsMissingIndex: a collection whose index and page list
// were deleted gets both back, from its WARC files, at the next run into
// it (here one with nothing new to fetch), and verifies.
func TestArchiveRebuildsMissingIndex(t *testing.T) {
	site := newNewsroom(t, 6, 0)
	dir := t.TempDir()
	args := []string{"archive", "-q", "--scope", "host", "-o", dir, site.srv.URL + "/"}
	var stderr bytes.Buffer
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("archive: exit %d: %s", code, stderr.String())
	}
	index, err := os.ReadFile(filepath.Join(dir, warc.IndexPath))
	if err != nil {
		t.Fatal(err)
	}
	before, err := warc.ReadPages(dir)
	if err != nil || len(before) != 7 {
		t.Fatalf("pages after the first run: %d (%v), want 7", len(before), err)
	}
	for _, rel := range []string{warc.IndexPath, warc.PagesPath} {
		if err := os.Remove(filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		}
	}
	stderr.Reset()
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("second archive: exit %d: %s", code, stderr.String())
	}
	// The second run adds its own lines (it asks for robots.txt again).
	rebuilt, err := os.ReadFile(filepath.Join(dir, warc.IndexPath))
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(index) {
		if !bytes.Contains(rebuilt, line) {
			t.Errorf("the rebuilt index lacks %s", line)
		}
	}
	after, err := warc.ReadPages(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, p := range before {
		want[p.URL] = p.TS
	}
	got := map[string]string{}
	for _, p := range after {
		got[p.URL] = p.TS
	}
	if len(after) != len(before) || len(got) != len(want) {
		t.Errorf("rebuilt pages %+v, want the URLs and times of %+v", after, before)
	}
	for u, ts := range want {
		if got[u] != ts {
			t.Errorf("rebuilt page %s at %q, want %q", u, got[u], ts)
		}
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"verify", "-q", dir}, io.Discard, &stderr); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, stderr.String())
	}
}

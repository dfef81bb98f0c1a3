package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// warcSums is the sha256 of every file in dir/archive.
func warcSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*"))
	out := map[string][32]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = sha256.Sum256(b)
	}
	return out
}

// TestDamagedState: a truncated or byte-flipped state/crawl.db makes
// amber archive and amber status stop with one line that names the file
// and what to do, exit status 1, the WARC files untouched. Moved away, the
// state is rebuilt from the WARC files: the next run stores unchanged
// payloads as revisits of the first captures.
func TestDamagedState(t *testing.T) {
	site := newNewsroom(t, 6, 0)
	dir := t.TempDir()
	args := []string{"archive", "-q", "--scope", "host", "-o", dir, site.srv.URL + "/"}
	var stderr bytes.Buffer
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("archive: exit %d: %s", code, stderr.String())
	}
	db := filepath.Join(dir, "state", "crawl.db")
	good, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	sums := warcSums(t, dir)
	first := readRecords(t, dir)

	flipped := append([]byte(nil), good...)
	for _, off := range []int{16 + 40, 4096 + 16 + 40} { // both meta pages' checksums
		flipped[off] ^= 0xff
	}
	for name, data := range map[string][]byte{
		"truncated": good[:len(good)/3],
		"flipped":   flipped,
	} {
		if err := os.WriteFile(db, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{args, {"status", dir}} {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), cmd, &stdout, &stderr)
			msg := stderr.String()
			if code != 1 {
				t.Errorf("%s state: amber %s: exit %d, want 1; stderr %q", name, cmd[0], code, msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "amber: crawl state "+db+" is damaged (") ||
				!strings.Contains(msg, "move it away (mv "+db+" "+db+".damaged) and run again") {
				t.Errorf("%s state: amber %s: stderr %q, want one line naming the file and what to do", name, cmd[0], msg)
			}
		}
		if got := warcSums(t, dir); len(got) != len(sums) {
			t.Fatalf("%s state: archive/ has %d files, had %d", name, len(got), len(sums))
		} else {
			for f, s := range sums {
				if got[f] != s {
					t.Errorf("%s state: %s changed", name, f)
				}
			}
		}
	}

	// What the message says to do.
	if err := os.Rename(db, db+".damaged"); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"archive", "--scope", "host", "-o", dir, site.srv.URL + "/"}, io.Discard, &stderr); code != 0 {
		t.Fatalf("archive after moving the state away: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the crawl state is new: rebuilt its digest index from 1 WARC files") {
		t.Errorf("no note of the rebuild: %q", stderr.String())
	}
	byID := map[string]warcRec{}
	for _, r := range first {
		byID[r.id] = r
	}
	revisits := 0
	for _, r := range readRecords(t, dir)[len(first):] {
		if r.typ == "response" && r.uri == site.srv.URL+"/img/shared.png" {
			t.Errorf("%s stored again, not as a revisit", r.uri)
		}
		if r.typ == "revisit" {
			revisits++
			if ref, ok := byID[r.refersTo]; !ok || ref.payloadDigest != r.payloadDigest {
				t.Errorf("revisit of %s refers to %s, not a first-run record with its digest", r.uri, r.refersTo)
			}
		}
	}
	if revisits < 10 {
		t.Errorf("%d revisits after the rebuild, want every unchanged payload", revisits)
	}
	for _, cmd := range [][]string{{"verify", "-q", dir}, {"status", dir}} {
		stderr.Reset()
		if code := run(context.Background(), cmd, io.Discard, &stderr); code != 0 {
			t.Errorf("amber %s after the rebuild: exit %d: %s", cmd[0], code, stderr.String())
		}
	}
}

// TestOldStateFormat: a state/crawl.db of an amber from before the
// frontier stops amber archive and amber status with one line naming the
// file and the mv to run, exit status 1; moved away, the next run rebuilds
// the state from the WARC files.
func TestOldStateFormat(t *testing.T) {
	site := newNewsroom(t, 3, 0)
	dir := t.TempDir()
	args := []string{"archive", "-q", "--scope", "host", "-o", dir, site.srv.URL + "/"}
	var stderr bytes.Buffer
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("archive: exit %d: %s", code, stderr.String())
	}
	db := filepath.Join(dir, "state", "crawl.db")
	os.Remove(db)
	old, err := bolt.Open(db, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = old.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"meta", "urls", "fresh", "fresh-r", "claimed", "digests", "pages", "runs", "robots"} {
			if _, err := tx.CreateBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{args, {"status", dir}} {
		var stderr bytes.Buffer
		code := run(context.Background(), cmd, io.Discard, &stderr)
		msg := stderr.String()
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "earlier version of amber") ||
			!strings.Contains(msg, "mv "+db+" "+db+".old") {
			t.Errorf("amber %s: exit %d, stderr %q; want exit 1 and one line with the mv to run", cmd[0], code, msg)
		}
	}
	if err := os.Rename(db, db+".old"); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(context.Background(), append([]string{"archive", "--recrawl"}, args[1:]...), io.Discard, &stderr); code != 0 {
		t.Fatalf("after the move: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "rebuilt its digest index") {
		t.Errorf("no note of the rebuild: %q", stderr.String())
	}
}

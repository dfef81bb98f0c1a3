package crawl_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	iawarc "github.com/internetarchive/gowarc"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/internal/testsite"
)

// TestIndependentReader decodes amber's WARC files with the Internet
// Archive's gowarc reader, an implementation that shares no code with
// amber or with the nlnwa library amber writes with. (The issue names
// slyrz/warc; the module proxy does not serve it.) Every record must decode,
// in the same order, with the same type, target and block.
func TestIndependentReader(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	_, ours, dir := archiveSite(t, site, crawl.Options{})
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC files written")
	}
	var theirs []*iawarc.Record
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := iawarc.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: record %d: %v", f, len(theirs), err)
			}
			theirs = append(theirs, rec)
			if rec.Offset != ours[len(theirs)-1].Offset {
				t.Errorf("record %d: offset %d, amber wrote it at %d", len(theirs)-1, rec.Offset, ours[len(theirs)-1].Offset)
			}
			block, err := io.ReadAll(rec.Content)
			if err != nil {
				t.Fatal(err)
			}
			if want := ours[len(theirs)-1].Block; !bytes.Equal(block, want) {
				t.Errorf("record %d: block differs (%d vs %d bytes)", len(theirs)-1, len(block), len(want))
			}
			rec.Content.Close()
		}
		fh.Close()
	}
	if len(theirs) != len(ours) {
		t.Fatalf("independent reader found %d records, amber wrote %d", len(theirs), len(ours))
	}
	for i, rec := range theirs {
		for _, f := range []string{"WARC-Type", "WARC-Target-URI", "WARC-Record-ID", "WARC-Payload-Digest"} {
			if got, want := rec.Header.Get(f), ours[i].get(f); got != want {
				t.Errorf("record %d %s: %q, want %q", i, f, got, want)
			}
		}
	}
}

package crawl_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	iawarc "github.com/internetarchive/gowarc"
	slyrz "github.com/slyrz/warc"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/internal/testsite"
)

// TestIndependentReader decodes amber's WARC files with the Internet
// Archive's gowarc reader, an implementation that shares no code with
// amber. Every record must decode, in the same order, with the same type,
// target and block. TestSecondIndependentReader does the same with
// slyrz/warc, the reader the design card names.
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

// TestSecondIndependentReader decodes amber's WARC files with
// github.com/slyrz/warc (no tags; served by the module proxy at a
// pseudo-version), a second reader that shares no code with amber or
// gowarc. It reads the concatenated gzip members as one stream, so it also
// checks that the members join into a valid multi-member gzip file.
func TestSecondIndependentReader(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	_, ours, dir := archiveSite(t, site, crawl.Options{})
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC files written")
	}
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := slyrz.NewReaderMode(fh, slyrz.SequentialMode)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: record %d: %v", f, n, err)
			}
			if n >= len(ours) {
				t.Fatalf("slyrz/warc found more records than the %d amber wrote", len(ours))
			}
			block, err := io.ReadAll(rec.Content)
			if err != nil {
				t.Fatal(err)
			}
			if want := ours[n].Block; !bytes.Equal(block, want) {
				t.Errorf("record %d: block differs (%d vs %d bytes)", n, len(block), len(want))
			}
			for _, name := range []string{"WARC-Type", "WARC-Target-URI", "WARC-Record-ID", "WARC-Date", "WARC-Block-Digest", "WARC-Payload-Digest"} {
				if got, want := rec.Header.Get(name), ours[n].get(name); got != want {
					t.Errorf("record %d %s: %q, want %q", n, name, got, want)
				}
			}
			n++
		}
		r.Close()
		fh.Close()
	}
	if n != len(ours) {
		t.Fatalf("slyrz/warc found %d records, amber wrote %d", n, len(ours))
	}
}

package crawl_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/internal/otherreaders"
	"github.com/amber-archiver/amber/internal/testsite"
)

// TestIndependentReader decodes amber's WARC files with the Internet
// Archive's gowarc reader, an implementation that shares no code with
// amber. Every record must decode, in the same order, at the same offset,
// with the same type, target and block. TestSecondIndependentReader does
// the same with slyrz/warc, the reader the design card names.
func TestIndependentReader(t *testing.T) {
	testOtherReader(t, "gowarc", otherreaders.Gowarc, []string{"WARC-Type", "WARC-Target-URI", "WARC-Record-ID", "WARC-Payload-Digest"})
}

// TestSecondIndependentReader decodes amber's WARC files with
// github.com/slyrz/warc (no tags; served by the module proxy at a
// pseudo-version), a second reader that shares no code with amber or
// gowarc. It reads the concatenated gzip members as one stream, so it also
// checks that the members join into a valid multi-member gzip file.
func TestSecondIndependentReader(t *testing.T) {
	testOtherReader(t, "slyrz/warc", otherreaders.Slyrz, []string{"WARC-Type", "WARC-Target-URI", "WARC-Record-ID", "WARC-Date", "WARC-Block-Digest", "WARC-Payload-Digest"})
}

func testOtherReader(t *testing.T, name string, read func(string) ([]otherreaders.Record, error), fields []string) {
	site := testsite.New()
	defer site.Close()
	_, ours, dir := archiveSite(t, site, crawl.Options{})
	files, _ := filepath.Glob(filepath.Join(dir, "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC files written")
	}
	var theirs []otherreaders.Record
	for _, f := range files {
		recs, err := read(f)
		if err != nil {
			t.Fatal(err)
		}
		theirs = append(theirs, recs...)
	}
	if len(theirs) != len(ours) {
		t.Fatalf("%s found %d records, amber wrote %d", name, len(theirs), len(ours))
	}
	for i, rec := range theirs {
		if rec.Offset >= 0 && rec.Offset != ours[i].Offset {
			t.Errorf("record %d: offset %d, amber wrote it at %d", i, rec.Offset, ours[i].Offset)
		}
		if !bytes.Equal(rec.Block, ours[i].Block) {
			t.Errorf("record %d: block differs (%d vs %d bytes)", i, len(rec.Block), len(ours[i].Block))
		}
		for _, f := range fields {
			if got, want := rec.Header(f), ours[i].get(f); got != want {
				t.Errorf("record %d %s: %q, want %q", i, f, got, want)
			}
		}
	}
}

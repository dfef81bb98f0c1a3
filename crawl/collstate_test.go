package crawl_test

import (
	"context"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc/collection"
)

// TestCollectionState: what recovery finds archived is keyed as the crawl
// keys URLs (so it is not fetched again), its digests are found by a
// later revisit lookup, and the pages outbox is the worker's own.
func TestCollectionState(t *testing.T) {
	ctx := context.Background()
	f := frontier.NewMemory(nil)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	cs := crawl.CollectionState(f, "w1", false)
	if cs.Fresh() {
		t.Error("a memory frontier is not a fresh state file")
	}
	d := collection.Digest{Digest: "sha1:AAAA", RecordID: "<urn:uuid:1>", URI: "http://site.test/b", Date: "2026-12-01T10:00:00Z"}
	if err := cs.Archived(ctx, []string{"HTTP://Site.TEST/a?utm_source=feed", "http://site.test/b", "urn:amber:log:crawl.jsonl", "mailto:x@site.test"}, []collection.Digest{d}); err != nil {
		t.Fatal(err)
	}
	n, err := f.Add(ctx, []frontier.Entry{{Key: "http://site.test/a"}, {Key: "http://site.test/b"}, {Key: "http://site.test/c"}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("queued %d of /a, /b, /c after recovery, want 1 (/c)", n)
	}
	ref, ok, err := f.LookupDigest(ctx, "sha1:AAAA")
	if err != nil || !ok || ref.RecordID != d.RecordID || ref.URI != d.URI || ref.Date != d.Date {
		t.Errorf("LookupDigest = %+v %t %v, want %+v", ref, ok, err, d)
	}

	// A page finished by w1 is in w1's outbox, not w2's.
	ls, err := f.Claim(ctx, "w1", 1, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim: %v %v", ls, err)
	}
	date := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0], Page: &frontier.Page{URL: "http://site.test/c", Title: "C", Date: date, Seed: true, Size: 9}}}, nil); err != nil {
		t.Fatal(err)
	}
	if ps, err := crawl.CollectionState(f, "w2", false).Pages(ctx); err != nil || len(ps) != 0 {
		t.Errorf("w2's outbox: %+v %v", ps, err)
	}
	ps, err := cs.Pages(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("w1's outbox: %+v %v", ps, err)
	}
	if p := ps[0]; p.URL != "http://site.test/c" || p.Title != "C" || !p.Date.Equal(date) || !p.Seed || p.Size != 9 || p.Seq == 0 {
		t.Errorf("page %+v", p)
	}
	if err := cs.ClearPages(ctx, ps[0].Seq); err != nil {
		t.Fatal(err)
	}
	if ps, err := cs.Pages(ctx); err != nil || len(ps) != 0 {
		t.Errorf("after ClearPages: %+v %v", ps, err)
	}

	// keepTracking keys URLs with their tracking parameters.
	if err := crawl.CollectionState(f, "w1", true).Archived(ctx, []string{"http://site.test/d?utm_source=x"}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Add(ctx, []frontier.Entry{{Key: "http://site.test/d"}, {Key: "http://site.test/d?utm_source=x"}}); err != nil || n != 1 {
		t.Errorf("queued %d (%v), want 1 (/d without the parameter)", n, err)
	}
}

package crawl

import (
	"path/filepath"
	"strings"
	"testing"
)

func entries(keys ...string) []Entry {
	var out []Entry
	for _, k := range keys {
		out = append(out, Entry{Key: k, Data: []byte("data of " + k)})
	}
	return out
}

func claimKeys(t *testing.T, s State, max int) []string {
	t.Helper()
	es, err := s.Claim(max)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if string(e.Data) != "data of "+e.Key {
			t.Errorf("entry %s carries %q", e.Key, e.Data)
		}
		out = append(out, e.Key)
	}
	return out
}

// TestBoltStateLifecycle walks a URL through FRESH → CLAIMED → DONE across
// a crash (reopen without Finish), a new crawl and a recrawl.
func TestBoltStateLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawl.db")
	s, err := OpenBoltState(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Begin(false)
	if err != nil || info.Crawl != 1 || info.Resumed {
		t.Fatalf("Begin = %+v, %v", info, err)
	}
	if n, _ := s.Add(entries("a", "b", "c", "a")); n != 3 {
		t.Fatalf("added %d, want 3 (a twice)", n)
	}
	if got := claimKeys(t, s, 2); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("claimed %v, want [a b] in order", got)
	}
	if err := s.Finish([]Outcome{{Key: "a"}}, []DigestRef{{Digest: "sha1:X", RecordID: "<urn:1>", URI: "a"}}); err != nil {
		t.Fatal(err)
	}
	// A crash: b is CLAIMED, c FRESH.
	s.Close()

	s, err = OpenBoltState(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ = s.Begin(false)
	if !info.Resumed || info.Crawl != 1 || info.Requeued != 1 {
		t.Fatalf("after a crash, Begin = %+v; want crawl 1 resumed with 1 requeued", info)
	}
	if n, _ := s.Add(entries("a", "b")); n != 0 {
		t.Errorf("seen URLs added again: %d", n)
	}
	if got := claimKeys(t, s, 10); len(got) != 2 || got[0] != "c" || got[1] != "b" {
		t.Fatalf("claimed %v, want [c b]", got)
	}
	s.Finish([]Outcome{{Key: "b"}, {Key: "c", Failed: "refused"}}, nil)
	c, _ := s.Counts()
	if c != (Counts{Done: 2, Failed: 1}) {
		t.Errorf("counts %+v", c)
	}
	if ref, ok, _ := s.LookupDigest("sha1:X"); !ok || ref.RecordID != "<urn:1>" {
		t.Errorf("digest lookup: %+v %v", ref, ok)
	}

	// A new crawl without recrawl: done URLs stay done, failed ones are
	// tried again.
	info, _ = s.Begin(false)
	if info.Resumed || info.Crawl != 2 {
		t.Fatalf("Begin = %+v, want crawl 2", info)
	}
	if n, _ := s.Add(entries("a", "b", "c", "d")); n != 2 {
		t.Errorf("added %d, want 2 (c failed before, d new)", n)
	}
	s.Finish([]Outcome{{Key: "c"}, {Key: "d"}}, nil)
	claimKeys(t, s, 10)

	// A recrawl: everything again, once.
	info, _ = s.Begin(true)
	if info.Crawl != 3 {
		t.Fatalf("Begin(recrawl) = %+v", info)
	}
	if n, _ := s.Add(entries("a", "b", "a")); n != 2 {
		t.Errorf("recrawl added %d, want 2", n)
	}
	// Recovery marks a queued URL done without a fetch.
	if err := s.Recover([]Outcome{{Key: "a", Page: &Page{URL: "a"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := claimKeys(t, s, 10); len(got) != 1 || got[0] != "b" {
		t.Errorf("after recovering a, claimed %v, want [b]", got)
	}
	if pages, _ := s.Pages(); len(pages) != 1 || pages[0].URL != "a" {
		t.Errorf("pages %+v", pages)
	}
	s.ClearPages()
	if pages, _ := s.Pages(); len(pages) != 0 {
		t.Errorf("pages after ClearPages: %+v", pages)
	}
	s.Close()
}

func TestBoltStateLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawl.db")
	s, err := OpenBoltState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt's own flock is per open file description; a second open from
	// this process times out like one from another process would.
	if _, err := OpenBoltState(path); err != ErrLocked {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
}

// Requisites are claimed before pages, each kind in the order queued, in
// both states.
func TestRequisitesClaimedFirst(t *testing.T) {
	bolt, err := OpenBoltState(filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	for name, s := range map[string]State{"bolt": bolt, "memory": NewMemoryState()} {
		if _, err := s.Begin(false); err != nil {
			t.Fatal(err)
		}
		add := []Entry{{Key: "p1"}, {Key: "r1", Requisite: true}, {Key: "p2"}, {Key: "r2", Requisite: true}}
		if n, err := s.Add(add); n != 4 || err != nil {
			t.Fatalf("%s: added %d, %v", name, n, err)
		}
		first, _ := s.Claim(3)
		s.Add([]Entry{{Key: "r3", Requisite: true}})
		rest, _ := s.Claim(10)
		var got []string
		for _, e := range append(first, rest...) {
			got = append(got, e.Key)
		}
		if want := []string{"r1", "r2", "p1", "r3", "p2"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: claimed %v, want %v", name, got, want)
		}
	}
}

package crawl

import (
	"path/filepath"
	"reflect"
	"testing"
)

// Pages and requisites do not block each other in the seen set: a URL
// only queued as a page, or skipped as one, is fetched when a page needs
// it as a requisite; one claimed or done is not fetched again. Both
// backends hold to it.
func TestSeenSetKinds(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) State{
		"memory": func(*testing.T) State { return NewMemoryState() },
		"bolt": func(t *testing.T) State {
			s, err := OpenBoltState(filepath.Join(t.TempDir(), "crawl.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if _, err := s.Begin(false); err != nil {
				t.Fatal(err)
			}
			page := func(k string) Entry { return Entry{Key: k, Data: []byte("page " + k)} }
			req := func(k string) Entry { return Entry{Key: k, Data: []byte("req " + k), Requisite: true} }
			add := func(want int, es ...Entry) {
				t.Helper()
				n, err := s.Add(es)
				if err != nil || n != want {
					t.Fatalf("Add queued %d (%v), want %d", n, err, want)
				}
			}
			claim := func(want ...string) {
				t.Helper()
				es, err := s.Claim(100)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range es {
					got = append(got, string(e.Data))
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("claimed %q, want %q", got, want)
				}
			}
			add(3, page("hero"), page("claimed"), page("robots"))
			claim("page hero", "page claimed", "page robots")
			if err := s.Finish([]Outcome{{Key: "robots", Failed: "skipped: disallowed by robots.txt"}, {Key: "hero"}}, nil); err != nil {
				t.Fatal(err)
			}
			// Done (hero) and claimed are not fetched again; skipped is.
			add(1, req("hero"), req("claimed"), req("robots"))
			claim("req robots")

			// Queued as a page, then as a requisite: claimed once, as the
			// requisite, whichever comes first in the same Add.
			add(1, page("a"))
			add(1, req("a"))
			add(0, req("a"), page("a"))
			add(2, page("b"), req("b"))
			add(1, req("c"), page("c"))
			claim("req a", "req b", "req c")
			claim()
			// A requisite never gives way to a page.
			add(0, page("a"), page("c"))
			claim()
			if err := s.Finish([]Outcome{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "claimed"}, {Key: "robots"}}, nil); err != nil {
				t.Fatal(err)
			}
			c, err := s.Counts()
			if err != nil {
				t.Fatal(err)
			}
			if c != (Counts{Done: 6}) {
				t.Errorf("counts %+v, want 6 done", c)
			}
		})
	}
}

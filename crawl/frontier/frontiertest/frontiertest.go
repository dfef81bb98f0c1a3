// Package frontiertest is the conformance suite every frontier backend
// passes, in the manner of testing/fstest: a backend's test is one call
// to Run. It checks the contracts written on frontier.Frontier's methods:
// add and seen semantics, claim order, leases (expiry, extension, loss,
// release), resume after a crash, concurrent workers, recrawl, the digest
// index, robots.txt, pages and runs.
package frontiertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
)

// Backend opens the frontier under test.
type Backend struct {
	// Open returns a new, empty frontier whose leases go by clock.
	Open func(t *testing.T, clock frontier.Clock) frontier.Frontier
	// Reopen, for a durable backend, opens the store of f again as a new
	// process would after f's process died. It may close f first where
	// the store allows one opener only (bbolt's file lock); a backend that
	// can, should not, since a crash does not close. Nil for a backend
	// that keeps nothing.
	Reopen func(t *testing.T, f frontier.Frontier, clock frontier.Clock) frontier.Frontier
}

// Clock is a clock the suite moves by hand, so that lease expiry is tested
// without sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at a fixed time.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

// Now is the clock's time; pass c.Now as a frontier.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const ttl = time.Minute

// Run runs the whole suite against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"AddSeen", testAddSeen},
		{"ClaimOrder", testClaimOrder},
		{"RequisiteAfterPage", testRequisiteAfterPage},
		{"LeaseExpiry", testLeaseExpiry},
		{"Extend", testExtend},
		{"Release", testRelease},
		{"FinishFailed", testFinishFailed},
		{"Resume", testResume},
		{"ConcurrentWorkers", testConcurrentWorkers},
		{"Recrawl", testRecrawl},
		{"Digests", testDigests},
		{"Robots", testRobots},
		{"Cookies", testCookies},
		{"Pages", testPages},
		{"Runs", testRuns},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

var ctx = context.Background()

func begin(t *testing.T, b Backend) (frontier.Frontier, *Clock) {
	t.Helper()
	clock := NewClock()
	f := b.Open(t, clock.Now)
	if _, err := f.Begin(ctx, false); err != nil {
		t.Fatal(err)
	}
	return f, clock
}

func page(key string) frontier.Entry { return frontier.Entry{Key: key, Data: []byte("page " + key)} }
func req(key string) frontier.Entry {
	return frontier.Entry{Key: key, Data: []byte("req " + key), Requisite: true}
}

func add(t *testing.T, f frontier.Frontier, want int, es ...frontier.Entry) {
	t.Helper()
	n, err := f.Add(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("Add queued %d entries, want %d", n, want)
	}
}

func claim(t *testing.T, f frontier.Frontier, worker string, max int) []frontier.Lease {
	t.Helper()
	ls, err := f.Claim(ctx, worker, max, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func keys(ls []frontier.Lease) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Key)
	}
	return out
}

func wantKeys(t *testing.T, what string, ls []frontier.Lease, want ...string) {
	t.Helper()
	if got := keys(ls); !slices.Equal(got, want) {
		t.Fatalf("%s: %q, want %q", what, got, want)
	}
}

func finish(t *testing.T, f frontier.Frontier, ls ...frontier.Lease) {
	t.Helper()
	var os []frontier.Outcome
	for _, l := range ls {
		os = append(os, frontier.Outcome{Lease: l})
	}
	if err := f.Finish(ctx, os, nil); err != nil {
		t.Fatal(err)
	}
}

func wantCounts(t *testing.T, f frontier.Frontier, want frontier.Counts) {
	t.Helper()
	c, err := f.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c != want {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
}

func testAddSeen(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	add(t, f, 2, page("a"), page("b"), page("a"))
	add(t, f, 1, page("b"), page("c"))
	// A requisite takes the place of a page that is only queued (see
	// RequisiteAfterPage); the key is still counted and claimed once.
	add(t, f, 1, page("a"), req("a"))
	wantCounts(t, f, frontier.Counts{Queued: 3})
	ls := claim(t, f, "w1", 10)
	wantKeys(t, "claimed", ls, "a", "b", "c")
	if string(ls[0].Data) != "req a" || !ls[0].Requisite {
		t.Fatalf("a claimed as %q (requisite %v), want the requisite's entry", ls[0].Data, ls[0].Requisite)
	}
	finish(t, f, ls...)
	add(t, f, 0, page("a"), page("b"), req("c"))
	wantCounts(t, f, frontier.Counts{Done: 3})
	if ls := claim(t, f, "w1", 10); len(ls) != 0 {
		t.Fatalf("claimed %q from an empty queue", keys(ls))
	}
}

func testClaimOrder(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	add(t, f, 5, page("p1"), req("r1"), page("p2"), req("r2"), page("p3"))
	wantKeys(t, "first claim", claim(t, f, "w1", 3), "r1", "r2", "p1")
	add(t, f, 1, req("r3"))
	wantKeys(t, "second claim", claim(t, f, "w1", 10), "r3", "p2", "p3")
	wantCounts(t, f, frontier.Counts{Leased: 6})
}

func testRequisiteAfterPage(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	// hero.jpg linked (<a href>) before it is needed (<img src>): queued
	// as a page, then as a requisite; claimed once, as the requisite.
	add(t, f, 2, page("hero.jpg"), page("next.html"))
	add(t, f, 1, req("hero.jpg"))
	ls := claim(t, f, "w1", 10)
	wantKeys(t, "claimed", ls, "hero.jpg", "next.html")
	if !ls[0].Requisite || string(ls[0].Data) != "req hero.jpg" {
		t.Fatalf("hero.jpg claimed as %q, want the requisite's entry", ls[0].Data)
	}
	// Leased as a page: a requisite does not queue it a second time.
	add(t, f, 0, req("next.html"))
	// A page skipped by robots.txt is still fetched as a requisite; one
	// that failed otherwise is not.
	add(t, f, 2, page("blocked.png"), page("broken.png"))
	ls = claim(t, f, "w1", 10)
	if err := f.Finish(ctx, []frontier.Outcome{
		{Lease: ls[0], Failed: frontier.SkippedPrefix + "disallowed by robots.txt"},
		{Lease: ls[1], Failed: "connection refused"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	add(t, f, 1, req("blocked.png"), req("broken.png"))
	wantKeys(t, "requeued", claim(t, f, "w1", 10), "blocked.png")
}

func testLeaseExpiry(t *testing.T, b Backend) {
	f, clock := begin(t, b)
	add(t, f, 3, page("a"), page("b"), page("c"))
	l1 := claim(t, f, "w1", 2)
	wantKeys(t, "w1", l1, "a", "b")
	clock.Advance(ttl - time.Second)
	wantKeys(t, "w2 before expiry", claim(t, f, "w2", 10), "c")
	wantCounts(t, f, frontier.Counts{Leased: 3})
	clock.Advance(2 * time.Second)
	wantCounts(t, f, frontier.Counts{Queued: 2, Leased: 1})
	// Expired leases come back ahead of the rest, and w2 takes them.
	add(t, f, 1, page("d"))
	l2 := claim(t, f, "w2", 10)
	wantKeys(t, "w2 after expiry", l2, "a", "b", "d")
	// w1 comes back from a long pause: its leases are lost, nothing of its
	// outcome is recorded; w2's is.
	err := f.Finish(ctx, []frontier.Outcome{{Lease: l1[0]}, {Lease: l1[1], Failed: "timeout"}}, nil)
	var le *frontier.LeaseError
	if !errors.Is(err, frontier.ErrLeaseLost) || !errors.As(err, &le) || !slices.Equal(le.Keys, []string{"a", "b"}) {
		t.Fatalf("Finish of lost leases: %v, want a *LeaseError naming a and b", err)
	}
	wantCounts(t, f, frontier.Counts{Leased: 4})
	finish(t, f, l2...)
	wantCounts(t, f, frontier.Counts{Done: 3, Leased: 1})
	// An expired lease is lost even when no one else took the entry.
	clock.Advance(ttl)
	lc, _ := f.Claim(ctx, "w3", 0, ttl) // max 0: claims nothing
	if len(lc) != 0 {
		t.Fatalf("Claim with max 0 returned %q", keys(lc))
	}
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: frontier.Lease{Entry: page("c"), Worker: "w2", Token: 0}}}, nil); !errors.Is(err, frontier.ErrLeaseLost) {
		t.Fatalf("Finish with a made-up token: %v, want ErrLeaseLost", err)
	}
	wantCounts(t, f, frontier.Counts{Done: 3, Queued: 1})
}

func testExtend(t *testing.T, b Backend) {
	f, clock := begin(t, b)
	add(t, f, 2, page("a"), page("b"))
	ls := claim(t, f, "w1", 2)
	for i := 0; i < 5; i++ {
		clock.Advance(ttl / 2)
		var err error
		if ls, err = f.Extend(ctx, ls, ttl); err != nil {
			t.Fatalf("extend %d: %v", i, err)
		}
		if !ls[0].Expires.Equal(clock.Now().Add(ttl)) {
			t.Fatalf("extended to %v, want %v", ls[0].Expires, clock.Now().Add(ttl))
		}
	}
	// 2.5 TTLs later, still w1's.
	if got := claim(t, f, "w2", 10); len(got) != 0 {
		t.Fatalf("w2 claimed %q, leased to w1 and extended", keys(got))
	}
	// One lease lets go; the other is extended all the same.
	clock.Advance(ttl / 2)
	ls2, err := f.Extend(ctx, ls[1:], ttl)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(ttl - time.Second)
	renewed, err := f.Extend(ctx, []frontier.Lease{ls[0], ls2[0]}, ttl)
	var le *frontier.LeaseError
	if !errors.As(err, &le) || !slices.Equal(le.Keys, []string{"a"}) {
		t.Fatalf("Extend after a's expiry: %v, want a *LeaseError naming a", err)
	}
	wantKeys(t, "renewed", renewed, "b")
	wantKeys(t, "w2 takes a", claim(t, f, "w2", 10), "a")
	finish(t, f, renewed...)
}

func testRelease(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	add(t, f, 4, page("a"), page("b"), page("c"), page("d"))
	ls := claim(t, f, "w1", 2)
	// Draining: w1 gives back what it will not fetch; it comes out first.
	if err := f.Release(ctx, ls); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, f, frontier.Counts{Queued: 4})
	l2 := claim(t, f, "w2", 3)
	wantKeys(t, "after release", l2, "a", "b", "c")
	// Releasing a lease that is no longer held changes nothing.
	if err := f.Release(ctx, ls); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, f, frontier.Counts{Queued: 1, Leased: 3})
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0]}}, nil); !errors.Is(err, frontier.ErrLeaseLost) {
		t.Fatalf("Finish of a released lease: %v, want ErrLeaseLost", err)
	}
	finish(t, f, l2...)
}

func testFinishFailed(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	add(t, f, 3, page("a"), page("b"), page("c"))
	ls := claim(t, f, "w1", 3)
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0], Failed: "connection refused"}, {Lease: ls[1]}, {Lease: ls[2], Failed: "404"}}, nil); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, f, frontier.Counts{Done: 1, Failed: 2})
	fs, err := f.Failures(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(fs, func(x, y frontier.Failure) int { return cmpString(x.URL, y.URL) })
	if len(fs) != 2 || fs[0] != (frontier.Failure{URL: "a", Reason: "connection refused"}) || fs[1] != (frontier.Failure{URL: "c", Reason: "404"}) {
		t.Fatalf("failures %+v", fs)
	}
	if fs, _ := f.Failures(ctx, 1); len(fs) != 1 {
		t.Fatalf("Failures(1) returned %d", len(fs))
	}
	// Failed URLs are not queued again in the same crawl.
	add(t, f, 0, page("a"))
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testResume(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("the backend keeps nothing between processes")
	}
	f, clock := begin(t, b)
	add(t, f, 4, page("a"), page("b"), page("c"), page("d"))
	ls := claim(t, f, "w1", 3)
	finish(t, f, ls[0])
	// The process dies with b and c leased; another worker still holds d.
	other := claim(t, f, "w2", 1)
	f = b.Reopen(t, f, clock.Now)
	info, err := f.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Resumed || info.Crawl != 1 {
		t.Fatalf("Begin after the crash: %+v, want crawl 1 resumed", info)
	}
	wantCounts(t, f, frontier.Counts{Done: 1, Leased: 3})
	// Begin stole no lease: w2 finishes d.
	finish(t, f, other...)
	if got := claim(t, f, "w1", 10); len(got) != 0 {
		t.Fatalf("claimed %q while their leases live", keys(got))
	}
	clock.Advance(ttl)
	got := claim(t, f, "w1", 10)
	wantKeys(t, "after expiry", got, "b", "c")
	finish(t, f, got...)
	add(t, f, 0, page("a"), page("b"), page("c"), page("d"))
	wantCounts(t, f, frontier.Counts{Done: 4})
	// A finished crawl: the next Begin starts crawl 2.
	if info, err := f.Begin(ctx, false); err != nil || info.Resumed || info.Crawl != 2 {
		t.Fatalf("Begin after the crawl finished: %+v %v, want crawl 2", info, err)
	}
}

func testConcurrentWorkers(t *testing.T, b Backend) {
	f, clock := begin(t, b)
	const n = 400
	var es []frontier.Entry
	for i := range n {
		if i%3 == 0 {
			es = append(es, req(fmt.Sprint("u", i)))
		} else {
			es = append(es, page(fmt.Sprint("u", i)))
		}
	}
	add(t, f, n, es...)
	var mu sync.Mutex
	finished := map[string]string{}
	var wg sync.WaitGroup
	// Errors are collected, not sent on a channel: a backend that hands a
	// key out twice must fail the test, not block it.
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range 8 {
		worker := fmt.Sprint("w", w)
		wg.Go(func() {
			for {
				ls, err := f.Claim(ctx, worker, 7, ttl)
				if err != nil {
					fail(err)
					return
				}
				if len(ls) == 0 {
					return
				}
				// Workers also add what they find: known keys, and a few new.
				found := []frontier.Entry{page(ls[0].Key)}
				if !strings.HasPrefix(ls[0].Key, "new-") {
					found = append(found, page("new-"+ls[0].Key))
				}
				if _, err := f.Add(ctx, found); err != nil {
					fail(err)
					return
				}
				if w%2 == 0 {
					clock.Advance(time.Millisecond)
					if ls, err = f.Extend(ctx, ls, ttl); err != nil {
						fail(err)
						return
					}
				}
				var os []frontier.Outcome
				for _, l := range ls {
					os = append(os, frontier.Outcome{Lease: l})
				}
				if err := f.Finish(ctx, os, nil); err != nil {
					fail(err)
					return
				}
				mu.Lock()
				for _, l := range ls {
					if by, ok := finished[l.Key]; ok {
						errs = append(errs, fmt.Errorf("%s finished by %s and %s", l.Key, by, worker))
					}
					finished[l.Key] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	// Every key once: the n added first, and one new-... key for each
	// batch's first key.
	c, err := f.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queued != 0 || c.Leased != 0 || c.Done != len(finished) || len(finished) <= n {
		t.Fatalf("counts %+v after %d distinct keys finished (%d added first)", c, len(finished), n)
	}
}

func testRecrawl(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	add(t, f, 3, page("a"), page("b"), page("c"))
	ls := claim(t, f, "w1", 3)
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0]}, {Lease: ls[1]}, {Lease: ls[2], Failed: "503"}}, nil); err != nil {
		t.Fatal(err)
	}
	// A new crawl without recrawl: done URLs stay done, a failed one is
	// tried again.
	info, err := f.Begin(ctx, false)
	if err != nil || info.Crawl != 2 || info.Resumed {
		t.Fatalf("second crawl: %+v %v", info, err)
	}
	add(t, f, 1, page("a"), page("b"), page("c"))
	finish(t, f, claim(t, f, "w1", 10)...)
	// With recrawl, everything is queued again, once.
	if info, err := f.Begin(ctx, true); err != nil || info.Crawl != 3 {
		t.Fatalf("third crawl: %+v %v", info, err)
	}
	// Keys archived outside the queue (a browser's fetches) are finished
	// in this crawl by Recover, new ones and those finished in an
	// earlier crawl alike: they are not queued again.
	if err := f.Recover(ctx, []string{"a", "d"}, nil); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, f, frontier.Counts{Done: 2})
	add(t, f, 2, page("a"), page("b"), page("c"), page("a"), page("d"))
	wantCounts(t, f, frontier.Counts{Queued: 2, Done: 2})
}

func testDigests(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	if _, ok, err := f.LookupDigest(ctx, "sha1:AAAA"); ok || err != nil {
		t.Fatalf("lookup in an empty index: %v %v", ok, err)
	}
	add(t, f, 2, page("a"), page("b"))
	ls := claim(t, f, "w1", 2)
	first := frontier.DigestRef{Digest: "sha1:AAAA", RecordID: "<urn:uuid:1>", URI: "http://a/", Date: "2026-12-01T12:00:00Z"}
	later := frontier.DigestRef{Digest: "sha1:AAAA", RecordID: "<urn:uuid:2>", URI: "http://b/", Date: "2026-12-01T12:00:01Z"}
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0]}}, []frontier.DigestRef{first}); err != nil {
		t.Fatal(err)
	}
	// The first record of a payload is the one revisits refer to.
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[1]}}, []frontier.DigestRef{later}); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := f.LookupDigest(ctx, "sha1:AAAA"); !ok || err != nil || d != first {
		t.Fatalf("lookup: %+v %v %v, want %+v", d, ok, err, first)
	}
	// Digests of a lost lease's records are indexed all the same.
	add(t, f, 1, page("c"))
	ls = claim(t, f, "w1", 1)
	if _, err := f.Extend(ctx, ls, 0); err != nil {
		t.Fatal(err)
	}
	lost := frontier.DigestRef{Digest: "sha1:BBBB", RecordID: "<urn:uuid:3>", URI: "http://c/", Date: "2026-12-01T12:00:02Z"}
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0]}}, []frontier.DigestRef{lost}); !errors.Is(err, frontier.ErrLeaseLost) {
		t.Fatalf("Finish after a zero extension: %v, want ErrLeaseLost", err)
	}
	if d, ok, _ := f.LookupDigest(ctx, "sha1:BBBB"); !ok || d != lost {
		t.Fatalf("digest of a lost lease's record not indexed: %+v %v", d, ok)
	}
	// Recover indexes digests and finishes queued keys, but not one
	// leased by a live worker.
	add(t, f, 2, page("d"), page("e"))
	live := claim(t, f, "w2", 1)
	wantKeys(t, "w2", live, "c")
	live = append(live, claim(t, f, "w2", 1)...)
	if err := f.Recover(ctx, []string{"d", "e"}, []frontier.DigestRef{{Digest: "sha1:CCCC", RecordID: "<urn:uuid:4>"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.LookupDigest(ctx, "sha1:CCCC"); !ok {
		t.Fatal("recovered digest not indexed")
	}
	finish(t, f, live...)
	wantCounts(t, f, frontier.Counts{Done: 5})
}

func testRobots(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	if _, ok, err := f.Robots(ctx, "http://a"); ok || err != nil {
		t.Fatalf("robots of an unknown origin: %v %v", ok, err)
	}
	first := frontier.RobotsTxt{Status: 200, Body: []byte("User-agent: *\nDisallow: /x\n"), Crawl: 1}
	if got, err := f.PutRobots(ctx, "http://a", first); err != nil || string(got.Body) != string(first.Body) {
		t.Fatalf("PutRobots: %+v %v", got, err)
	}
	// Another worker fetched it too: the first stays, and is returned.
	if got, err := f.PutRobots(ctx, "http://a", frontier.RobotsTxt{Status: 404, Crawl: 1}); err != nil || got.Status != 200 {
		t.Fatalf("second PutRobots: %+v %v, want the first kept", got, err)
	}
	if got, ok, err := f.Robots(ctx, "http://a"); !ok || err != nil || got.Status != 200 || string(got.Body) != string(first.Body) {
		t.Fatalf("Robots: %+v %v %v", got, ok, err)
	}
	// A later crawl fetches it anew.
	if got, err := f.PutRobots(ctx, "http://a", frontier.RobotsTxt{Status: 404, Crawl: 2}); err != nil || got.Status != 404 {
		t.Fatalf("PutRobots of a later crawl: %+v %v", got, err)
	}
}

func wantCookies(t *testing.T, f frontier.Frontier, want ...string) {
	t.Helper()
	cs, err := f.Cookies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Key+"="+string(c.Data))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("cookies %q, want %q", got, want)
	}
}

func testCookies(t *testing.T, b Backend) {
	f, clock := begin(t, b)
	wantCookies(t, f)
	put := func(cs ...frontier.Cookie) {
		t.Helper()
		if err := f.PutCookies(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	// Data is opaque: any bytes, a space and a newline included.
	put(frontier.Cookie{Key: "b", Data: []byte("2")}, frontier.Cookie{Key: "a", Data: []byte("1 \n\x00x")})
	wantCookies(t, f, "a=1 \n\x00x", "b=2")
	// Same key: replaced; no data: removed; removing an unknown key is no error.
	put(frontier.Cookie{Key: "b", Data: []byte("3")}, frontier.Cookie{Key: "a"}, frontier.Cookie{Key: "zz"})
	wantCookies(t, f, "b=3")
	if b.Reopen != nil {
		add(t, f, 1, page("x")) // the crawl is unfinished: the next Begin resumes it
		f = b.Reopen(t, f, clock.Now)
		if info, err := f.Begin(ctx, false); err != nil || !info.Resumed {
			t.Fatalf("Begin after the crash: %+v %v, want the crawl resumed", info, err)
		}
		wantCookies(t, f, "b=3") // durable: the resumed crawl has them
		finish(t, f, claim(t, f, "w1", 10)...)
	}
	// A new crawl starts with an empty jar.
	if info, err := f.Begin(ctx, false); err != nil || info.Resumed {
		t.Fatalf("Begin: %+v %v, want a new crawl", info, err)
	}
	wantCookies(t, f)
	put(frontier.Cookie{Key: "c", Data: []byte("4")})
	wantCookies(t, f, "c=4")
}

func testPages(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	add(t, f, 3, page("a"), page("b"), page("c"))
	ls := claim(t, f, "w1", 2)
	l2 := claim(t, f, "w2", 1)
	date := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	pa := &frontier.Page{URL: "http://a/", Title: "A", Date: date, Seed: true, Size: 10}
	pb := &frontier.Page{URL: "http://b/", Title: "B", Date: date, Size: 20}
	pc := &frontier.Page{URL: "http://c/", Title: "C", Date: date, Size: 30}
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: ls[0], Page: pa}, {Lease: ls[1], Page: pb}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Finish(ctx, []frontier.Outcome{{Lease: l2[0], Page: pc}}, nil); err != nil {
		t.Fatal(err)
	}
	ps, err := f.Pages(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].URL != pa.URL || ps[1].URL != pb.URL || ps[0].Title != "A" || !ps[0].Seed || ps[1].Size != 20 || !ps[0].Date.Equal(date) || ps[0].Seq >= ps[1].Seq {
		t.Fatalf("w1's pages: %+v", ps)
	}
	if err := f.ClearPages(ctx, "w1", ps[0].Seq); err != nil {
		t.Fatal(err)
	}
	if ps2, _ := f.Pages(ctx, "w1"); len(ps2) != 1 || ps2[0].URL != pb.URL {
		t.Fatalf("w1's pages after clearing the first: %+v", ps2)
	}
	if ps3, _ := f.Pages(ctx, "w2"); len(ps3) != 1 || ps3[0].URL != pc.URL {
		t.Fatalf("w2's pages: %+v", ps3)
	}
}

func testRuns(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s1, err := f.StartRun(ctx, frontier.RunInfo{Worker: "w1", Crawl: 1, PID: 10, Started: start})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := f.StartRun(ctx, frontier.RunInfo{Worker: "w2", Crawl: 1, PID: 11, Started: start.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if s1 == s2 {
		t.Fatalf("two runs numbered %d", s1)
	}
	if err := f.EndRun(ctx, s1, frontier.RunInfo{Worker: "w1", Crawl: 1, PID: 10, Started: start, Ended: start.Add(time.Minute), Exit: 3, Captures: 7, Bytes: 700, Failures: 1, Files: []string{"a.warc.gz"}}); err != nil {
		t.Fatal(err)
	}
	runs, err := f.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Worker != "w1" || runs[0].Exit != 3 || runs[0].Captures != 7 || !runs[0].Ended.Equal(start.Add(time.Minute)) ||
		len(runs[0].Files) != 1 || runs[1].Worker != "w2" || !runs[1].Ended.IsZero() {
		t.Fatalf("runs %+v", runs)
	}
}

func testClosed(t *testing.T, b Backend) {
	f, _ := begin(t, b)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Add(ctx, []frontier.Entry{page("a")}); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
	if _, err := f.Claim(ctx, "w1", 1, ttl); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Claim after Close: %v", err)
	}
	if _, err := f.Counts(ctx); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("Counts after Close: %v", err)
	}
	if err := f.Close(); !errors.Is(err, frontier.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// Bench measures a backend at the crawl's own pace: each iteration adds a
// page's links (20 new URLs, 80 known), claims 100 entries, extends them
// and finishes them with a digest each, as one worker does. Reported per
// URL finished.
func Bench(b *testing.B, open func(b *testing.B) frontier.Frontier) {
	f := open(b)
	if _, err := f.Begin(ctx, false); err != nil {
		b.Fatal(err)
	}
	data := []byte(strings.Repeat("x", 100))
	n := 0
	var known []frontier.Entry
	b.ReportAllocs()
	b.ResetTimer()
	urls := 0
	for b.Loop() {
		es := make([]frontier.Entry, 0, 100)
		for range 20 {
			n++
			e := frontier.Entry{Key: fmt.Sprintf("https://example.com/article/%d", n), Data: data, Requisite: n%2 == 0}
			es = append(es, e)
			if len(known) < 80 {
				known = append(known, e)
			}
		}
		es = append(es, known...)
		if _, err := f.Add(ctx, es); err != nil {
			b.Fatal(err)
		}
		ls, err := f.Claim(ctx, "w1", 100, ttl)
		if err != nil {
			b.Fatal(err)
		}
		if ls, err = f.Extend(ctx, ls, ttl); err != nil {
			b.Fatal(err)
		}
		os := make([]frontier.Outcome, len(ls))
		ds := make([]frontier.DigestRef, len(ls))
		for i, l := range ls {
			os[i] = frontier.Outcome{Lease: l}
			ds[i] = frontier.DigestRef{Digest: "sha1:" + l.Key, RecordID: "<urn:uuid:x>", URI: l.Key, Date: "2026-12-01T12:00:00Z"}
		}
		if err := f.Finish(ctx, os, ds); err != nil {
			b.Fatal(err)
		}
		urls += len(ls)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(urls, 1)), "ns/url")
}

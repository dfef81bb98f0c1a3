package crawl_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/warc"
)

// TestSeedHostsRobotsAtOnce: with a host or domain scope the crawl reads
// each seed host's robots.txt (for its sitemaps) before it queues the
// seeds. The hosts are asked at the same time, not one after another: a
// robots.txt here answers only once every seed host's has been asked for
// (or after a long wait, which the test then reports), so asked in turn
// they would never be seen together.
func TestSeedHostsRobotsAtOnce(t *testing.T) {
	const hosts = 4
	var mu sync.Mutex
	asked, most, inFlight := 0, 0, 0
	all := make(chan struct{})
	var srvs []*httptest.Server
	for range hosts {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/robots.txt" {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprintf(w, "<html><head><title>%s</title><link rel=icon href=/icon.png></head></html>", r.URL.Path)
				return
			}
			mu.Lock()
			asked++
			inFlight++
			most = max(most, inFlight)
			if asked == hosts {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-time.After(20 * time.Second):
			}
			mu.Lock()
			inFlight--
			mu.Unlock()
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		}))
		defer srv.Close()
		srvs = append(srvs, srv)
	}
	var seeds []string
	for _, s := range srvs {
		seeds = append(seeds, s.URL+"/a.html", s.URL+"/b.html")
	}
	h := crawlHostile(t, t.Context(), crawl.Options{Seeds: seeds, Scope: crawl.ScopeHost})
	mu.Lock()
	defer mu.Unlock()
	if asked != hosts {
		t.Errorf("robots.txt asked for %d times, want once for each of %d hosts", asked, hosts)
	}
	if most != hosts {
		t.Errorf("at most %d robots.txt requests in flight, want all %d seed hosts at once", most, hosts)
	}
	resps := map[string]bool{}
	for _, r := range h.recs {
		if r.get("WARC-Type") == "response" {
			resps[r.get("WARC-Target-URI")] = true
		}
	}
	for _, s := range seeds {
		if !resps[s] {
			t.Errorf("%s not archived", s)
		}
	}
}

// TestRobotsInterruptedStored: a crawl interrupted just after a host's
// robots.txt was answered and archived (that of a page it links to, with
// Outlinks) stores it in the state, so the resumed crawl neither fetches
// nor archives it again: one robots.txt capture of that host in all.
func TestRobotsInterruptedStored(t *testing.T) {
	var mu sync.Mutex
	robots := map[string]int{}
	var cdn *httptest.Server
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			mu.Lock()
			robots[r.Host]++
			mu.Unlock()
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><head><title>%s</title><link rel=icon href=/icon.png></head><body><a href=%s/c.html>on</a></body></html>", r.URL.Path, cdn.URL)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()
	cdn = httptest.NewServer(http.HandlerFunc(handler))
	defer cdn.Close()
	cdnRobots := cdn.URL + "/robots.txt"
	front, n := newMemory(t)
	opts := crawl.Options{Seeds: []string{srv.URL + "/a.html"}, Outlinks: true, Frontier: front, Crawl: n, Concurrency: 1}

	// The first run is cancelled the moment the second host's robots.txt
	// is archived (Progress is called after its records are written).
	ctx, cancel := context.WithCancel(t.Context())
	first := opts
	first.Progress = func(f crawl.Fetch) {
		if f.URL == cdnRobots {
			cancel()
		}
	}
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crawl.Run(ctx, first, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("the interrupted run: %v, want context.Canceled", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h1 := &hostileRun{}
	for _, f := range w.Files() {
		h1.recs = append(h1.recs, readWARC(t, filepath.Join(dir, f))...)
	}
	h2 := crawlHostile(t, t.Context(), opts)

	count := func(h *hostileRun, u string) int {
		n := 0
		for _, r := range h.recs {
			if r.get("WARC-Type") == "response" && r.get("WARC-Target-URI") == u {
				n++
			}
		}
		return n
	}
	if r1 := count(h1, cdnRobots); r1 != 1 {
		t.Fatalf("the interrupted run archived %s %d times, want once (the test needs it archived before the interrupt)", cdnRobots, r1)
	}
	if r2 := count(h2, cdnRobots); r2 != 0 {
		t.Errorf("the resumed run archived %s again (%d)", cdnRobots, r2)
	}
	if count(h1, cdn.URL+"/c.html")+count(h2, cdn.URL+"/c.html") != 1 {
		t.Errorf("the page on the second host not archived once")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := robots[strings.TrimPrefix(cdn.URL, "http://")]; got != 1 {
		t.Errorf("%s asked for %d times, want once", cdnRobots, got)
	}
}

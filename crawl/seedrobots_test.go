package crawl_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
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

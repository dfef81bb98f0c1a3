package crawl_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
)

// TestRobotsRedirects: a robots.txt behind redirects (http→https, another
// path, as many sites do) is followed for five hops, as RFC 9309 asks;
// every hop is archived, and the rules it leads to are obeyed. Past five
// hops the robots.txt is taken as unavailable (everything allowed); a
// robots.txt that answers 503 disallows every page of its host.
func TestRobotsRedirects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hops     int      // redirects before the rules
		status   int      // of the last answer
		archived []string // pages archived
		skipped  []string // pages skipped by robots.txt
	}{
		{"one redirect", 1, 200, []string{"/public"}, []string{"/private"}},
		{"five redirects", 5, 200, []string{"/public"}, []string{"/private"}},
		{"six redirects", 6, 200, []string{"/public", "/private"}, nil},
		{"503", 0, 503, nil, []string{"/public", "/private"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hop := 0
				if r.URL.Path != "/robots.txt" {
					if _, err := fmt.Sscanf(r.URL.Path, "/robots-%d.txt", &hop); err != nil {
						w.Header().Set("Content-Type", "text/html")
						fmt.Fprintf(w, "<html><head><title>%s</title><link rel=icon href=/icon.png></head></html>", r.URL.Path)
						return
					}
				}
				switch {
				case hop < tc.hops:
					http.Redirect(w, r, fmt.Sprintf("/robots-%d.txt", hop+1), http.StatusMovedPermanently)
				case tc.status != 200:
					w.WriteHeader(tc.status)
				default:
					fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
				}
			}))
			defer srv.Close()
			h := crawlHostile(t, t.Context(), crawl.Options{Seeds: []string{srv.URL + "/public", srv.URL + "/private"}})
			resps := map[string]bool{}
			for _, r := range h.recs {
				if r.get("WARC-Type") == "response" {
					resps[r.get("WARC-Target-URI")] = true
				}
			}
			for i := 0; i <= min(tc.hops, 5); i++ {
				u := srv.URL + "/robots.txt"
				if i > 0 {
					u = fmt.Sprintf("%s/robots-%d.txt", srv.URL, i)
				}
				if _, ok := resps[u]; !ok {
					t.Errorf("robots.txt hop %s not archived", u)
				}
			}
			if _, ok := resps[fmt.Sprintf("%s/robots-%d.txt", srv.URL, 6)]; ok {
				t.Errorf("a sixth redirect of robots.txt was followed")
			}
			for _, p := range tc.archived {
				if _, ok := resps[srv.URL+p]; !ok {
					t.Errorf("%s not archived", p)
				}
			}
			fails := h.failures()
			for _, p := range tc.skipped {
				if _, ok := resps[srv.URL+p]; ok {
					t.Errorf("%s archived, though robots.txt disallows it", p)
				}
				if f, ok := fails[srv.URL+p]; !ok || !strings.Contains(f.Err.Error(), "robots.txt") {
					t.Errorf("%s: not reported skipped by robots.txt: %+v", p, f)
				}
			}
			if h.res.Skipped != len(tc.skipped) {
				t.Errorf("%d skipped, want %d", h.res.Skipped, len(tc.skipped))
			}
		})
	}
}

// TestRobotsUnavailableThenBack: while a host's robots.txt answers 503
// (or the host does not answer), none of its pages is fetched; robots.txt
// is asked again after a back-off, and once it answers, its rules apply
// and the pages waiting are fetched. Every answer is archived, and the
// crawl log says when the host went and came back.
func TestRobotsUnavailableThenBack(t *testing.T) {
	var robotsAsked, early atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			if robotsAsked.Add(1) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
			return
		}
		if robotsAsked.Load() <= 2 {
			early.Add(1)
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><head><title>%s</title><link rel=icon href=/icon.png></head></html>", r.URL.Path)
	}))
	defer srv.Close()
	var log strings.Builder
	h := crawlHostile(t, t.Context(), crawl.Options{Seeds: []string{srv.URL + "/public", srv.URL + "/private"},
		Retries: 5, RetryBase: time.Millisecond, Log: &log})
	if n := early.Load(); n != 0 {
		t.Errorf("%d pages fetched while robots.txt answered 503", n)
	}
	statuses := map[string]bool{}
	resps := map[string]bool{}
	for _, r := range h.recs {
		if r.get("WARC-Type") != "response" {
			continue
		}
		resps[r.get("WARC-Target-URI")] = true
		if r.get("WARC-Target-URI") == srv.URL+"/robots.txt" {
			statuses[strings.Fields(string(r.Block))[1]] = true
		}
	}
	if !statuses["503"] || !statuses["200"] {
		t.Errorf("robots.txt answers archived: %v, want the 503 and the 200", statuses)
	}
	if !resps[srv.URL+"/public"] {
		t.Error("/public was not fetched once robots.txt answered")
	}
	if resps[srv.URL+"/private"] {
		t.Error("/private was fetched, though the robots.txt that came back disallows it")
	}
	if f, ok := h.failures()[srv.URL+"/private"]; !ok || !errors.Is(f.Err, crawl.ErrRobotsDisallowed) {
		t.Errorf("/private: %+v, want it skipped by the rules", f)
	}
	for _, want := range []string{"robots.txt answered 503", "robots.txt answers again"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the crawl log does not say %q:\n%s", want, log.String())
		}
	}
}

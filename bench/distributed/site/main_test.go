package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve adds a host to s served by an httptest server.
func serve(t *testing.T, s *site) *httptest.Server {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	h = s.addHost(srv.Listener.Addr().String())
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// stats returns the control listener's figures.
func stats(t *testing.T, s *site) map[string]string {
	t.Helper()
	w := httptest.NewRecorder()
	s.control().ServeHTTP(w, httptest.NewRequest("GET", "/stats", nil))
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(w.Body.String()), "\n") {
		k, v, _ := strings.Cut(l, " ")
		m[k] = v
	}
	return m
}

func TestPages(t *testing.T) {
	s := newSite(3, 3, 2, 100, 0, false)
	srv := serve(t, s)
	host := srv.Listener.Addr().String()

	code, body := get(t, srv.URL+"/p/0-0.html")
	if code != 200 || !strings.Contains(body, host) {
		t.Fatalf("first page: %d\n%s", code, body)
	}
	// The next page of the chain, and first pages of two other chains.
	for _, l := range []string{`href="/p/0-1.html"`, `href="/p/1-0.html"`, `href="/p/2-0.html"`} {
		if !strings.Contains(body, l) {
			t.Errorf("first page lacks %s:\n%s", l, body)
		}
	}
	if strings.Contains(body, "previous") {
		t.Errorf("the first page of a chain links to a page before it:\n%s", body)
	}
	code, body = get(t, srv.URL+"/p/0-2.html")
	if code != 200 || strings.Contains(body, "next") || !strings.Contains(body, `href="0-1.html"`) {
		t.Errorf("last page of a chain: %d\n%s", code, body)
	}
	for _, p := range []string{"/p/3-0.html", "/p/0-3.html", "/p/0-0.htmlx", "/p/00-0.html", "/sitemap.xml", "/"} {
		if code, _ := get(t, srv.URL+p); code != 404 {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	if code, body := get(t, srv.URL+"/robots.txt"); code != 200 || !strings.Contains(body, "Allow: /") {
		t.Errorf("robots.txt: %d %q", code, body)
	}
	st := stats(t, s)
	if st["requests"] != "9" || st["repeats"] != "0" || st["hosts_asked"] != "1" {
		t.Errorf("stats: %v", st)
	}
	get(t, srv.URL+"/p/0-0.html")
	if st := stats(t, s); st["repeats"] != "1" {
		t.Errorf("a page asked for twice: repeats %s", st["repeats"])
	}
}

// The gate holds pages (not robots.txt), and the requests it holds count
// as in flight on their host.
func TestInFlightAndGate(t *testing.T) {
	s := newSite(4, 2, 1, 10, 0, true)
	a, b := serve(t, s), serve(t, s)
	if code, _ := get(t, a.URL+"/robots.txt"); code != 200 {
		t.Fatalf("robots.txt with the gate closed: %d", code)
	}
	var wg sync.WaitGroup
	for _, u := range []string{a.URL + "/p/0-0.html", a.URL + "/p/1-0.html", a.URL + "/p/2-0.html", b.URL + "/p/0-0.html"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u) // not get: t.Fatal is for the test's goroutine
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", u, resp.StatusCode)
			}
		}()
	}
	deadline := time.Now().Add(time.Minute)
	for stats(t, s)["in_flight"] != "4" {
		if time.Now().After(deadline) {
			t.Fatalf("the gate does not hold the requests: %v", stats(t, s))
		}
		time.Sleep(10 * time.Millisecond)
	}
	w := httptest.NewRecorder()
	s.control().ServeHTTP(w, httptest.NewRequest("POST", "/open", nil))
	wg.Wait()
	st := stats(t, s)
	if st["max_in_flight_per_host"] != "3" || st["max_host"] != a.Listener.Addr().String() || st["max_in_flight_all"] != "4" || st["in_flight"] != "0" {
		t.Errorf("stats: %v", st)
	}
	s.control().ServeHTTP(w, httptest.NewRequest("POST", "/reset", nil))
	if st := stats(t, s); st["max_in_flight_per_host"] != "0" || st["requests"] != "0" {
		t.Errorf("after a reset: %v", st)
	}
}

func TestURLFiles(t *testing.T) {
	s := newSite(2, 3, 1, 10, 0, false)
	s.addHost("127.0.2.1:1000")
	s.addHost("127.0.2.2:2000")
	dir := t.TempDir()
	seeds, all := filepath.Join(dir, "seeds"), filepath.Join(dir, "all")
	s.writeURLs(seeds, 1)
	s.writeURLs(all, s.depth)
	b, err := os.ReadFile(seeds)
	if err != nil {
		t.Fatal(err)
	}
	want := "http://127.0.2.1:1000/p/0-0.html\nhttp://127.0.2.2:2000/p/0-0.html\nhttp://127.0.2.1:1000/p/1-0.html\nhttp://127.0.2.2:2000/p/1-0.html\n"
	if string(b) != want {
		t.Errorf("seeds:\n%s\nwant (hosts interleaved):\n%s", b, want)
	}
	b, err = os.ReadFile(all)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	if len(lines) != 2*2*3 || len(seen) != len(lines) || !strings.HasPrefix(string(b), want) {
		t.Errorf("all: %d lines, %d distinct:\n%s", len(lines), len(seen), b)
	}
}

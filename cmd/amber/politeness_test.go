package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/internal/testredis"
)

// politeSite is a site on several hosts for several workers: page hosts
// (one httptest server, so one origin, each) serving /p/N.html, each
// linking to two other pages of its host and holding imgs images of the
// image host, which serves /i/*. Every host records when each request to
// it started, and counts its robots.txt requests.
type politeSite struct {
	hosts []*httptest.Server // the page hosts
	img   *httptest.Server
	pages int // per page host
	imgs  int // images per page

	// robotsHold, if set, holds each robots.txt answer until that many
	// different User-Agents asked for it, or for a second at most: it
	// widens the window in which workers would fetch it together.
	robotsHold int
	// gate, if set, holds pages until that many User-Agents asked for
	// anything, so that every worker has a share of the crawl.
	gate int

	mu       sync.Mutex
	starts   map[string][]time.Time // host → request starts
	hits     map[string]int         // URL → requests
	robotsBy map[string]map[string]bool
	agents   map[string]bool
	byUA     map[string]int
	open     chan struct{}
	robotsIn chan struct{} // a robots.txt request came
}

func newPoliteSite(t *testing.T, hosts, pages, imgs int, setup ...func(*politeSite)) *politeSite {
	s := &politeSite{pages: pages, imgs: imgs, starts: map[string][]time.Time{}, hits: map[string]int{},
		robotsBy: map[string]map[string]bool{}, agents: map[string]bool{}, byUA: map[string]int{},
		open: make(chan struct{}), robotsIn: make(chan struct{}, 1)}
	for _, f := range setup {
		f(s)
	}
	if s.gate == 0 {
		close(s.open)
	}
	for i := 0; i < hosts; i++ {
		srv := httptest.NewServer(http.HandlerFunc(s.serve))
		t.Cleanup(srv.Close)
		s.hosts = append(s.hosts, srv)
	}
	s.img = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.img.Close)
	return s
}

func (s *politeSite) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.mu.Lock()
	s.starts[r.Host] = append(s.starts[r.Host], start)
	s.hits["http://"+r.Host+r.URL.Path]++
	s.byUA[r.UserAgent()]++
	if !s.agents[r.UserAgent()] {
		s.agents[r.UserAgent()] = true
		if len(s.agents) == s.gate {
			close(s.open)
		}
	}
	p := r.URL.Path
	if p == "/robots.txt" {
		if s.robotsBy[r.Host] == nil {
			s.robotsBy[r.Host] = map[string]bool{}
		}
		s.robotsBy[r.Host][r.UserAgent()] = true
		select {
		case s.robotsIn <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	switch {
	case p == "/robots.txt":
		for deadline := time.Now().Add(time.Second); s.robotsHold > 0 && time.Now().Before(deadline); {
			s.mu.Lock()
			n := len(s.robotsBy[r.Host])
			s.mu.Unlock()
			if n >= s.robotsHold {
				break
			}
			select {
			case <-s.robotsIn:
			case <-time.After(20 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "User-agent: *\nDisallow: /private/\n")
	case strings.HasPrefix(p, "/p/"):
		select {
		case <-s.open:
		case <-time.After(60 * time.Second): // the test fails: not every worker came
		case <-r.Context().Done():
			return
		}
		id, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/p/"), ".html"))
		var b strings.Builder
		fmt.Fprintf(&b, "<html><head><title>Page %d</title></head><body>", id)
		for k := 1; k <= 2; k++ {
			fmt.Fprintf(&b, `<a href="/p/%d.html">next</a>`, (id*2+k)%s.pages)
		}
		for k := 0; k < s.imgs; k++ {
			fmt.Fprintf(&b, `<img src="%s/i/%s/%d-%d.png">`, s.img.URL, r.Host, id, k)
		}
		b.WriteString("</body></html>")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, b.String())
	case strings.HasPrefix(p, "/i/"):
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, strings.Repeat(p, 10))
	default:
		http.NotFound(w, r)
	}
}

// seedsFile lists every page of every page host, the hosts interleaved.
func (s *politeSite) seedsFile(t *testing.T, dir string) string {
	var list strings.Builder
	for i := 0; i < s.pages; i++ {
		for _, h := range s.hosts {
			fmt.Fprintf(&list, "%s/p/%d.html\n", h.URL, i)
		}
	}
	p := filepath.Join(dir, "seeds.txt")
	if err := os.WriteFile(p, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkRobotsOnce: each page host was asked for robots.txt exactly once.
func (s *politeSite) checkRobotsOnce(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hosts {
		u := h.URL + "/robots.txt"
		if n := s.hits[u]; n != 1 {
			t.Errorf("%s: %d requests (by %v), want 1 for the whole crawl", u, n, s.robotsBy[strings.TrimPrefix(h.URL, "http://")])
		}
	}
}

// runWorkers starts three workers of crawl id (the first seeding it with
// the site's pages), each with its own User-Agent and collection under
// root, and waits for them: each must exit 0.
func runWorkers(t *testing.T, rs *testredis.Server, s *politeSite, root, id string, args ...string) []string {
	t.Helper()
	seeds := s.seedsFile(t, root)
	var dirs []string
	common := append([]string{"archive", "-q", "--state", rs.URL(), "--crawl-id", id}, args...)
	var cmds []*exec.Cmd
	for i, w := range []string{"A", "B", "C"} {
		dir := filepath.Join(root, w)
		dirs = append(dirs, dir)
		a := append(slices.Clone(common), "--worker-id", "w-"+w, "--user-agent", "worker-"+w, "-o", dir)
		if i == 0 {
			a = append(a, "--seeds", seeds)
		}
		cmd := amberProcess(t, a...)
		cmds = append(cmds, cmd)
		if i == 0 {
			waitSeeded(t, rs, id, cmd)
		}
	}
	for i, cmd := range cmds {
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("worker %d: exit %d\n%s", i, code, cmd.Stdout)
		}
	}
	s.mu.Lock()
	t.Logf("requests by worker: %v", s.byUA)
	s.mu.Unlock()
	return dirs
}

// archived counts the response and revisit records of each URL in dirs.
func archived(t *testing.T, dirs []string) map[string]int {
	got := map[string]int{}
	for _, d := range dirs {
		for _, r := range readRecords(t, d) {
			if r.typ == "response" || r.typ == "revisit" {
				got[r.uri]++
			}
		}
	}
	return got
}

// TestSharedCrawlDelay: three workers with --per-host 1 --delay: on every
// host, no request starts sooner than the delay after the one before,
// whichever workers sent them; robots.txt is fetched once per host; the
// crawl is complete.
func TestSharedCrawlDelay(t *testing.T) {
	rs := testredis.Start(t)
	const delay = 100 * time.Millisecond
	// Enough pages that every worker has some: a worker holds a dozen at
	// most (it claims four at a time), and fetches ten a second from a
	// host. (No gate: with one slot per host, a page held would hold up
	// the host for every worker.)
	const pages = 20
	site := newPoliteSite(t, 2, pages, 1)
	root := t.TempDir()
	dirs := runWorkers(t, rs, site, root, "delay", "--concurrency", "2", "--per-host", "1", "--delay", delay.String())
	site.mu.Lock()
	for host, starts := range site.starts {
		slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
		closest := time.Hour
		for i := 1; i < len(starts); i++ {
			gap := starts[i].Sub(starts[i-1])
			closest = min(closest, gap)
			if gap < delay {
				t.Errorf("%s: request %d started %s after the one before, --delay %s", host, i, gap, delay)
			}
		}
		t.Logf("%s: %d requests, the closest %s apart", host, len(starts), closest)
	}
	site.mu.Unlock()
	site.checkRobotsOnce(t)
	got := archived(t, dirs)
	site.mu.Lock()
	defer site.mu.Unlock()
	for u, n := range site.hits {
		if n != 1 || got[u] != 1 {
			t.Errorf("%s: fetched %d times, %d records", u, n, got[u])
		}
	}
	if len(site.hits) != 2*pages+2*pages+2+2 {
		t.Errorf("%d URLs fetched, want %d pages, as many images, 2 robots.txt and 2 favicons: %v", len(site.hits), 2*pages, site.hits)
	}
	if len(site.byUA) != 3 {
		t.Errorf("want requests from all three workers: %v", site.byUA)
	}
}

// TestSharedCrawlMaxURLsPerHost: three workers with --max-urls-per-host
// N queue N URLs of the image host in all, not N each; every page (N of
// them, the seeds) is archived; amber status --json gives the crawl rate.
func TestSharedCrawlMaxURLsPerHost(t *testing.T) {
	rs := testredis.Start(t)
	const limit = 40
	site := newPoliteSite(t, 1, limit, 3, func(s *politeSite) { s.gate = 3 })
	root := t.TempDir()
	dirs := runWorkers(t, rs, site, root, "cap", "--concurrency", "2", "--per-host", "8", "--max-urls-per-host", strconv.Itoa(limit))
	got := archived(t, dirs)
	images, pages := 0, 0
	site.mu.Lock()
	for u, n := range site.hits {
		switch {
		case strings.Contains(u, "/i/"):
			images++
		case strings.Contains(u, "/p/"):
			pages++
		}
		if n != 1 || got[u] != 1 {
			t.Errorf("%s: fetched %d times, %d records", u, n, got[u])
		}
	}
	site.mu.Unlock()
	t.Logf("%d pages, %d images of %d linked", pages, images, limit*3)
	if images != limit || pages != limit {
		t.Errorf("%d images and %d pages fetched, want %d of each (--max-urls-per-host %d for the whole crawl)", images, pages, limit, limit)
	}
	perDir := map[string]int{}
	for _, d := range dirs {
		for _, r := range readRecords(t, d) {
			if r.typ == "response" && strings.Contains(r.uri, "/i/") {
				perDir[filepath.Base(d)]++
			}
		}
	}
	t.Logf("images per collection: %v", perDir)

	code, sout, stderr := amberRun(t, "status", "--state", rs.URL(), "--crawl-id", "cap", "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d: %s", code, stderr)
	}
	var st struct {
		URLs struct{ Done int } `json:"urls"`
		Rate struct {
			RecentDone       *int     `json:"recentDone"`
			WindowNs         *int64   `json:"windowNs"`
			RecentPerMinute  *float64 `json:"recentPerMinute"`
			OverallPerMinute *float64 `json:"overallPerMinute"`
			ElapsedNs        *int64   `json:"elapsedNs"`
		} `json:"rate"`
	}
	if err := json.Unmarshal([]byte(sout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, sout)
	}
	r := st.Rate
	if r.RecentDone == nil || r.WindowNs == nil || r.RecentPerMinute == nil || r.OverallPerMinute == nil || r.ElapsedNs == nil {
		t.Fatalf("status --json: rate fields missing: %s", sout)
	}
	if st.URLs.Done != 2*limit || *r.RecentDone < 0 || *r.RecentDone > st.URLs.Done || time.Duration(*r.WindowNs) < time.Minute ||
		*r.OverallPerMinute <= 0 || *r.ElapsedNs <= 0 {
		t.Errorf("status --json: %d done, rate %+v", st.URLs.Done, sout)
	}
	if want := float64(*r.RecentDone) / time.Duration(*r.WindowNs).Minutes(); *r.RecentPerMinute != want {
		t.Errorf("recentPerMinute %v, want %v", *r.RecentPerMinute, want)
	}
	code, out, stderr := amberRun(t, "status", "--state", rs.URL(), "--crawl-id", "cap")
	if code != 0 || !strings.Contains(out, "URLs/min overall") {
		t.Errorf("status: exit %d\n%s%s", code, out, stderr)
	}
}

// TestSharedCrawlRobotsOnce: three workers start on three hosts together;
// each robots.txt is slow to answer, but is asked for once for the whole
// crawl: the others wait for what the first stored.
func TestSharedCrawlRobotsOnce(t *testing.T) {
	rs := testredis.Start(t)
	site := newPoliteSite(t, 3, 10, 1, func(s *politeSite) { s.robotsHold = 3 })
	root := t.TempDir()
	dirs := runWorkers(t, rs, site, root, "robots", "--concurrency", "2")
	site.checkRobotsOnce(t)
	got := archived(t, dirs)
	for _, h := range site.hosts {
		if n := got[h.URL+"/robots.txt"]; n != 1 {
			t.Errorf("%s/robots.txt: %d records", h.URL, n)
		}
		for i := 0; i < site.pages; i++ {
			if u := fmt.Sprintf("%s/p/%d.html", h.URL, i); got[u] != 1 {
				t.Errorf("%s: %d records", u, got[u])
			}
		}
	}
}

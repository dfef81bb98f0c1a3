package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amber-archiver/amber/internal/testredis"
)

// sharedSite is a site for several workers: pages linking to each other,
// each with its own image, and one logo served at one URL per page with the same
// bytes (a revisit of the first archived). It counts the requests per path.
//
// With gate set, it answers nothing but robots.txt until requests came
// with gate different User-Agents (one per worker), so that every worker
// has a share of the crawl however fast the first one is.
type sharedSite struct {
	srv    *httptest.Server
	pages  int
	gate   int
	mu     sync.Mutex
	hits   map[string]int
	agents map[string]bool
	open   chan struct{}
	// digestIn, if set, is asked before a logo but /logo/0.png is served whether
	// the logo's digest is in the crawl's index yet: so it is a revisit.
	digestIn func(digest string) bool
	// delay is how long each answer takes; onHit hears of every request
	// (with the mutex held).
	delay time.Duration
	onHit func(agent string, n int)
	byUA  map[string]int
	// inFlight and maxInFlight count the requests being answered.
	inFlight, maxInFlight int
	// answer, if set, is called before each answer but robots.txt's, once
	// the gate is open, without the mutex: it may hold the answer back.
	answer func(path string)
}

// newSharedSite starts the site, set up by each of setup first.
func newSharedSite(t *testing.T, pages, gate int, setup ...func(*sharedSite)) *sharedSite {
	s := &sharedSite{pages: pages, gate: gate, hits: map[string]int{}, agents: map[string]bool{}, open: make(chan struct{})}
	if gate == 0 {
		close(s.open)
	}
	for _, f := range setup {
		f(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

var sharedLogo = bytes.Repeat([]byte("the same logo, twice. "), 200)

func (s *sharedSite) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if s.byUA == nil {
		s.byUA = map[string]int{}
	}
	s.byUA[r.UserAgent()]++
	if s.onHit != nil {
		s.onHit(r.UserAgent(), s.byUA[r.UserAgent()])
	}
	if !s.agents[r.UserAgent()] {
		s.agents[r.UserAgent()] = true
		if len(s.agents) == s.gate {
			close(s.open)
		}
	}
	s.mu.Unlock()
	p := r.URL.Path
	time.Sleep(s.delay)
	if p != "/robots.txt" {
		select {
		case <-s.open:
		case <-time.After(60 * time.Second): // the test fails: not every worker came
		case <-r.Context().Done():
			return
		}
		if s.answer != nil {
			s.answer(p)
		}
	}
	switch {
	case p == "/" || strings.HasPrefix(p, "/p/"):
		id := 0
		if p != "/" {
			id, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/p/"), ".html"))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<html><head><title>Page %d</title></head><body>", id)
		for k := 1; k <= 2; k++ {
			fmt.Fprintf(&b, `<a href="/p/%d.html">next</a>`, (id*2+k)%s.pages)
		}
		fmt.Fprintf(&b, `<img src="/img/%d.png"><img src="/logo/%d.png">`, id, id)
		b.WriteString(strings.Repeat("<p>Shared crawl.</p>", 30) + "</body></html>")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, b.String())
	case strings.HasPrefix(p, "/logo/") && p != "/logo/0.png" && s.digestIn != nil:
		sum := sha1.Sum(sharedLogo)
		d := "sha1:" + base32.StdEncoding.EncodeToString(sum[:])
		for deadline := time.Now().Add(60 * time.Second); !s.digestIn(d) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(sharedLogo)
	case strings.HasPrefix(p, "/logo/"):
		w.Header().Set("Content-Type", "image/png")
		w.Write(sharedLogo)
	case strings.HasPrefix(p, "/img/"):
		w.Header().Set("Content-Type", "image/png")
		w.Write(bytes.Repeat([]byte(p), 2000/len(p)+1))
	default:
		http.NotFound(w, r)
	}
}

// seedsFile writes a seeds file of every page in dir: all of them, as a
// worker claims a dozen URLs at once and each should have a share.
func (s *sharedSite) seedsFile(t *testing.T, dir string) string {
	var list strings.Builder
	for i := 0; i < s.pages; i++ {
		fmt.Fprintf(&list, "%s/p/%d.html\n", s.srv.URL, i)
	}
	p := filepath.Join(dir, "seeds.txt")
	if err := os.WriteFile(p, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// paths is every path the server was asked for.
func (s *sharedSite) paths() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// waitSeeded waits until the crawl id has settings in Redis.
func waitSeeded(t *testing.T, rs *testredis.Server, id string, seeder *exec.Cmd) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: rs.Addr(), DisableIdentity: true})
	defer c.Close()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n, _ := c.LLen(context.Background(), "amber:{"+id+"}:pages").Result()
		d, _ := c.HGet(context.Background(), "amber:{"+id+"}:meta", "d").Int()
		if n > 0 || d > 0 {
			return
		}
		if seeder.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("the first worker did not seed the crawl:\n%s", seeder.Stdout)
		}
	}
}

func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode()
}

// TestSharedCrawl crawls one site with three worker processes through one
// Redis, each into its own collection: together they hold every URL once,
// verify clean as one set, and a payload one worker archived is a revisit
// in the others'. amber status reads the crawl from Redis.
func TestSharedCrawl(t *testing.T) {
	rs := testredis.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr(), DisableIdentity: true})
	defer rc.Close()
	site := newSharedSite(t, 60, 3, func(s *sharedSite) {
		s.digestIn = func(d string) bool {
			ok, _ := rc.HExists(context.Background(), "amber:{news}:digests", d).Result()
			return ok
		}
	})
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "A"), filepath.Join(root, "B"), filepath.Join(root, "C")}
	// Enough seeds that the first worker cannot claim them all at once.
	seeds := site.seedsFile(t, root)
	// --per-host 8: the gate holds requests of every worker; a logo waits
	// for the first logo's digest, longer than the 30 s --header-timeout
	// on a loaded machine (it was then fetched again).
	common := []string{"archive", "-q", "--state", rs.URL(), "--crawl-id", "news", "--concurrency", "2", "--per-host", "8", "--header-timeout", "5m"}
	seeder := amberProcess(t, append(common, "--scope", "host", "--worker-id", "w-a", "--user-agent", "worker-a", "-o", dirs[0], "--seeds", seeds, site.srv.URL+"/")...)
	waitSeeded(t, rs, "news", seeder)
	b := amberProcess(t, append(common, "--worker-id", "w-b", "--user-agent", "worker-b", "-o", dirs[1])...)
	c := amberProcess(t, append(common, "--user-agent", "worker-c", "-o", dirs[2])...) // default worker id HOST-PID

	// Mid-crawl (or after, on a fast machine), status reads Redis.
	code, out, stderr := amberRun(t, "status", "--state", rs.URL(), "--crawl-id", "news")
	if code != 0 || !strings.Contains(out, "crawl \"news\"") {
		t.Errorf("status mid-crawl: exit %d\n%s%s", code, out, stderr)
	}
	for i, cmd := range []*exec.Cmd{seeder, b, c} {
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("worker %d: exit %d\n%s", i, code, cmd.Stdout)
		}
	}

	// Every URL the server was asked for is in the collections, once
	// (robots.txt aside: workers may fetch it together before one stores it).
	got := map[string]int{}
	var revisits []warcRec
	byID := map[string]warcRec{}
	dirOf := map[string]string{}
	perDir := map[string]int{}
	for _, d := range dirs {
		for _, r := range readRecords(t, d) {
			switch r.typ {
			case "response", "revisit":
				got[strings.TrimPrefix(r.uri, site.srv.URL)]++
				perDir[d]++
				byID[r.id] = r
				dirOf[r.id] = filepath.Base(d)
				if r.typ == "revisit" {
					revisits = append(revisits, r)
				}
			}
		}
	}
	for p, n := range site.paths() {
		if p == "/robots.txt" {
			if got[p] < 1 || got[p] > n {
				t.Errorf("%s: %d records for %d requests", p, got[p], n)
			}
			continue
		}
		if n != 1 || got[p] != 1 {
			t.Errorf("%s: fetched %d times, %d records in the collections", p, n, got[p])
			for _, d := range dirs {
				logs, _ := filepath.Glob(filepath.Join(d, "logs", "*.jsonl"))
				for _, l := range logs {
					b, _ := os.ReadFile(l)
					for _, line := range strings.Split(string(b), "\n") {
						if strings.Contains(line, p+`"`) {
							t.Logf("  %s crawl log: %s", filepath.Base(d), line)
						}
					}
				}
			}
		}
	}
	for i := 0; i < site.pages; i++ {
		if got[fmt.Sprintf("/p/%d.html", i)] != 1 {
			t.Errorf("page %d not archived once", i)
		}
	}
	t.Logf("records per collection: %v", perDir)
	if len(perDir) != 3 {
		t.Errorf("want records in all three collections: %v", perDir)
	}
	// The logos: one response (/logo/0.png, served first), revisits of it
	// in every collection, so in collections other than its own.
	across := 0
	for _, r := range revisits {
		if strings.Contains(r.uri, "/logo/") {
			if r.refersToURI == "" || r.refersTo == "" || r.refersToDate == "" {
				t.Errorf("revisit of %s refers to nothing: %+v", r.uri, r)
			}
			first, ok := byID[r.refersTo]
			if !ok || first.typ != "response" || first.uri != r.refersToURI || first.date != r.refersToDate || first.uri == r.uri {
				t.Errorf("revisit of %s refers to %s %s %s, not a response of the collections: %+v", r.uri, r.refersTo, r.refersToURI, r.refersToDate, first)
			}
			if dirOf[r.id] != dirOf[first.id] {
				across++
			}
		}
	}
	t.Logf("%d revisits of the logo refer to a record in another collection", across)
	if across == 0 {
		t.Errorf("no revisit of the logo refers to another collection's record")
	}
	if code, out, stderr := amberRun(t, append([]string{"verify"}, dirs...)...); code != 0 {
		t.Errorf("verify A B C: exit %d\n%s%s", code, out, stderr)
	}

	// status --json after the crawl: everything done, no lease, three
	// workers that ended, three runs.
	code, sout, stderr := amberRun(t, "status", "--state", rs.URL(), "--crawl-id", "news", "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d: %s", code, stderr)
	}
	var st struct {
		CrawlID string `json:"crawlId"`
		Crawl   uint64 `json:"crawl"`
		URLs    struct {
			Queued, Leased, Done, Failed int
		} `json:"urls"`
		Leases  []json.RawMessage `json:"leases"`
		Workers []struct {
			ID    string `json:"id"`
			Alive bool   `json:"alive"`
		} `json:"workers"`
		Runs []struct {
			Worker string `json:"worker"`
			Exit   int    `json:"exit"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, sout)
	}
	total := 0
	for _, n := range perDir {
		total += n
	}
	if st.CrawlID != "news" || st.Crawl != 1 || st.URLs.Queued != 0 || st.URLs.Leased != 0 || st.URLs.Done == 0 || len(st.Leases) != 0 {
		t.Errorf("status after the crawl: %s", sout)
	}
	if len(st.Workers) != 3 || len(st.Runs) != 3 {
		t.Errorf("status: want 3 workers and 3 runs: %s", sout)
	}
	for _, w := range st.Workers {
		if w.Alive {
			t.Errorf("worker %s alive after it ended", w.ID)
		}
	}

	// A worker joining the finished crawl says so and exits 0.
	code, out, stderr = amberRun(t, "archive", "--state", rs.URL(), "--crawl-id", "news", "-o", filepath.Join(root, "D"))
	if code != 0 || !strings.Contains(out+stderr, "has finished") {
		t.Errorf("joining a finished crawl: exit %d\n%s%s", code, out, stderr)
	}
	// The first worker's command again: finished too.
	code, out, stderr = amberRun(t, "archive", "--state", rs.URL(), "--crawl-id", "news", "--scope", "host", "--worker-id", "w-a", "-o", dirs[0], "--seeds", seeds, site.srv.URL+"/")
	if code != 0 || !strings.Contains(out+stderr, "has finished") {
		t.Errorf("the seeder again: exit %d\n%s%s", code, out, stderr)
	}
}

// TestSharedCrawlBadInput: a bad or unreachable Redis URL, a wrong
// password, a crawl id taken by other seeds or scope: one line, exit 2,
// nothing fetched.
func TestSharedCrawlBadInput(t *testing.T) {
	rs := testredis.Start(t, "--requirepass", "s3cret")
	site := newSharedSite(t, 5, 0)
	root := t.TempDir()
	good := "redis://:s3cret@" + rs.Addr() + "/0"
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := ln.Addr().String()
	ln.Close()
	seed := site.srv.URL + "/"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad URL", []string{"--state", "http://" + rs.Addr(), seed}, "bad Redis URL"},
		{"bad DB", []string{"--state", "redis://" + rs.Addr() + "/x", seed}, "bad Redis URL"},
		{"unreachable", []string{"--state", "redis://" + refused + "/0", seed}, "unreachable"},
		{"wrong password", []string{"--state", "redis://:wrong@" + rs.Addr() + "/0", seed}, "credentials"},
		{"no password", []string{"--state", "redis://" + rs.Addr() + "/0", seed}, "credentials"},
		{"not started", []string{"--state", good, "--crawl-id", "none"}, "has not been started"},
		{"bad lease ttl", []string{"--state", good, "--lease-ttl", "0s", seed}, "--lease-ttl"},
		{"links-from", []string{"--state", good, "--links-from", "x.html", seed}, "--links-from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := amberRun(t, append([]string{"archive", "-o", filepath.Join(root, "x")}, tc.args...)...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "s3cret") || strings.Contains(stderr, "wrong") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, out, stderr, tc.want)
			}
		})
	}
	if n := len(site.paths()); n != 0 {
		t.Errorf("bad input fetched %d paths", n)
	}
	// A crawl started; another worker with other seeds, or another scope,
	// is refused.
	if code, _, stderr := amberRun(t, "archive", "-q", "--state", good, "--crawl-id", "c1", "-o", filepath.Join(root, "A"), seed); code != 0 {
		t.Fatalf("first worker: exit %d: %s", code, stderr)
	}
	before := len(site.paths())
	for _, args := range [][]string{{seed + "p/1.html"}, {"--scope", "host", seed}} {
		code, _, stderr := amberRun(t, append([]string{"archive", "--state", good, "--crawl-id", "c1", "-o", filepath.Join(root, "B")}, args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "other seeds or scope") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if after := len(site.paths()); after != before {
		t.Errorf("refused workers fetched %d paths", after-before)
	}
}

// TestSharedCrawlKill SIGKILLs one of three workers mid-crawl: the others
// finish the crawl once its leases expire; the killed worker's command run
// again recovers its collection and says the crawl has finished; every URL
// is archived, twice only for what the killed worker had in flight, and the
// three collections verify clean as one set.
func TestSharedCrawlKill(t *testing.T) {
	rs := testredis.Start(t)
	killNow := make(chan struct{})
	site := newSharedSite(t, 60, 3, func(s *sharedSite) {
		s.delay = 20 * time.Millisecond
		s.onHit = func(agent string, n int) {
			if agent == "worker-b" && n == 12 {
				close(killNow)
			}
		}
	})
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "A"), filepath.Join(root, "B"), filepath.Join(root, "C")}
	seeds := site.seedsFile(t, root)
	common := []string{"archive", "-q", "--state", rs.URL(), "--crawl-id", "kill", "--concurrency", "2", "--lease-ttl", "4s", "--per-host", "8"}
	a := amberProcess(t, append(common, "--scope", "host", "--worker-id", "w-a", "--user-agent", "worker-a", "-o", dirs[0], "--seeds", seeds)...)
	waitSeeded(t, rs, "kill", a)
	bArgs := append(common, "--worker-id", "w-b", "--user-agent", "worker-b", "-o", dirs[1])
	b := amberProcess(t, bArgs...)
	c := amberProcess(t, append(common, "--worker-id", "w-c", "--user-agent", "worker-c", "-o", dirs[2])...)
	select {
	case <-killNow:
	case <-time.After(30 * time.Second):
		c.Process.Signal(syscall.SIGQUIT)
		c.Wait()
		site.mu.Lock()
		t.Logf("requests by agent: %v", site.byUA)
		site.mu.Unlock()
		t.Fatalf("worker B never made 12 requests\nA: %s\nB: %s\nC: %s", a.Stdout, b.Stdout, c.Stdout)
	}
	b.Process.Kill() // SIGKILL, by its PID
	b.Wait()
	for i, cmd := range []*exec.Cmd{a, c} {
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("worker %d: exit %d\n%s", i, code, cmd.Stdout)
		}
	}
	// B's command again: its collection is recovered, and the crawl has
	// finished.
	code, out, stderr := amberRun(t, append(bArgs[:len(bArgs):len(bArgs)], "--quiet=false")...)
	if code != 0 || !strings.Contains(out+stderr, "has finished") {
		t.Fatalf("B again: exit %d\n%s%s", code, out, stderr)
	}
	if open, _ := filepath.Glob(filepath.Join(dirs[1], "archive", "*.open")); len(open) > 0 {
		t.Errorf("B left open: %v", open)
	}
	count := map[string]map[string]int{} // path → dir → records
	for _, d := range dirs {
		for _, r := range readRecords(t, d) {
			if r.typ != "response" && r.typ != "revisit" {
				continue
			}
			p := strings.TrimPrefix(r.uri, site.srv.URL)
			if count[p] == nil {
				count[p] = map[string]int{}
			}
			count[p][filepath.Base(d)]++
		}
	}
	twice := 0
	for p := range site.paths() {
		n := count[p]
		if p == "/robots.txt" {
			continue
		}
		switch {
		case n["A"]+n["B"]+n["C"] == 0:
			t.Errorf("%s: not archived", p)
		case n["A"] > 1 || n["B"] > 1 || n["C"] > 1 || n["A"]+n["C"] > 1:
			t.Errorf("%s: archived more than once by live workers: %v", p, n)
		case n["A"]+n["B"]+n["C"] == 2:
			twice++ // B wrote it, its lease expired, another fetched it
		}
	}
	t.Logf("URLs archived twice (in flight at B when it was killed): %d; B archived %d", twice, len(readRecords(t, dirs[1])))
	if code, out, stderr := amberRun(t, append([]string{"verify"}, dirs...)...); code != 0 {
		t.Errorf("verify A B C: exit %d\n%s%s", code, out, stderr)
	}
	code, sout, _ := amberRun(t, "status", "--state", rs.URL(), "--crawl-id", "kill")
	if code != 0 || !strings.Contains(sout, "finished") || !strings.Contains(sout, "w-b") {
		t.Errorf("status: exit %d\n%s", code, sout)
	}
}

// TestSharedCrawlStateTimeout stops Redis mid-crawl: the worker retries,
// then past --state-timeout stops with exit status 5 and one line saying
// why, its files closed, indexed and valid.
func TestSharedCrawlStateTimeout(t *testing.T) {
	rs := testredis.Start(t)
	stopNow := make(chan struct{})
	site := newSharedSite(t, 60, 0, func(s *sharedSite) {
		s.delay = 20 * time.Millisecond
		s.onHit = func(_ string, n int) {
			if n == 10 {
				close(stopNow)
			}
		}
	})
	dir := filepath.Join(t.TempDir(), "A")
	cmd := exec.Command("amber-program", "archive", "-q", "--state", rs.URL(), "--crawl-id", "gone", "--state-timeout", "2s",
		"--concurrency", "2", "--scope", "host", "-o", dir, site.srv.URL+"/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	select {
	case <-stopNow:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker made no 10 requests")
	}
	rs.Stop()
	code := waitExit(t, cmd)
	t.Logf("stderr:\n%s", stderr.String())
	if code != exitStateLost {
		t.Fatalf("exit %d, want %d\n%s", code, exitStateLost, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "could not be reached for 2s") {
		t.Errorf("last line %q\n%s", last, stderr.String())
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.Contains(l, "crawl state:") { // the retries, logged
			t.Errorf("stderr line %q", l)
		}
	}
	if open, _ := filepath.Glob(filepath.Join(dir, "archive", "*.open")); len(open) > 0 {
		t.Errorf("left open: %v", open)
	}
	if n := len(readRecords(t, dir)); n == 0 {
		t.Errorf("no records")
	}
	if code, out, serr := amberRun(t, "verify", dir); code != 0 {
		t.Errorf("verify: exit %d\n%s%s", code, out, serr)
	}
}

// TestSharedCrawlPerHost: three workers, each allowed four requests in
// flight, never put more than --per-host requests in flight on the host
// together; the crawl is complete, each URL once.
func TestSharedCrawlPerHost(t *testing.T) {
	rs := testredis.Start(t)
	site := newSharedSite(t, 40, 0, func(s *sharedSite) { s.delay = 15 * time.Millisecond })
	root := t.TempDir()
	seeds := site.seedsFile(t, root)
	common := []string{"archive", "-q", "--state", rs.URL(), "--crawl-id", "polite", "--concurrency", "4", "--per-host", "2"}
	a := amberProcess(t, append(common, "--scope", "host", "-o", filepath.Join(root, "A"), "--seeds", seeds)...)
	waitSeeded(t, rs, "polite", a)
	b := amberProcess(t, append(common, "-o", filepath.Join(root, "B"))...)
	c := amberProcess(t, append(common, "-o", filepath.Join(root, "C"))...)
	for i, cmd := range []*exec.Cmd{a, b, c} {
		if code := waitExit(t, cmd); code != 0 {
			t.Fatalf("worker %d: exit %d\n%s", i, code, cmd.Stdout)
		}
	}
	site.mu.Lock()
	most := site.maxInFlight
	site.mu.Unlock()
	t.Logf("most requests in flight on the host: %d", most)
	if most > 2 {
		t.Errorf("%d requests in flight on one host, --per-host 2", most)
	}
	got := map[string]int{}
	for _, d := range []string{"A", "B", "C"} {
		for _, r := range readRecords(t, filepath.Join(root, d)) {
			if r.typ == "response" || r.typ == "revisit" {
				got[strings.TrimPrefix(r.uri, site.srv.URL)]++
			}
		}
	}
	for p, n := range site.paths() {
		if p != "/robots.txt" && (n != 1 || got[p] != 1) {
			t.Errorf("%s: fetched %d times, %d records", p, n, got[p])
		}
	}
}

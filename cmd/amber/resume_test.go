package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/warc"
)

// newsroom is a small site whose crawl takes long enough to be killed
// mid-way: articles link to each other, each has images of a few KB (so
// unchanged ones become revisits), responses are a little slow. One
// article's text can be changed between runs.
type newsroom struct {
	srv      *httptest.Server
	articles int
	edition  atomic.Int64 // bumps the text of article 3
	delay    time.Duration
}

func newNewsroom(t *testing.T, articles int, delay time.Duration) *newsroom {
	n := &newsroom{articles: articles, delay: delay}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *newsroom) serve(w http.ResponseWriter, r *http.Request) {
	time.Sleep(n.delay)
	p := r.URL.Path
	switch {
	case p == "/robots.txt":
		http.NotFound(w, r)
	case p == "/" || strings.HasPrefix(p, "/a/"):
		id := 0
		if p != "/" {
			id, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/a/"), ".html"))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<html><head><title>Article %d</title><link rel=stylesheet href=/s.css></head><body>", id)
		if id == 3 {
			fmt.Fprintf(&b, "<p>edition %d</p>", n.edition.Load())
		}
		for k := 1; k <= 3; k++ {
			fmt.Fprintf(&b, `<a href="/a/%d.html">next</a>`, (id*3+k)%n.articles)
		}
		fmt.Fprintf(&b, `<img src="/img/%d.jpg"><img src="/img/shared.png">`, id)
		b.WriteString(strings.Repeat("<p>The council met again today.</p>", 40))
		b.WriteString("</body></html>")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, b.String())
	case p == "/s.css":
		w.Header().Set("Content-Type", "text/css")
		io.WriteString(w, "body{background:url(/img/bg.png)}"+strings.Repeat("/* padding */", 100))
	case strings.HasPrefix(p, "/img/"):
		w.Header().Set("Content-Type", "image/png")
		w.Write(bytes.Repeat([]byte(p), 3000/len(p)+1))
	default:
		http.NotFound(w, r)
	}
}

// urls is every URL of the site a complete crawl archives.
func (n *newsroom) urls() []string {
	out := []string{n.srv.URL + "/", n.srv.URL + "/s.css", n.srv.URL + "/img/bg.png", n.srv.URL + "/img/shared.png", n.srv.URL + "/robots.txt", n.srv.URL + "/sitemap.xml", n.srv.URL + "/favicon.ico"} // the pages name no icon
	for i := 0; i < n.articles; i++ {
		out = append(out, fmt.Sprintf("%s/a/%d.html", n.srv.URL, i), fmt.Sprintf("%s/img/%d.jpg", n.srv.URL, i))
	}
	sort.Strings(out)
	return out
}

type warcRec struct {
	file, typ, uri, id, date, refersTo, refersToURI, refersToDate, payloadDigest string
	status                                                                       int
}

// readRecords reads every record of every WARC file in dir/archive with the
// standard library, independently of amber's reader.
func readRecords(t *testing.T, dir string) []warcRec {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*.warc.gz"))
	sort.Strings(files)
	var out []warcRec
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(zr)
		for {
			line, err := br.ReadString('\n')
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if line != "WARC/1.1\r\n" {
				t.Fatalf("%s: version line %q", f, line)
			}
			rec := warcRec{file: filepath.Base(f)}
			length := 0
			for {
				h, err := br.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if h == "\r\n" {
					break
				}
				name, value, _ := strings.Cut(strings.TrimRight(h, "\r\n"), ": ")
				switch name {
				case "WARC-Type":
					rec.typ = value
				case "WARC-Target-URI":
					rec.uri = value
				case "WARC-Record-ID":
					rec.id = value
				case "WARC-Date":
					rec.date = value
				case "WARC-Refers-To":
					rec.refersTo = value
				case "WARC-Refers-To-Target-URI":
					rec.refersToURI = value
				case "WARC-Refers-To-Date":
					rec.refersToDate = value
				case "WARC-Payload-Digest":
					rec.payloadDigest = value
				case "Content-Length":
					length, _ = strconv.Atoi(value)
				}
			}
			block := make([]byte, length+4)
			if _, err := io.ReadFull(br, block); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if rec.typ == "response" || rec.typ == "revisit" {
				if resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil); err == nil {
					rec.status = resp.StatusCode
				}
			}
			out = append(out, rec)
		}
		fh.Close()
	}
	return out
}

// amberProcess starts the amber binary TestMain installed.
func amberProcess(t *testing.T, args ...string) *exec.Cmd {
	return startProgram(t, exec.Command("amber-program", args...))
}

// startProgram starts cmd, one of the programs TestMain installs, with its
// output in a buffer (cmd.Stdout), and kills it at the end of the test if
// the test did not wait for it.
func startProgram(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// TestKillResume kills a crawl with SIGKILL at random points, several
// times, resumes it each time with the same command, and checks that the
// collection ends with every URL of the site, each response exactly once
// (revisits aside), and verifies clean.
func TestKillResume(t *testing.T) {
	site := newNewsroom(t, 120, 20*time.Millisecond)
	dir := t.TempDir()
	args := []string{"archive", "-q", "--scope", "host", "--concurrency", "4", "-o", dir, site.srv.URL + "/"}
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for i := 0; i < 6; i++ {
		cmd := amberProcess(t, args...)
		time.Sleep(time.Duration(100+rng.IntN(500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		cmd.Wait()
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("final run: exit %d: %s", code, stderr.String())
	}
	// The kills must have hit running crawls: runs that never ended.
	st, err := frontier.OpenBolt(filepath.Join(dir, "state", "crawl.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	killed, resumed := 0, 0
	for _, r := range runs {
		if r.Ended.IsZero() {
			killed++
		}
		if r.Resumed {
			resumed++
		}
	}
	if killed < 3 || resumed < 3 {
		t.Fatalf("only %d runs were killed mid-crawl and %d resumed; the test proves nothing", killed, resumed)
	}
	t.Logf("%d kills, %d mid-crawl, %d resumed runs", kills, killed, resumed)

	// Article 0 and the home page have the same payload: one of them is
	// a revisit of the other. Every URL is captured exactly once.
	captures := map[string][]string{}
	for _, r := range readRecords(t, dir) {
		if r.typ == "response" || r.typ == "revisit" {
			captures[r.uri] = append(captures[r.uri], r.typ)
		}
	}
	for _, u := range site.urls() {
		if len(captures[u]) != 1 {
			t.Errorf("%s: captured as %v, want once", u, captures[u])
		}
	}
	if len(captures) != len(site.urls()) {
		t.Errorf("%d URLs captured, want %d", len(captures), len(site.urls()))
	}
	if code := run(context.Background(), []string{"verify", "-q", dir}, io.Discard, &stderr); code != 0 {
		t.Fatalf("verify after resuming: exit %d: %s", code, stderr.String())
	}
	// The index covers every response, including those of killed runs.
	idx, err := os.ReadFile(filepath.Join(dir, "indexes", "index.cdxj"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range site.urls() {
		if !bytes.Contains(idx, []byte(`"url": "`+u+`"`)) {
			t.Errorf("%s is not in the index", u)
		}
	}
	// pages.jsonl lists every page once, those of killed runs included
	// (recovered from their WARC files, or from their pages outbox), and
	// nothing else: not the revisit of the home page's payload twice, not
	// the requisites.
	pages, err := warc.ReadPages(dir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for _, p := range pages {
		listed[p.URL]++
	}
	want := map[string]int{site.srv.URL + "/": 1}
	for i := 0; i < site.articles; i++ {
		want[fmt.Sprintf("%s/a/%d.html", site.srv.URL, i)] = 1
	}
	if !maps.Equal(listed, want) {
		for u, n := range listed {
			if want[u] != n {
				t.Errorf("pages.jsonl lists %s %d times, want %d", u, n, want[u])
			}
		}
		for u := range want {
			if listed[u] == 0 {
				t.Errorf("pages.jsonl does not list %s", u)
			}
		}
	}
}

// TestNightlyRevisits runs twice a "night" apart, with --recrawl as cron
// would: the changed article is stored again, unchanged resources become
// revisits whose Refers-To fields name real records of the first night.
func TestNightlyRevisits(t *testing.T) {
	site := newNewsroom(t, 8, 0)
	dir := t.TempDir()
	args := []string{"archive", "-q", "--scope", "host", "--recrawl", "-o", dir, site.srv.URL + "/"}
	var stderr bytes.Buffer
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("night 1: exit %d: %s", code, stderr.String())
	}
	first := readRecords(t, dir)
	site.edition.Add(1)
	if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
		t.Fatalf("night 2: exit %d: %s", code, stderr.String())
	}
	all := readRecords(t, dir)
	second := all[len(first):]

	byID := map[string]warcRec{}
	for _, r := range first {
		byID[r.id] = r
	}
	kinds := map[string]string{}
	for _, r := range second {
		if r.typ == "response" || r.typ == "revisit" {
			kinds[strings.TrimPrefix(r.uri, site.srv.URL)] = r.typ
		}
		if r.typ != "revisit" {
			continue
		}
		ref, ok := byID[r.refersTo]
		if !ok {
			t.Errorf("revisit of %s refers to %s, which is not a record of the first night", r.uri, r.refersTo)
			continue
		}
		if ref.uri != r.refersToURI || ref.date != r.refersToDate || ref.payloadDigest != r.payloadDigest || ref.typ != "response" {
			t.Errorf("revisit of %s: Refers-To-Target-URI %s, -Date %s, digest %s; the record is %s %s %s %s",
				r.uri, r.refersToURI, r.refersToDate, r.payloadDigest, ref.typ, ref.uri, ref.date, ref.payloadDigest)
		}
	}
	for path, want := range map[string]string{
		"/a/3.html":       "response", // changed
		"/img/3.jpg":      "revisit",
		"/img/shared.png": "revisit",
		"/s.css":          "revisit",
		"/a/4.html":       "revisit",
		"/robots.txt":     "response", // under 1 KB: always stored
	} {
		if kinds[path] != want {
			t.Errorf("night 2: %s archived as %q, want %s", path, kinds[path], want)
		}
	}
	if code := run(context.Background(), []string{"verify", "-q", dir}, io.Discard, &stderr); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, stderr.String())
	}
	// Revisits keep the HTTP status line and headers: the index has their status.
	for _, r := range second {
		if r.typ == "revisit" && r.status != 200 {
			t.Errorf("revisit of %s: HTTP status %d read from its block, want 200", r.uri, r.status)
		}
	}
	// Without --recrawl, a third run has nothing to do.
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"archive", "-o", dir, site.srv.URL + "/"}, &stdout, &stderr); code != 0 {
		t.Fatalf("night 3: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "nothing new to archive") {
		t.Errorf("night 3 without --recrawl: %q", stdout.String())
	}
}

// TestConcurrentRunLocked: a second run into a collection that a run is
// using exits at once with status 4, naming the holder; the first run is
// unharmed.
func TestConcurrentRunLocked(t *testing.T) {
	site := newNewsroom(t, 30, 20*time.Millisecond)
	dir := t.TempDir()
	first := amberProcess(t, "archive", "-q", "--scope", "host", "-o", dir, site.srv.URL+"/")
	lock := filepath.Join(dir, "state", "lock")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(lock); bytes.Contains(b, []byte(fmt.Sprintf("pid=%d", first.Process.Pid))) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"archive", "-o", dir, site.srv.URL + "/"}, io.Discard, &stderr)
	if code != exitLocked {
		t.Fatalf("second run: exit %d, want %d (%s)", code, exitLocked, stderr.String())
	}
	if want := fmt.Sprintf("PID %d", first.Process.Pid); !strings.Contains(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("second run's message %q does not name %s in one line", stderr.String(), want)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v: %s", err, first.Stdout)
	}
	if code := run(context.Background(), []string{"verify", "-q", dir}, io.Discard, &stderr); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, stderr.String())
	}
	captures := 0
	for _, r := range readRecords(t, dir) {
		if r.typ == "response" || r.typ == "revisit" {
			captures++
		}
	}
	if want := len(site.urls()); captures != want {
		t.Errorf("%d captures, want %d", captures, want)
	}
}

// TestInterrupt: the first SIGINT stops taking new URLs, finishes those in
// flight and exits 130 with valid, indexed files; a second SIGINT stops at
// once, the same way. The same command then resumes and completes.
func TestInterrupt(t *testing.T) {
	site := newNewsroom(t, 80, 20*time.Millisecond)
	for _, signals := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d signals", signals), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"archive", "-q", "--scope", "host", "-o", dir, site.srv.URL + "/"}
			cmd := amberProcess(t, args...)
			time.Sleep(400 * time.Millisecond)
			for i := 0; i < signals; i++ {
				cmd.Process.Signal(os.Interrupt)
				time.Sleep(20 * time.Millisecond)
			}
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Fatalf("exit %d (%v), want %d: %s", code, err, exitInterrupted, cmd.Stdout)
			}
			if matches, _ := filepath.Glob(filepath.Join(dir, "archive", "*.open")); len(matches) > 0 {
				t.Fatalf("files left open: %v", matches)
			}
			var stderr bytes.Buffer
			if code := run(context.Background(), []string{"verify", "-q", dir}, io.Discard, &stderr); code != 0 {
				t.Fatalf("verify after the interrupt: exit %d: %s", code, stderr.String())
			}
			if code := run(context.Background(), args, io.Discard, &stderr); code != 0 {
				t.Fatalf("resume: exit %d: %s", code, stderr.String())
			}
			captures := map[string]int{}
			for _, r := range readRecords(t, dir) {
				if r.typ == "response" || r.typ == "revisit" {
					captures[r.uri]++
				}
			}
			for _, u := range site.urls() {
				if captures[u] != 1 {
					t.Errorf("%s captured %d times, want once", u, captures[u])
				}
			}
		})
	}
}

package crawl_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/verify"
	"github.com/amber-archiver/amber/warc"
)

// hostileServer is a raw HTTP/1.1 server on 127.0.0.1: each request is
// read with net/http and answered by the handler of its path writing
// straight to the connection, which is closed when the handler returns.
type hostileServer struct {
	ln       net.Listener
	mu       sync.Mutex
	handlers map[string]func(c net.Conn)
	wg       sync.WaitGroup
}

func startHostile(t *testing.T, handlers map[string]func(c net.Conn)) *hostileServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &hostileServer{ln: ln, handlers: handlers}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				s.mu.Lock()
				h := s.handlers[req.URL.Path]
				s.mu.Unlock()
				if h == nil {
					fmt.Fprintf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					return
				}
				h(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *hostileServer) url(path string) string { return "http://" + s.ln.Addr().String() + path }

// endless writes head, then chunk over and over until the client goes
// away or max bytes were written.
func endless(head, chunk string, max int) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := c.Write([]byte(head)); err != nil {
			return
		}
		b := []byte(chunk)
		for n := 0; n < max; n += len(b) {
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}
}

// drip writes head, then body one byte at a time, every interval.
func drip(head, body string, interval time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := c.Write([]byte(head)); err != nil {
			return
		}
		for i := 0; i < len(body); i++ {
			time.Sleep(interval)
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}
}

func respond(contentType, body string) func(net.Conn) {
	return func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", contentType, len(body), body)
	}
}

// hostileRun is a crawl into a fresh directory whose WARC writer spools
// anything above 64 KiB to spool.
type hostileRun struct {
	res   *crawl.Result
	recs  []rawRecord
	dir   string
	spool string
	state frontier.Frontier
}

func crawlHostile(t *testing.T, ctx context.Context, opts crawl.Options) *hostileRun {
	t.Helper()
	h := &hostileRun{dir: t.TempDir(), spool: t.TempDir()}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: h.dir, SpoolDir: h.spool, MemoryLimit: 64 << 10, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Frontier == nil {
		opts.Frontier, opts.Crawl = newMemory(t)
	}
	h.state = opts.Frontier
	if opts.Retries == 0 {
		opts.Retries = -1
	}
	h.res, err = crawl.Run(ctx, opts, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range w.Files() {
		h.recs = append(h.recs, readWARC(t, filepath.Join(h.dir, f))...)
	}
	h.checkSpoolEmpty(t)
	h.verify(t)
	return h
}

func (h *hostileRun) checkSpoolEmpty(t *testing.T) {
	t.Helper()
	left, err := os.ReadDir(h.spool)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("spool file left behind: %s", e.Name())
	}
}

// verify runs amber's verify on what was written: it must accept all.
func (h *hostileRun) verify(t *testing.T) {
	t.Helper()
	rep, err := verify.Paths(context.Background(), []string{h.dir}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		for _, fd := range f.Findings {
			t.Errorf("verify: %s@%d: %s: %s", fd.File, fd.Offset, fd.Severity, fd.Message)
		}
	}
	if rep.Records == 0 {
		t.Error("verify read no records")
	}
}

// responses maps each archived response's target URI to its record,
// robots.txt left out.
func (h *hostileRun) responses() map[string]rawRecord {
	out := map[string]rawRecord{}
	for _, r := range h.recs {
		if (r.get("WARC-Type") == "response" || r.get("WARC-Type") == "revisit") && !strings.HasSuffix(r.get("WARC-Target-URI"), "/robots.txt") {
			out[r.get("WARC-Target-URI")] = r
		}
	}
	return out
}

func (h *hostileRun) failures() map[string]crawl.Failure {
	out := map[string]crawl.Failure{}
	for _, f := range h.res.Failures {
		out[f.URL] = f
	}
	return out
}

// A response head that does not end, is too long or is preceded by too
// many interim responses is a failed fetch: nothing of it is archived, its
// spool is gone, memory stays bounded, and the rest of the page is kept.
func TestHeadTooLarge(t *testing.T) {
	const offered = 96 << 20 // bytes an endless server offers
	lines := strings.Repeat("X-Line: v\r\n", 100000)
	srv := startHostile(t, map[string]func(net.Conn){
		"/": func(c net.Conn) {
			var b strings.Builder
			// The icon is named, so no /favicon.ico request adds to the counts.
			b.WriteString("<html><head><title>hostile</title><link rel=icon href=/ok.png></head><body>")
			for _, p := range []string{"/line.png", "/lines.png", "/continue.png", "/interim.png", "/ok.png"} {
				fmt.Fprintf(&b, `<img src="%s">`, p)
			}
			respond("text/html", b.String())(c)
		},
		"/seed-line": endless("HTTP/1.1 200 OK\r\nX-Endless: ", strings.Repeat("a", 64<<10), offered),
		"/line.png":  endless("HTTP/1.1 200 OK\r\nX-Endless: ", strings.Repeat("a", 64<<10), offered),
		"/lines.png": func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n%sContent-Length: 2\r\n\r\nok", lines)
		},
		"/continue.png": endless("", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 2048), offered),
		"/interim.png": func(c net.Conn) {
			c.Write([]byte(strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </x.css>; rel=preload\r\n\r\n", capture.MaxInterimResponses+1)))
			respond("image/png", "after the hints")(c)
		},
		"/ok.png": respond("image/png", "fine"),
	})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := crawlHostile(t, context.Background(), crawl.Options{Seeds: []string{srv.url("/"), srv.url("/seed-line")}})
	runtime.ReadMemStats(&after)

	bad := []string{"/seed-line", "/line.png", "/lines.png", "/continue.png", "/interim.png"}
	fails := h.failures()
	resps := h.responses()
	for _, p := range bad {
		f, ok := fails[srv.url(p)]
		switch {
		case !ok:
			t.Errorf("%s: not reported failed", p)
		case !errors.Is(f.Err, capture.ErrHeadTooLarge):
			t.Errorf("%s: %v, want %v", p, f.Err, capture.ErrHeadTooLarge)
		case !strings.Contains(f.Err.Error(), "response head too large"):
			t.Errorf("%s: message %q", p, f.Err)
		}
		if _, ok := resps[srv.url(p)]; ok {
			t.Errorf("%s: archived, want nothing", p)
		}
	}
	if f := fails[srv.url("/seed-line")]; !f.Seed || !h.res.SeedFailed() {
		t.Errorf("the seed /seed-line is not a failed seed: %+v", f)
	}
	for _, p := range []string{"/", "/ok.png"} {
		if _, ok := resps[srv.url(p)]; !ok {
			t.Errorf("%s not archived", p)
		}
	}
	if len(fails) != len(bad) || h.res.Captures != 3 {
		t.Errorf("%d failures, %d captures; want %d, 3 (with robots.txt): %v", len(fails), h.res.Captures, len(bad), h.res.Failures)
	}
	if h.res.Requests != 8 {
		t.Errorf("%d requests, want 8 (a head too large is not retried)", h.res.Requests)
	}
	// Unbounded, the endless line alone would allocate hundreds of MB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 48<<20 {
		t.Errorf("the crawl allocated %d MB for heads of at most %d KiB", alloc>>20, capture.MaxResponseHead>>10)
	} else {
		t.Logf("allocated %.1f MB in all", float64(alloc)/1e6)
	}
}

// A status line sent one byte at a time outlasts the header timeout,
// and is reported as such, not as a malformed response.
func TestSlowStatusLineIsHeaderTimeout(t *testing.T) {
	srv := startHostile(t, map[string]func(net.Conn){
		"/slow": drip("", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40*time.Millisecond),
	})
	h := crawlHostile(t, context.Background(), crawl.Options{
		Seeds:     []string{srv.url("/slow")},
		Transport: capture.Options{ResponseHeaderTimeout: 300 * time.Millisecond},
	})
	f, ok := h.failures()[srv.url("/slow")]
	if !ok {
		t.Fatalf("not failed: %+v", h.res)
	}
	if !errors.Is(f.Err, capture.ErrHeaderTimeout) || !strings.Contains(f.Err.Error(), "timeout awaiting response headers") || strings.Contains(f.Err.Error(), "malformed") {
		t.Errorf("error %q, want the header timeout", f.Err)
	}
	if len(h.responses()) != 0 {
		t.Errorf("something was archived: %v", h.responses())
	}
}

// A body that drips, never silent long enough for the idle timeout, is
// cut at the response timeout and archived with WARC-Truncated: time; one
// without end is cut at --max-size.
func TestResponseTotalBounds(t *testing.T) {
	body := strings.Repeat("d", 100000)
	srv := startHostile(t, map[string]func(net.Conn){
		"/drip.bin":    drip(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", len(body)), body, 10*time.Millisecond),
		"/endless.bin": endless("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n", strings.Repeat("e", 32<<10), 64<<20),
	})
	h := crawlHostile(t, context.Background(), crawl.Options{
		Seeds: []string{srv.url("/drip.bin"), srv.url("/endless.bin")},
		Transport: capture.Options{
			ResponseTimeout: 1500 * time.Millisecond, // the head comes at once; the body would take 1000 s
			IdleReadTimeout: time.Minute,
			MaxSize:         1 << 20,
		},
	})
	if len(h.res.Failures) > 0 {
		t.Fatalf("failures: %v", h.res.Failures)
	}
	resps := h.responses()
	d := resps[srv.url("/drip.bin")]
	if d.get("WARC-Truncated") != "time" || len(d.Block) == 0 || len(d.Block) >= len(body) {
		t.Errorf("drip: WARC-Truncated %q, %d bytes", d.get("WARC-Truncated"), len(d.Block))
	}
	e := resps[srv.url("/endless.bin")]
	if e.get("WARC-Truncated") != "length" || len(e.Block) != 1<<20 {
		t.Errorf("endless: WARC-Truncated %q, %d bytes", e.get("WARC-Truncated"), len(e.Block))
	}
	if h.res.Truncated != 2 {
		t.Errorf("Result.Truncated = %d, want 2", h.res.Truncated)
	}
}

// The first interrupt (Drain) gives the fetches in flight DrainGrace, then
// cuts them: the run ends, nothing of the cut fetch is written, and its
// URL stays claimed, to be fetched whole when the crawl resumes.
func TestDrainCutsSlowFetch(t *testing.T) {
	started := make(chan struct{})
	var once sync.Once
	body := strings.Repeat("s", 1<<20)
	srv := startHostile(t, map[string]func(net.Conn){
		"/": respond("text/html", `<html><head><link rel=icon href="/slow.bin"></head><body><img src="/slow.bin"></body></html>`),
		"/slow.bin": func(c net.Conn) {
			once.Do(func() { close(started) })
			drip(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body)), body, 20*time.Millisecond)(c)
		},
	})
	drain := make(chan struct{})
	go func() {
		select {
		case <-started:
		case <-time.After(20 * time.Second):
		}
		close(drain)
	}()
	done := make(chan *hostileRun, 1)
	go func() {
		done <- crawlHostile(t, context.Background(), crawl.Options{
			Seeds:      []string{srv.url("/")},
			Drain:      drain,
			DrainGrace: 300 * time.Millisecond,
		})
	}()
	var h *hostileRun
	select {
	case h = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the drained crawl did not end") // a hang, not a timing assertion
	}
	resps := h.responses()
	if _, ok := resps[srv.url("/")]; !ok {
		t.Error("the page is not archived")
	}
	if _, ok := resps[srv.url("/slow.bin")]; ok {
		t.Error("the cut fetch was archived")
	}
	if len(h.res.Failures) > 0 {
		t.Errorf("failures: %v", h.res.Failures)
	}
	counts, err := h.state.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts.Queued != 1 || counts.Leased != 0 || counts.Failed != 0 {
		t.Errorf("state counts %+v: want the cut URL released to the queue, for the resume", counts)
	}
}

// A seed whose only answer is a redirect to file:, ftp:, javascript: or
// data: is a failed seed; the redirect itself is archived.
func TestRedirectToUnsupportedScheme(t *testing.T) {
	targets := map[string]string{
		"/file": "file:///etc/passwd",
		"/ftp":  "ftp://ftp.example.org/pub/",
		"/js":   "javascript:alert(1)",
		"/data": "data:text/html,<h1>hi</h1>",
	}
	handlers := map[string]func(net.Conn){}
	var seeds []string
	srv := startHostile(t, handlers)
	for p, loc := range targets {
		handlers[p] = func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", loc)
		}
		seeds = append(seeds, srv.url(p))
	}
	h := crawlHostile(t, context.Background(), crawl.Options{Seeds: seeds})
	fails, resps := h.failures(), h.responses()
	for p, loc := range targets {
		f, ok := fails[srv.url(p)]
		scheme, _, _ := strings.Cut(loc, ":")
		switch {
		case !ok:
			t.Errorf("%s: not failed", p)
		case !f.Seed || !strings.Contains(f.Err.Error(), fmt.Sprintf("redirect to an unsupported scheme %q", scheme)):
			t.Errorf("%s: %+v", p, f)
		}
		if r, ok := resps[srv.url(p)]; !ok || !strings.HasPrefix(string(r.Block), "HTTP/1.1 302") {
			t.Errorf("%s: redirect not archived", p)
		}
	}
	if !h.res.SeedFailed() || len(h.res.Failures) != len(targets) || h.res.Captures != len(targets)+1 {
		t.Errorf("result %+v", h.res)
	}
}

// A site setting many large cookies on every page gets back no more than
// a browser sends: cookies of at most MaxCookieSize bytes, at most
// MaxCookiesPerHost of them, a Cookie header of at most MaxCookieHeader;
// the first cookies set are still sent, and every request record verifies.
func TestCookiesBounded(t *testing.T) {
	const pages = 12
	value := strings.Repeat("v", 4000)
	var mu sync.Mutex
	longest := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		longest = max(longest, len(r.Header.Get("Cookie")))
		mu.Unlock()
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &n); err != nil {
			http.NotFound(w, r)
			return
		}
		if n == 0 {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
		}
		for i := range 40 {
			http.SetCookie(w, &http.Cookie{Name: fmt.Sprintf("c%d_%d", n, i), Value: value, Path: "/"})
		}
		http.SetCookie(w, &http.Cookie{Name: fmt.Sprintf("big%d", n), Value: strings.Repeat("b", 5000), Path: "/"})
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><head><title>%d</title></head><body><a href="/p/%d">next</a></body></html>`, n, n+1)
		if n+1 >= pages {
			fmt.Fprint(w, "end")
		}
	}))
	defer srv.Close()
	h := crawlHostile(t, context.Background(), crawl.Options{Seeds: []string{srv.URL + "/p/0"}, Scope: crawl.ScopeHost, Depth: pages - 1, PerHost: 1, Concurrency: 1})
	if len(h.res.Failures) > 0 {
		t.Fatalf("failures: %v", h.res.Failures)
	}
	requests := 0
	withSession := 0
	for _, r := range h.recs {
		if r.get("WARC-Type") != "request" {
			continue
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(r.Block)))
		if err != nil {
			t.Fatalf("request record: %v", err)
		}
		requests++
		header := req.Header.Get("Cookie")
		cookies := req.Cookies()
		if len(header) > crawl.MaxCookieHeader || len(cookies) > crawl.MaxCookiesPerHost {
			t.Errorf("%s: Cookie header of %d bytes, %d cookies", req.URL, len(header), len(cookies))
		}
		for _, c := range cookies {
			if len(c.Name)+len(c.Value) > crawl.MaxCookieSize {
				t.Errorf("%s: sent a cookie of %d bytes", req.URL, len(c.Name)+len(c.Value))
			}
			if c.Name == "session" {
				withSession++
			}
		}
	}
	if requests < pages {
		t.Errorf("%d requests, want at least %d", requests, pages)
	}
	if withSession < pages-1 {
		t.Errorf("the first cookie was sent on %d requests, want %d", withSession, pages-1)
	}
	mu.Lock()
	defer mu.Unlock()
	if longest == 0 || longest > crawl.MaxCookieHeader {
		t.Errorf("the longest Cookie header received was %d bytes", longest)
	}
	t.Logf("longest Cookie header: %d bytes; uncapped it would be ~%d", longest, (pages-1)*40*4010)
}

// peakHeap samples the heap in use while f runs and returns the most seen.
func peakHeap(f func()) uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	runtime.GC()
	f()
	close(stop)
	return <-done
}

// Many gzip-bomb style sheets on one page are decoded for parsing within
// one budget shared by all (TransportOptions.InflateBudget), not each up to
// the parse limit at once: the heap stays near the budget.
func TestGzipBombSheetsShareBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies memory and time: the peak says nothing of amber's")
	}
	const sheets = 32
	const parseLimit = 8 << 20
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<16) // quick to tokenize
	for n := 0; n < 2*parseLimit; n += len(chunk) {
		zw.Write(chunk)
	}
	zw.Close()
	bomb := z.Bytes()
	handlers := map[string]func(net.Conn){}
	var page strings.Builder
	page.WriteString(`<html><head><title>bombs</title><link rel=icon href="/s/0.css">`)
	for i := range sheets {
		p := fmt.Sprintf("/s/%d.css", i)
		fmt.Fprintf(&page, `<link rel=stylesheet href="%s">`, p)
		handlers[p] = func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(bomb))
			c.Write(bomb)
		}
	}
	handlers["/"] = respond("text/html", page.String()+"</head><body></body></html>")
	srv := startHostile(t, handlers)

	run := func(budget int64) uint64 {
		var h *hostileRun
		peak := peakHeap(func() {
			h = crawlHostile(t, context.Background(), crawl.Options{
				Seeds:     []string{srv.url("/")},
				NoDedup:   true,
				Transport: capture.Options{ParseLimit: parseLimit, InflateBudget: budget},
			})
		})
		if len(h.res.Failures) > 0 || len(h.responses()) != sheets+1 {
			t.Fatalf("%d responses, failures %v", len(h.responses()), h.res.Failures)
		}
		return peak
	}
	// The heap in use holds garbage up to the collector's target; under a
	// memory limit (amber sets one) it is what is live that counts.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(32 << 20))
	budget := int64(parseLimit + parseLimit/2)
	if os.Getenv("AMBER_TEST_UNBOUNDED") != "" {
		budget = 1 << 40 // to compare
	}
	bounded := run(budget)
	t.Logf("peak heap in use: %.0f MB with a budget of %d MiB", float64(bounded)/1e6, budget>>20)
	if bounded > 64<<20 {
		t.Errorf("peak heap %d MB decoding %d sheets of %d MiB within a %d MiB budget", bounded>>20, sheets, parseLimit>>20, budget>>20)
	}
}

// A response timeout shorter than the header timeout ends a silent
// server's fetch too: a failed fetch, named a header timeout.
func TestResponseTimeoutBeforeHead(t *testing.T) {
	srv := startHostile(t, map[string]func(net.Conn){
		"/silent": drip("", "HTTP/1.1 200 OK\r\n\r\n", 200*time.Millisecond),
	})
	h := crawlHostile(t, context.Background(), crawl.Options{
		Seeds:     []string{srv.url("/silent")},
		Transport: capture.Options{ResponseTimeout: 300 * time.Millisecond, ResponseHeaderTimeout: time.Minute},
	})
	f, ok := h.failures()[srv.url("/silent")]
	if !ok || !errors.Is(f.Err, capture.ErrHeaderTimeout) || !strings.Contains(f.Err.Error(), "response timeout") {
		t.Errorf("failure %+v, want a header timeout from the response timeout", f)
	}
	if len(h.responses()) != 0 {
		t.Error("something was archived")
	}
}

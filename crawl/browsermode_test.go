package crawl_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/browser"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/warc"
)

// crawlScripted archives the scripted article, in browser mode when b is
// set, and returns the records and the site (closed), whose wire log
// stays readable.
func crawlScripted(t *testing.T, secure bool, b *crawl.BrowserOptions) (*crawl.Result, []rawRecord, *testsite.Scripted) {
	t.Helper()
	site := testsite.NewScripted()
	var tr capture.Options
	if secure {
		site.Close()
		site = testsite.NewScriptedTLS()
		tr.RootCAs = x509.NewCertPool()
		tr.RootCAs.AddCert(site.Certificate)
	}
	defer site.Close()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	front, n := newMemory(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang fails, never blocks the suite
	defer cancel()
	res, recs := runAndRead(t, ctx, crawl.Options{Seeds: []string{site.URL(testsite.ScriptedArticle)}, Frontier: front, Crawl: n, IgnoreRobots: true, Transport: tr, Browser: b}, w, dir)
	return res, recs, site
}

func responsesByPath(recs []rawRecord, base string) map[string]rawRecord {
	out := map[string]rawRecord{}
	for _, r := range recs {
		if r.get("WARC-Type") == "response" {
			out[strings.TrimPrefix(r.get("WARC-Target-URI"), base)] = r
		}
	}
	return out
}

func TestBrowserModeScriptedArticle(t *testing.T) { testBrowserModeScripted(t, false) }

// TestBrowserModeScriptedArticleHTTPS: the same over HTTPS, the origin's
// certificate trusted through Transport.RootCAs, the browser's through the
// proxy's in-memory CA.
func TestBrowserModeScriptedArticleHTTPS(t *testing.T) { testBrowserModeScripted(t, true) }

func testBrowserModeScripted(t *testing.T, secure bool) {
	chromium := testsite.Chromium(t)
	var mu sync.Mutex
	texts := map[string]string{}
	res, recs, site := crawlScripted(t, secure, &crawl.BrowserOptions{
		Chromium: chromium,
		PageText: func(u, text string) { mu.Lock(); texts[u] = text; mu.Unlock() },
	})
	base := site.URL("")
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	got := responsesByPath(recs, base)
	for _, p := range append([]string{testsite.ScriptedArticle}, testsite.ScriptedParts...) {
		r, ok := got[p]
		if !ok {
			t.Errorf("%s not archived", p)
			continue
		}
		if !site.OnWire(r.Block) {
			t.Errorf("%s: the response block is not what the server wrote", p)
		}
	}
	if r := got["/js/app.js"]; !bytes.Contains(r.Block, []byte("Transfer-Encoding: chunked")) || !bytes.Contains(r.Block, []byte("Content-Encoding: gzip")) {
		t.Errorf("app.js block lost its framing or encoding:\n%q", r.Block[:min(len(r.Block), 300)])
	}
	shots := 0
	for _, r := range recs {
		u := r.get("WARC-Target-URI")
		if (r.get("WARC-Type") == "request" || r.get("WARC-Type") == "response") && !strings.HasPrefix(u, base) {
			t.Errorf("%s record for %s, not the test site", r.get("WARC-Type"), u)
		}
		if r.get("WARC-Type") == "resource" && u == crawl.ScreenshotPrefix+site.URL(testsite.ScriptedArticle) {
			shots++
			if r.get("Content-Type") != "image/png" {
				t.Errorf("screenshot Content-Type %q", r.get("Content-Type"))
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(r.Block))
			if err != nil || cfg.Width != 1280 || cfg.Height != 800 {
				t.Errorf("screenshot: %v %dx%d, want a 1280x800 PNG", err, cfg.Width, cfg.Height)
			}
		}
	}
	if shots != 1 {
		t.Errorf("%d screenshot records, want 1", shots)
	}
	if txt := texts[site.URL(testsite.ScriptedArticle)]; !strings.Contains(txt, testsite.ScriptedText) {
		t.Errorf("page text %q lacks the JSON API's text", txt)
	}
}

// TestHTTPModeMissesScripted documents what HTTP mode does not archive
// of the same article: everything scripts load.
func TestHTTPModeMissesScripted(t *testing.T) {
	_, recs, site := crawlScripted(t, false, nil)
	base := site.URL("")
	got := responsesByPath(recs, base)
	if _, ok := got["/js/app.js"]; !ok {
		t.Errorf("HTTP mode should archive the script the HTML names")
	}
	// The lazy image's data-src is one HTTP mode reads (extract's lazy
	// attributes); the rest only scripts name.
	if _, ok := got["/img/lazy.png"]; !ok {
		t.Errorf("HTTP mode should archive the data-src of the lazy image")
	}
	for _, p := range testsite.ScriptedParts[1 : len(testsite.ScriptedParts)-1] {
		if _, ok := got[p]; ok {
			t.Errorf("%s archived in HTTP mode: the test no longer shows what HTTP mode misses", p)
		}
	}
}

// browserPIDs are the processes whose command line names dir (the
// browsers' profiles are made there): the browsers this test started.
func browserPIDs(dir string) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(dir)) || bytes.Contains(b, []byte("--type=")) {
			continue // gone, another process, or a child (renderer, GPU)
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestBrowserModeKilled kills the browser while a page waits for an image,
// on both tries: the page is reported once, its HTTP capture stands, and
// the crawl goes on to archive the next seed in full.
func TestBrowserModeKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the browser through /proc")
	}
	chromium := testsite.Chromium(t)
	site := testsite.NewScripted()
	defer site.Close()
	profiles := t.TempDir()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-site.Hangs:
			case <-done:
				return
			}
			for _, pid := range browserPIDs(profiles) {
				if p, err := os.FindProcess(pid); err == nil {
					p.Kill()
				}
			}
		}
	}()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	front, n := newMemory(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hang, article := site.URL("/hang.html"), site.URL(testsite.ScriptedArticle)
	res, recs := runAndRead(t, ctx, crawl.Options{
		Seeds: []string{hang, article}, Frontier: front, Crawl: n, IgnoreRobots: true, Concurrency: 1,
		Browser: &crawl.BrowserOptions{Chromium: chromium, Pool: browser.Options{TempDir: profiles}},
	}, w, dir)
	if len(res.Failures) != 1 || res.Failures[0].URL != hang || !errors.Is(res.Failures[0].Err, browser.ErrCrashed) {
		t.Fatalf("failures %v, want the hanging page once, crashed", res.Failures)
	}
	var pe *browser.PageError
	if !errors.As(res.Failures[0].Err, &pe) || pe.Attempts != 2 || strings.Contains(pe.Error(), "\n") {
		t.Errorf("failure %v, want one line after 2 attempts", res.Failures[0].Err)
	}
	got := responsesByPath(recs, site.URL(""))
	for _, p := range append([]string{"/hang.html", testsite.ScriptedArticle}, testsite.ScriptedParts...) {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not archived", p)
		}
	}
	if left := browserPIDs(profiles); len(left) > 0 {
		t.Errorf("browsers left running: %v", left)
	}
}

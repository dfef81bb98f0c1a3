package crawl_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"image"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/browser"
	"github.com/amber-archiver/amber/warc"
)

// testChromium returns the browser to test with, or skips the test when
// there is none and AMBER_E2E_REQUIRED is unset.
func testChromium(t *testing.T) string {
	t.Helper()
	path, err := browser.FindChromium(os.Getenv("AMBER_CHROMIUM"))
	if err != nil {
		if os.Getenv("AMBER_E2E_REQUIRED") != "" {
			t.Fatalf("AMBER_E2E_REQUIRED is set: %v", err)
		}
		t.Skip(err)
	}
	return path
}

// wireConn keeps every byte the server wrote on a connection.
type wireConn struct {
	net.Conn
	mu  *sync.Mutex
	out *bytes.Buffer
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

type wireListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*bytes.Buffer
}

func (l *wireListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	b := new(bytes.Buffer)
	l.mu.Lock()
	l.conns = append(l.conns, b)
	l.mu.Unlock()
	return &wireConn{Conn: c, mu: &l.mu, out: b}, nil
}

// wrote reports whether block is, byte for byte, part of what the server
// wrote on one connection.
func (l *wireListener) wrote(block []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if bytes.Contains(c.Bytes(), block) {
			return true
		}
	}
	return false
}

const articleText = "Text that only the JSON API has"

// scriptedParts are the paths of the article's script-built parts: none
// of them is named in its HTML.
var scriptedParts = []string{
	"/js/app.js", "/api/article.json", "/img/inserted.png", "/img/bg.png",
	"/fonts/face.woff2", "/js/second.js", "/frame.html", "/img/lazy.png",
}

func testPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for y := range 4 {
		for x := range 4 {
			img.Set(x, y, color.RGBA{200, 30, 30, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func scriptedSite(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/article.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Scripted story</title>
<style>body{margin:0} #hero{width:200px;height:100px}</style></head>
<body><h1>Story</h1><div id="hero"></div><article id="body">Loading…</article>
<div style="height:6000px">spacer</div>
<img id="lazy" data-src="/img/lazy.png" width="10" height="10" alt="">
<script src="/js/app.js"></script></body></html>`)
	case "/js/app.js":
		// gzip, chunked: the archive keeps both, the browser gets gzip.
		w.Header().Set("Content-Type", "text/javascript")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprint(zw, `
fetch('/api/article.json').then(r => r.json()).then(j => { document.getElementById('body').textContent = j.body; });
const img = document.createElement('img'); img.src = '/img/inserted.png'; document.body.appendChild(img);
document.getElementById('hero').style.backgroundImage = 'url(/img/bg.png)';
new FontFace('Face', 'url(/fonts/face.woff2)').load().then(f => document.fonts.add(f), () => {});
const s = document.createElement('script'); s.src = '/js/second.js'; document.head.appendChild(s);
const f = document.createElement('iframe'); f.src = '/frame.html'; document.body.appendChild(f);
const lazy = document.getElementById('lazy');
new IntersectionObserver((entries, o) => {
  for (const e of entries) if (e.isIntersecting) { e.target.src = e.target.dataset.src; o.disconnect(); }
}).observe(lazy);
`)
		zw.Flush()
		w.(http.Flusher).Flush()
		zw.Close()
	case "/js/second.js":
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.body.insertAdjacentHTML('beforeend', '<p>second script ran</p>');`)
	case "/api/article.json":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"body": %q}`, articleText)
	case "/frame.html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><p>frame</p>`)
	case "/fonts/face.woff2":
		w.Header().Set("Content-Type", "font/woff2")
		w.Write([]byte("not really a font"))
	case "/img/inserted.png", "/img/bg.png", "/img/lazy.png", "/favicon.ico":
		w.Header().Set("Content-Type", "image/png")
		w.Write(testPNG())
	default:
		http.NotFound(w, r)
	}
}

// crawlScripted archives the scripted article, in browser mode when b is
// set, and returns the records and the wire log of the server.
func crawlScripted(t *testing.T, b *crawl.BrowserOptions) (*crawl.Result, []rawRecord, *wireListener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := &wireListener{Listener: ln}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(scriptedSite))
	srv.Listener = wl
	srv.Start()
	defer srv.Close()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	front, n := newMemory(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang fails, never blocks the suite
	defer cancel()
	res, err := crawl.Run(ctx, crawl.Options{Seeds: []string{srv.URL + "/article.html"}, Frontier: front, Crawl: n, IgnoreRobots: true, Browser: b}, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var recs []rawRecord
	for _, f := range w.Files() {
		recs = append(recs, readWARC(t, filepath.Join(dir, f))...)
	}
	return res, recs, wl, srv.URL
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

func TestBrowserModeScriptedArticle(t *testing.T) {
	chromium := testChromium(t)
	var mu sync.Mutex
	texts := map[string]string{}
	res, recs, wire, base := crawlScripted(t, &crawl.BrowserOptions{
		Chromium: chromium,
		PageText: func(u, text string) { mu.Lock(); texts[u] = text; mu.Unlock() },
	})
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	got := responsesByPath(recs, base)
	for _, p := range append([]string{"/article.html"}, scriptedParts...) {
		r, ok := got[p]
		if !ok {
			t.Errorf("%s not archived", p)
			continue
		}
		if !wire.wrote(r.Block) {
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
		if r.get("WARC-Type") == "resource" && u == crawl.ScreenshotPrefix+base+"/article.html" {
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
	if txt := texts[base+"/article.html"]; !strings.Contains(txt, articleText) {
		t.Errorf("page text %q lacks the JSON API's text", txt)
	}
}

// TestHTTPModeMissesScripted documents what HTTP mode does not archive
// of the same article: everything scripts load.
func TestHTTPModeMissesScripted(t *testing.T) {
	_, recs, _, base := crawlScripted(t, nil)
	got := responsesByPath(recs, base)
	if _, ok := got["/js/app.js"]; !ok {
		t.Errorf("HTTP mode should archive the script the HTML names")
	}
	// The lazy image's data-src is one HTTP mode reads (extract's lazy
	// attributes); the rest only scripts name.
	if _, ok := got["/img/lazy.png"]; !ok {
		t.Errorf("HTTP mode should archive the data-src of the lazy image")
	}
	for _, p := range scriptedParts[1 : len(scriptedParts)-1] {
		if _, ok := got[p]; ok {
			t.Errorf("%s archived in HTTP mode: the test no longer shows what HTTP mode misses", p)
		}
	}
}

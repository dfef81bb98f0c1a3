// Package testsite serves a small news site on 127.0.0.1 for tests: an
// article with every kind of page requisite, style sheets that import and
// load fonts, a chunked response, a gzip-encoded one, a redirect, a 404 and
// a requisite on a second host (a "CDN"). It records every byte it writes
// on each connection, so tests can check that the archive holds exactly
// what went over the wire.
package testsite

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Site is a running news site and its CDN.
type Site struct {
	Main, CDN *httptest.Server
	wire      *wireLog
}

// Article is the path of the article page.
const Article = "/news/2026/11/story.html"

// Headline is the article's <title> and <h1>.
const Headline = "Harbour bridge reopens after storm"

// New starts the site; Close stops it.
func New() *Site {
	s := &Site{wire: &wireLog{}}
	s.CDN = s.start(http.HandlerFunc(s.serveCDN))
	s.Main = s.start(http.HandlerFunc(s.serveMain))
	return s
}

func (s *Site) start(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = &recListener{Listener: srv.Listener, log: s.wire}
	srv.Start()
	return srv
}

// Close stops both servers.
func (s *Site) Close() {
	s.Main.Close()
	s.CDN.Close()
}

// URL returns the absolute URL of a path on the main host.
func (s *Site) URL(path string) string { return s.Main.URL + path }

// CDNURL returns the absolute URL of a path on the CDN host.
func (s *Site) CDNURL(path string) string { return s.CDN.URL + path }

// Wire returns every connection's written bytes.
func (s *Site) Wire() [][]byte { return s.wire.snapshot() }

// OnWire reports whether b was written, contiguously, on one connection.
func (s *Site) OnWire(b []byte) bool {
	for _, c := range s.wire.snapshot() {
		if bytes.Contains(c, b) {
			return true
		}
	}
	return false
}

// Requisites lists the paths (on the main host) the article needs, each
// with the status it answers.
var Requisites = map[string]int{
	"/news/2026/11/img/hero.jpg":     200,
	"/news/2026/11/img/hero-480.jpg": 200,
	"/news/2026/11/img/hero-800.jpg": 200,
	"/news/2026/11/img/pic.webp":     200,
	"/news/2026/11/img/pic@2x.webp":  200,
	"/news/2026/11/img/lazy.jpg":     200,
	"/news/2026/11/img/lazy-2x.jpg":  200,
	"/news/2026/11/img/poster.jpg":   200,
	"/news/2026/11/img/inline.png":   200,
	"/news/2026/11/img/block.png":    200,
	"/news/2026/11/img/moved.jpg":    301,
	"/img/final.jpg":                 200,
	"/news/2026/11/img/missing.png":  404,
	"/news/2026/11/media/clip.mp4":   200,
	"/news/2026/11/media/clip.vtt":   200,
	"/news/2026/11/media/sound.mp3":  200,
	"/static/main.css":               200, // gzip-encoded
	"/static/theme.css":              200, // @import from main.css
	"/static/print.css":              200, // @import from a <style> block
	"/static/fonts/serif.woff2":      200, // @font-face src list
	"/static/fonts/serif.woff":       200,
	"/static/img/css-bg.png":         200, // url() in main.css
	"/img/theme.png":                 200, // url() in theme.css
	"/static/app.js":                 200, // chunked
	"/static/vendor.js":              200, // gzip-encoded, not parsed
	"/favicon.ico":                   200,
	"/static/preload.woff2":          200,
	"/manifest.json":                 200,
}

// CDNRequisites lists the paths on the CDN host.
var CDNRequisites = map[string]int{"/cdn/lib.js": 200}

func (s *Site) articleHTML() string {
	return `<!doctype html>
<html><head>
<meta charset="utf-8">
<title>` + Headline + `</title>
<base href="/news/2026/11/">
<link rel="stylesheet" href="/static/main.css">
<link rel="icon" href="/favicon.ico">
<link rel="preload" href="/static/preload.woff2" as="font" crossorigin>
<link rel="manifest" href="/manifest.json">
<script src="/static/app.js"></script>
<script src="/static/vendor.js" defer></script>
<script src="` + s.CDNURL("/cdn/lib.js") + `"></script>
<style>@import url("/static/print.css") print; .lead { background: url(img/block.png) no-repeat; }</style>
</head><body>
<h1>` + Headline + `</h1>
<img src="img/hero.jpg" srcset="img/hero-480.jpg 480w, img/hero-800.jpg 800w" alt="hero">
<picture><source srcset="img/pic.webp 1x, img/pic@2x.webp 2x" type="image/webp"><img src="img/hero.jpg" alt=""></picture>
<img class="lazy" data-src="img/lazy.jpg" data-srcset="img/lazy-2x.jpg 2x" alt="">
<div class="lead" style="background-image: url('img/inline.png')">Lead</div>
<video poster="img/poster.jpg" controls><source src="media/clip.mp4" type="video/mp4"><track src="media/clip.vtt" kind="captions"></video>
<audio src="media/sound.mp3"></audio>
<img src="img/moved.jpg" alt="moved">
<img src="img/missing.png" alt="gone">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="inline">
<p>The bridge reopened at dawn. <a href="/news/2026/11/other.html">Related</a> <a href="mailto:desk@example.com">Mail</a></p>
</body></html>
`
}

const mainCSS = `@import "theme.css";
@font-face { font-family: Serif; src: url(fonts/serif.woff2) format("woff2"), url('fonts/serif.woff') format("woff"); }
body { background: url("img/css-bg.png"); font-family: Serif, serif; }
`

func (s *Site) serveMain(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == Article:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, s.articleHTML())
	case p == "/news/2026/11/other.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><head><title>Other</title></head><body>other</body></html>")
	case p == "/static/main.css":
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Content-Encoding", "gzip")
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(mainCSS))
		zw.Close()
		w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
		w.Write(b.Bytes())
	case p == "/static/vendor.js":
		w.Header().Set("Content-Type", "application/javascript")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte("var vendor = 'minified';\n"))
		zw.Close()
	case p == "/static/theme.css":
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, ".theme { background-image: url(/img/theme.png); }\n")
	case p == "/static/print.css":
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "body { color: black; }\n")
	case p == "/static/app.js":
		// No Content-Length and two flushes: net/http sends it chunked.
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, "window.app = {};\n")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "window.app.ready = true;\n")
		w.(http.Flusher).Flush()
	case p == "/news/2026/11/img/moved.jpg":
		http.Redirect(w, r, "/img/final.jpg", http.StatusMovedPermanently)
	case Requisites[p] == 200:
		w.Header().Set("Content-Type", mimeOf(p))
		fmt.Fprintf(w, "bytes of %s\n", p)
	default:
		http.NotFound(w, r)
	}
}

func (s *Site) serveCDN(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/cdn/lib.js" {
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, "var lib = 1;\n")
		return
	}
	http.NotFound(w, r)
}

func mimeOf(p string) string {
	switch {
	case strings.HasSuffix(p, ".jpg"):
		return "image/jpeg"
	case strings.HasSuffix(p, ".png"):
		return "image/png"
	case strings.HasSuffix(p, ".webp"):
		return "image/webp"
	case strings.HasSuffix(p, ".woff2"):
		return "font/woff2"
	case strings.HasSuffix(p, ".woff"):
		return "font/woff"
	case strings.HasSuffix(p, ".mp4"):
		return "video/mp4"
	case strings.HasSuffix(p, ".mp3"):
		return "audio/mpeg"
	case strings.HasSuffix(p, ".vtt"):
		return "text/vtt"
	case strings.HasSuffix(p, ".json"):
		return "application/manifest+json"
	case strings.HasSuffix(p, ".ico"):
		return "image/x-icon"
	}
	return "application/octet-stream"
}

// wireLog keeps what the servers wrote, one buffer per connection.
type wireLog struct {
	mu    sync.Mutex
	conns []*bytes.Buffer
}

func (l *wireLog) add() *bytes.Buffer {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &bytes.Buffer{}
	l.conns = append(l.conns, b)
	return b
}

func (l *wireLog) snapshot() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]byte, len(l.conns))
	for i, b := range l.conns {
		out[i] = append([]byte(nil), b.Bytes()...)
	}
	return out
}

type recListener struct {
	net.Listener
	log *wireLog
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, buf: l.log.add(), log: l.log}, nil
}

type recConn struct {
	net.Conn
	buf *bytes.Buffer
	log *wireLog
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.log.mu.Lock()
	c.buf.Write(p[:n])
	c.log.mu.Unlock()
	return n, err
}

// Hang returns a server that accepts connections and never answers, for
// timeout tests.
func Hang() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
}

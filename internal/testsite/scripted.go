package testsite

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Scripted is an article that scripts assemble, for browser mode: its
// body comes from a JSON API, and an image inserted by script, a
// background set from script, a FontFace font, a script that loads
// another, an iframe made by script and a lazy image far below the fold
// behind an IntersectionObserver are named nowhere in its HTML (but for
// the lazy image's data-src). app.js is gzip-encoded and chunked. Like
// Site, it records every byte it writes.
//
// hang.html has an image that never comes to a browser: its request waits
// until it is cancelled, and each one is announced on Hangs.
type Scripted struct {
	Hangs chan struct{}
	// Certificate is the server's, for a client to trust (NewScriptedTLS).
	Certificate *x509.Certificate
	base        string
	close       func()
	wire        *wireLog
}

// ScriptedArticle is the path of the article; ScriptedText is the text
// only its JSON API has.
const (
	ScriptedArticle = "/article.html"
	ScriptedText    = "Text that only the JSON API has"
)

// ScriptedParts are the paths of the article's script-built parts.
var ScriptedParts = []string{
	"/js/app.js", "/api/article.json", "/img/inserted.png", "/img/bg.png",
	"/fonts/face.woff2", "/js/second.js", "/frame.html", "/img/lazy.png",
}

// NewScripted starts the scripted site on 127.0.0.1.
func NewScripted() *Scripted {
	s := &Scripted{wire: &wireLog{}, Hangs: make(chan struct{}, 16)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	srv.Listener = &recListener{Listener: srv.Listener, log: s.wire}
	srv.Start()
	s.base, s.close = srv.URL, srv.Close
	return s
}

// NewScriptedTLS starts the scripted site on 127.0.0.1 over HTTPS (HTTP/1.1),
// with httptest's certificate (for 127.0.0.1 and example.com). What it
// records is the plaintext inside TLS.
func NewScriptedTLS() *Scripted {
	s := &Scripted{wire: &wireLog{}, Hangs: make(chan struct{}, 16)}
	donor := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate
	certs, cert := donor.TLS.Certificates, donor.Certificate()
	donor.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("testsite: " + err.Error())
	}
	tl := tls.NewListener(ln, &tls.Config{Certificates: certs, NextProtos: []string{"http/1.1"}})
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: time.Minute}
	go srv.Serve(&recListener{Listener: tl, log: s.wire})
	s.base, s.Certificate = "https://"+ln.Addr().String(), cert
	s.close = func() { srv.Close() }
	return s
}

// URL returns the absolute URL of a path.
func (s *Scripted) URL(path string) string { return s.base + path }

// Close stops the server.
func (s *Scripted) Close() { s.close() }

// OnWire reports whether b was written, contiguously, on one connection.
func (s *Scripted) OnWire(b []byte) bool {
	for _, c := range s.wire.snapshot() {
		if bytes.Contains(c, b) {
			return true
		}
	}
	return false
}

func scriptedPNG() []byte {
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

func (s *Scripted) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/hang.html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>hang</title><p>waiting</p><img src="/img/hang.png">`)
	case "/img/hang.png":
		if !strings.Contains(r.UserAgent(), "Chrome") {
			w.Header().Set("Content-Type", "image/png")
			w.Write(scriptedPNG()) // HTTP mode gets it
			return
		}
		select {
		case s.Hangs <- struct{}{}:
		default:
		}
		<-r.Context().Done()
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
		fmt.Fprintf(w, `{"body": %q}`, ScriptedText)
	case "/frame.html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><p>frame</p>`)
	case "/fonts/face.woff2":
		w.Header().Set("Content-Type", "font/woff2")
		w.Write([]byte("not really a font"))
	case "/img/inserted.png", "/img/bg.png", "/img/lazy.png", "/favicon.ico":
		w.Header().Set("Content-Type", "image/png")
		w.Write(scriptedPNG())
	default:
		http.NotFound(w, r)
	}
}

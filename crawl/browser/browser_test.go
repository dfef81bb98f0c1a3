package browser

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl/browser/proxy"
)

// chromium returns the browser to test with, or skips the test when there
// is none and AMBER_E2E_REQUIRED is unset (CI sets it: then it fails).
func chromium(t *testing.T) string {
	t.Helper()
	path, err := FindChromium(os.Getenv("AMBER_CHROMIUM"))
	if err != nil {
		if os.Getenv("AMBER_E2E_REQUIRED") != "" {
			t.Fatalf("AMBER_E2E_REQUIRED is set: %v", err)
		}
		t.Skip(err)
	}
	return path
}

func pngOf(w, h int, c color.Color) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

const jsonText = "Text that only the JSON API has"

// scriptSite is an article assembled by scripts: its body from a JSON
// API, an image inserted by script, a background set from script, a
// FontFace font, a script that loads another, an iframe made by script,
// and a lazy image far below the fold behind an IntersectionObserver.
// hang.html has an image that does not come until release is closed (or
// the request is cancelled) the first time it is asked for.
type scriptSite struct {
	mu      sync.Mutex
	served  []string
	hanging chan struct{} // closed when hang.png is first asked for
	once    sync.Once
	hangs   atomic.Int32
}

// requisitesOf are the paths of article.html's script-built parts.
var requisitesOf = []string{
	"/js/app.js", "/api/article.json", "/img/inserted.png", "/img/bg.png",
	"/fonts/face.woff2", "/js/second.js", "/frame.html", "/img/lazy.png",
}

func (s *scriptSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.served = append(s.served, r.URL.Path)
	s.mu.Unlock()
	img := pngOf(4, 4, color.RGBA{200, 30, 30, 255})
	switch r.URL.Path {
	case "/article.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Scripted story</title>
<style>body{margin:0} #hero{width:200px;height:100px}</style></head>
<body><h1>Story</h1><div id="hero"></div><article id="body">Loading…</article>
<a href="/next.html">next</a>
<div style="height:6000px">spacer</div>
<img id="lazy" data-src="/img/lazy.png" width="10" height="10" alt="">
<script src="/js/app.js"></script></body></html>`)
	case "/js/app.js":
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `
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
	case "/js/second.js":
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.body.insertAdjacentHTML('beforeend', '<p>second script ran</p>');`)
	case "/api/article.json":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"body": %q}`, jsonText)
	case "/frame.html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><p>frame</p>`)
	case "/fonts/face.woff2":
		w.Header().Set("Content-Type", "font/woff2")
		w.Write([]byte("not really a font"))
	case "/img/inserted.png", "/img/bg.png", "/img/lazy.png", "/favicon.ico":
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	case "/hang.html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>hang</title><p>waiting</p><img src="/img/hang.png">`)
	case "/img/hang.png":
		if s.hangs.Add(1) == 1 {
			s.once.Do(func() { close(s.hanging) })
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	case "/next.html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>next</title><p>next page</p>`)
	default:
		http.NotFound(w, r)
	}
}

// fetcher records what the proxy asks for and sends it on with a Go
// transport that trusts the test's TLS origin.
type fetcher struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	urls []string
}

func (f *fetcher) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.URL.Hostname(); h != "127.0.0.1" && h != "localhost" {
		// Chromium asks for accounts.google.com and update servers of its
		// own: a test never sends traffic off this machine.
		return nil, fmt.Errorf("test fetcher: %s is not on 127.0.0.1", h)
	}
	f.mu.Lock()
	f.urls = append(f.urls, r.URL.String())
	f.mu.Unlock()
	return f.rt.RoundTrip(r)
}

func (f *fetcher) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.urls)
}

type rig struct {
	site   *scriptSite
	plain  *httptest.Server
	secure *httptest.Server
	fetch  *fetcher
	proxy  *proxy.Proxy
	pool   *Pool
	tmp    string
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	if opts.Chromium == "" {
		opts.Chromium = chromium(t)
	}
	r := &rig{site: &scriptSite{hanging: make(chan struct{})}}
	r.plain = httptest.NewServer(r.site)
	t.Cleanup(r.plain.Close)
	r.secure = httptest.NewTLSServer(r.site)
	t.Cleanup(r.secure.Close)
	roots := x509.NewCertPool()
	roots.AddCert(r.secure.Certificate())
	r.fetch = &fetcher{rt: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableCompression: true}}
	var err error
	r.proxy, err = proxy.Start(r.fetch, proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.proxy.Close() })
	r.tmp = t.TempDir()
	opts.Proxy = r.proxy.URL()
	if opts.TrustSPKI == nil {
		opts.TrustSPKI = []string{r.proxy.CA().LeafSPKIHash()}
	} else {
		opts.TrustSPKI = []string{r.proxy.CA().SPKIHash()} // see TestTrustCA
	}
	opts.TempDir = r.tmp
	r.pool, err = NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.pool.Close() })
	return r
}

func TestCaptureScriptBuiltArticle(t *testing.T) {
	r := newRig(t, Options{})
	for _, base := range []string{r.plain.URL, r.secure.URL} {
		pg, err := r.pool.Capture(context.Background(), base+"/article.html")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v, %d scrolls, %d requested, timed out %v; Chromium peak RSS (VmHWM, summed over its processes) %s",
			base, pg.Duration.Round(time.Millisecond), pg.Scrolls, len(pg.Requested), pg.TimedOut, peakRSS(r.pool))
		seen := r.fetch.seen()
		for _, p := range append([]string{"/article.html"}, requisitesOf...) {
			if !slices.Contains(seen, base+p) {
				t.Errorf("the proxy's fetcher never saw %s%s; it saw %v", base, p, seen)
			}
		}
		if !strings.Contains(pg.Text, jsonText) || !strings.Contains(pg.Text, "second script ran") {
			t.Errorf("rendered text %q lacks the JSON API's and the second script's text", pg.Text)
		}
		if pg.Title != "Scripted story" || pg.FinalURL != base+"/article.html" {
			t.Errorf("title %q, final URL %q", pg.Title, pg.FinalURL)
		}
		for _, p := range []string{"/img/inserted.png", "/img/bg.png", "/js/second.js", "/frame.html", "/img/lazy.png"} {
			if !slices.Contains(pg.Requisites, base+p) {
				t.Errorf("requisites lack %s%s: %v", base, p, pg.Requisites)
			}
		}
		if !slices.Contains(pg.Links, base+"/next.html") {
			t.Errorf("links %v lack next.html", pg.Links)
		}
		if !slices.Contains(pg.Requested, base+"/api/article.json") {
			t.Errorf("requested %v lacks the JSON API", pg.Requested)
		}
		img, err := png.Decode(bytes.NewReader(pg.Screenshot))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if b := img.Bounds(); b.Dx() != DefaultWidth || b.Dy() != DefaultHeight || pg.Width != DefaultWidth || pg.Height != DefaultHeight {
			t.Errorf("screenshot %v (Page says %d×%d), want %d×%d", b, pg.Width, pg.Height, DefaultWidth, DefaultHeight)
		}
	}
	if err := r.pool.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(r.tmp); len(left) != 0 {
		t.Errorf("profile directories left after Close: %v", left)
	}
}

// TestTrustCA: Chromium also takes the CA's own SPKI hash (the proxy
// sends the CA certificate in the chain).
func TestTrustCA(t *testing.T) {
	r := newRig(t, Options{TrustSPKI: []string{"ca"}})
	pg, err := r.pool.Capture(context.Background(), r.secure.URL+"/next.html")
	if err != nil || !strings.Contains(pg.Text, "next page") {
		t.Fatalf("HTTPS page with the CA's SPKI trusted: %v %+v", err, pg)
	}
}

// TestCaptureBrowserKilled: a browser killed mid-page is replaced, the
// page is tried once more (and here succeeds, the image no longer
// hanging), and the next page works.
func TestCaptureBrowserKilled(t *testing.T) {
	r := newRig(t, Options{})
	type result struct {
		pg  *Page
		err error
	}
	done := make(chan result, 1)
	go func() {
		pg, err := r.pool.Capture(context.Background(), r.plain.URL+"/hang.html")
		done <- result{pg, err}
	}()
	waitFor(t, r.site.hanging, "hang.png to be asked for")
	pids := r.pool.PIDs()
	if len(pids) != 1 {
		t.Fatalf("PIDs %v, want one browser", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(guard):
		t.Fatalf("Capture did not return %v after its browser was killed", guard)
	}
	var pe *PageError
	switch {
	case res.err == nil:
		if res.pg.Attempts != 2 {
			t.Errorf("page survived a killed browser in %d attempts, want 2", res.pg.Attempts)
		}
	case errors.As(res.err, &pe) && errors.Is(res.err, ErrCrashed):
		t.Logf("killed page reported: %v", res.err)
	default:
		t.Fatalf("killed page: %v, want success on retry or a PageError wrapping ErrCrashed", res.err)
	}
	if slices.Contains(r.pool.PIDs(), pids[0]) {
		t.Errorf("the killed browser %d is still in the pool", pids[0])
	}
	waitGone(t, pids[0], r.tmp)
	pg, err := r.pool.Capture(context.Background(), r.plain.URL+"/next.html")
	if err != nil || !strings.Contains(pg.Text, "next page") {
		t.Fatalf("next page after the crash: %v, %+v", err, pg)
	}
}

// TestCaptureBrowserHung: a browser that stops answering (SIGSTOP) is
// killed; the page is retried in a new one and the pool goes on.
func TestCaptureBrowserHung(t *testing.T) {
	r := newRig(t, Options{PageTimeout: 5 * time.Second, CommandTimeout: 5 * time.Second})
	done := make(chan error, 1)
	var pg *Page
	go func() {
		var err error
		pg, err = r.pool.Capture(context.Background(), r.plain.URL+"/hang.html")
		done <- err
	}()
	waitFor(t, r.site.hanging, "hang.png to be asked for")
	pid := r.pool.PIDs()[0]
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(guard):
		t.Fatalf("Capture did not return %v after its browser was stopped", guard)
	}
	if err != nil {
		if !errors.Is(err, ErrHung) {
			t.Fatalf("hung page: %v, want ErrHung or success on retry", err)
		}
	} else if pg.Attempts != 2 {
		t.Errorf("attempts %d, want 2", pg.Attempts)
	}
	waitGone(t, pid, r.tmp)
}

func TestBadInput(t *testing.T) {
	if _, err := FindChromium(filepath.Join(t.TempDir(), "none")); !errors.Is(err, ErrNoChromium) {
		t.Errorf("missing path: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err := NewPool(Options{})
	if !errors.Is(err, ErrNoChromium) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "install") {
		t.Errorf("no Chromium on PATH: %v", err)
	}
	p, err := NewPool(Options{Chromium: "/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"", "ftp://a/", "/relative", "http://"} {
		if _, err := p.Capture(context.Background(), u); !errors.Is(err, ErrBadURL) {
			t.Errorf("Capture(%q): %v, want ErrBadURL", u, err)
		}
	}
	// A binary that is not a browser: a launch error, not a hang.
	if _, err := p.Capture(context.Background(), "http://127.0.0.1:1/"); err == nil {
		t.Error("capture with /bin/true as the browser succeeded")
	} else {
		var le *LaunchError
		if !errors.As(err, &le) {
			t.Errorf("capture with /bin/true: %v, want a LaunchError", err)
		}
	}
}

// guard bounds the tests' waits on the browser, so that a bug shows as a
// failure naming the wait rather than as the test binary's timeout. It is
// far above what any step takes.
const guard = 4 * time.Minute

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatalf("waited %v for %s", guard, what)
	}
}

// waitGone waits until no process of the browser pid is left (the
// process group) and its profile directory is removed.
func waitGone(t *testing.T, pid int, tmp string) {
	t.Helper()
	for range 200 {
		left, _ := os.ReadDir(tmp)
		if len(groupPIDs(pid)) == 0 && len(left) <= 1 { // the new browser's profile
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("processes of the killed browser's group %d left: %v", pid, groupPIDs(pid))
}

// groupPIDs lists the processes in process group pgid.
func groupPIDs(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && !strings.HasPrefix(f[0], "Z") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// peakRSS sums VmHWM over the processes of the pool's browsers: an upper
// bound of their peak (shared pages count once per process).
func peakRSS(p *Pool) string {
	var kb int64
	n := 0
	for _, pid := range p.PIDs() {
		for _, q := range groupPIDs(pid) {
			status, err := os.ReadFile("/proc/" + strconv.Itoa(q) + "/status")
			if err != nil {
				continue
			}
			for line := range strings.SplitSeq(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					x, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					kb += x
					n++
				}
			}
		}
	}
	return fmt.Sprintf("%.0f MiB in %d processes", float64(kb)/1024, n)
}

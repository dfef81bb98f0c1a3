package crawl_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
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

// realSite serves pages shaped like real news articles under several
// host names, over http and https on one port (a listener that tells a TLS
// handshake from a plain request), so that a page's http: URL and its
// upgraded https: URL reach the same server.
type realSite struct {
	port string
	srv  *http.Server

	mu       sync.Mutex
	requests map[string]int // scheme://host/path → requests
}

type sniffListener struct {
	net.Listener
	tls *tls.Config
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (l sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	first, err := r.Peek(1)
	c.SetReadDeadline(time.Time{})
	pc := peekedConn{Conn: c, r: r}
	if err == nil && first[0] == 0x16 { // a TLS handshake record
		return tls.Server(pc, l.tls), nil
	}
	return pc, nil
}

func newRealSite(t *testing.T, pages map[string]string) *realSite {
	// The certificate httptest makes for its TLS servers; the crawl skips
	// verification.
	certSrv := httptest.NewTLSServer(http.NotFoundHandler())
	cert := certSrv.TLS.Certificates
	certSrv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &realSite{requests: map[string]int{}}
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		s.mu.Lock()
		s.requests[scheme+"://"+host+r.URL.Path]++
		s.mu.Unlock()
		key := host + r.URL.Path
		body, ok := pages[key]
		switch {
		case !ok:
			http.NotFound(w, r)
			return
		case strings.HasSuffix(key, ".html"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		case strings.HasSuffix(key, ".css"):
			w.Header().Set("Content-Type", "text/css")
		case strings.HasSuffix(key, ".txt"):
			w.Header().Set("Content-Type", "text/plain")
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
			if body == "" {
				body = "bytes of " + key
			}
		}
		fmt.Fprint(w, strings.ReplaceAll(body, "PORT", s.port))
	})}
	go s.srv.Serve(sniffListener{Listener: ln, tls: &tls.Config{Certificates: cert}})
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *realSite) count(u string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[u]
}

func (s *realSite) url(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	host, path, _ := strings.Cut(rest, "/")
	return scheme + "://" + host + ":" + s.port + "/" + path
}

// crawlReal archives seed into a fresh collection, checks that verify
// finds nothing wrong in what was written, and returns the result, the
// records, and the crawl log's lines.
func crawlReal(t *testing.T, s *realSite, opts crawl.Options, seed string) (*crawl.Result, []rawRecord, []string) {
	t.Helper()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	opts.Seeds = []string{s.url(seed)}
	if opts.Transport.Resolve == nil {
		opts.Transport.Resolve = map[string]string{}
	}
	for _, h := range []string{"news.test", "cdn.test", "secure.test"} {
		opts.Transport.Resolve[h] = "127.0.0.1"
	}
	opts.Transport.InsecureSkipVerify = true
	opts.RetryBase = time.Millisecond
	var log strings.Builder
	opts.Log = &log
	res, err := crawl.Run(context.Background(), opts, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var recs []rawRecord
	var paths []string
	for _, f := range w.Files() {
		paths = append(paths, filepath.Join(dir, f))
		recs = append(recs, readWARC(t, filepath.Join(dir, f))...)
	}
	rep, err := verify.Paths(context.Background(), paths, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged(true) {
		t.Errorf("verify finds the archive damaged: %+v", rep.Files)
	}
	return res, recs, strings.Split(strings.TrimSpace(log.String()), "\n")
}

// responses returns scheme://host/path of every response record, with
// the port left out, and how many times each was archived.
func responses(s *realSite, recs []rawRecord) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		if r.get("WARC-Type") != "response" && r.get("WARC-Type") != "revisit" {
			continue
		}
		out[strings.Replace(r.get("WARC-Target-URI"), ":"+s.port, "", 1)]++
	}
	return out
}

var realPages = map[string]string{
	"news.test/robots.txt": "User-agent: *\nDisallow: /private/\n",
	"news.test/2024/story.html": `<!doctype html><html><head><title>Storm</title>
<noscript><link rel="stylesheet" href="/css/noscript.css"></noscript>
<link rel="prefetch" href="/js/next-bundle.js">
<link rel="prerender" href="/2024/next.html">
<link rel="apple-touch-icon" href="/touch.png">
</head><body>
<a href="/img/hero.jpg"><img src="/img/hero.jpg" alt="enlarge"></a>
<div class="lazy" data-props='{"src":"http://cdn.test:PORT/img/lazy.jpg"}'></div>
<noscript><img src="http://cdn.test:PORT/img/lazy.jpg"></noscript>
<noscript><picture><source srcset="http://cdn.test:PORT/img/pic.webp 1x"><img src="http://cdn.test:PORT/img/pic.jpg"></picture><iframe src="/embed/frame.html"></iframe></noscript>
<img src="http://cdn.test:PORT/2019/05/07/0/0/3824/2545/664/0/75/0/name.jpg">
<svg><use href="/svg/sprite.svg#icon-x"></use><use xlink:href="/svg/sprite2.svg#b"></use><image href="/svg/pic.png"/><image xlink:href="/svg/pic2.png"/><filter><feImage href="/svg/fe.png"/></filter></svg>
<a href="/x/x/x/x/trap.html">a trap</a> <a href="/x/x/x/x/trap.html">the same trap</a>
<a href="/private/photo.jpg">photo</a>
</body></html>`,
	"news.test/2024/next.html":                              `<html><head><title>Next</title><link rel="icon" href="/icon.png"></head><body><img src="/private/photo.jpg"></body></html>`,
	"news.test/css/noscript.css":                            `body{background:url(/img/ns-bg.png)}`,
	"news.test/embed/frame.html":                            `<html><body><img src="/img/inframe.png"></body></html>`,
	"news.test/x/x/x/x/trap.html":                           `a page the trap guard skips`,
	"news.test/js/next-bundle.js":                           "",
	"news.test/touch.png":                                   "",
	"news.test/icon.png":                                    "",
	"news.test/img/hero.jpg":                                "",
	"news.test/img/ns-bg.png":                               "",
	"news.test/img/inframe.png":                             "",
	"news.test/svg/sprite.svg":                              "",
	"news.test/svg/sprite2.svg":                             "",
	"news.test/svg/pic.png":                                 "",
	"news.test/svg/pic2.png":                                "",
	"news.test/svg/fe.png":                                  "",
	"news.test/private/photo.jpg":                           "",
	"cdn.test/img/lazy.jpg":                                 "",
	"cdn.test/img/pic.webp":                                 "",
	"cdn.test/img/pic.jpg":                                  "",
	"cdn.test/2019/05/07/0/0/3824/2545/664/0/75/0/name.jpg": "",

	"secure.test/mixed.html": `<html><head><title>Mixed</title><link rel="icon" href="/icon.png">
<script src="http://secure.test:PORT/app.js"></script><link rel="stylesheet" href="http://secure.test:PORT/s.css"></head>
<body><div style="background:url(http://cdn.test:PORT/bg.png)"></div><img src="http://secure.test:PORT/img/photo.jpg"><video poster="http://cdn.test:PORT/poster.jpg"><source src="http://cdn.test:PORT/clip.mp4"></video></body></html>`,
	"secure.test/icon.png":      "",
	"secure.test/app.js":        "",
	"secure.test/s.css":         "",
	"secure.test/img/photo.jpg": "",
	"cdn.test/poster.jpg":       "",
	"cdn.test/bg.png":           "",
	"cdn.test/clip.mp4":         "",
}

// An article as real sites write them: the only plain src of its images
// in <noscript>, an "enlarge" link to the image it shows, a CDN path that
// repeats segments, SVG sprites, hints, no icon of its own, a link to a
// page robots.txt disallows and another page needs as an image. Archived
// with the memory state and the bbolt state.
func TestRealWebArticle(t *testing.T) {
	want := []string{
		"http://news.test/robots.txt", "http://news.test/sitemap.xml",
		"http://news.test/2024/story.html", "http://news.test/2024/next.html",
		"http://news.test/css/noscript.css", "http://news.test/img/ns-bg.png", "http://news.test/js/next-bundle.js",
		"http://news.test/touch.png", "http://news.test/favicon.ico", "http://news.test/icon.png",
		"http://news.test/img/hero.jpg", "http://news.test/embed/frame.html", "http://news.test/img/inframe.png",
		"http://news.test/svg/sprite.svg", "http://news.test/svg/sprite2.svg", "http://news.test/svg/pic.png",
		"http://news.test/svg/pic2.png", "http://news.test/svg/fe.png", "http://news.test/private/photo.jpg",
		"http://cdn.test/img/lazy.jpg", "http://cdn.test/img/pic.webp", "http://cdn.test/img/pic.jpg",
		"http://cdn.test/2019/05/07/0/0/3824/2545/664/0/75/0/name.jpg",
	}
	sort.Strings(want)
	for _, backend := range []string{"memory", "bolt"} {
		t.Run(backend, func(t *testing.T) {
			s := newRealSite(t, realPages)
			opts := crawl.Options{Scope: crawl.ScopeHost}
			if backend == "bolt" {
				st, err := frontier.OpenBolt(filepath.Join(t.TempDir(), "crawl.db"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				info, err := st.Begin(context.Background(), false)
				if err != nil {
					t.Fatal(err)
				}
				opts.Frontier, opts.Crawl = st, info.Crawl
			}
			res, recs, log := crawlReal(t, s, opts, "http://news.test/2024/story.html")
			got := responses(s, recs)
			var urls []string
			for u, n := range got {
				urls = append(urls, u)
				if n != 1 {
					t.Errorf("%s archived %d times", u, n)
				}
			}
			sort.Strings(urls)
			if !slices.Equal(urls, want) {
				t.Errorf("archived:\n  %s\nwant:\n  %s", strings.Join(urls, "\n  "), strings.Join(want, "\n  "))
			}
			if len(res.Failures) > 0 {
				t.Errorf("failures: %v", res.Failures)
			}
			if res.Captures != len(want) {
				t.Errorf("%d captures, want %d", res.Captures, len(want))
			}
			// Skipped: the trap page (linked twice, counted once), and the
			// photo as a page if robots.txt was known when it was found.
			var skips []string
			for _, l := range log {
				if strings.Contains(l, `"error":"skipped: `) {
					skips = append(skips, l)
				}
			}
			if res.Skipped != len(skips) || res.Skipped < 1 || res.Skipped > 2 {
				t.Errorf("%d skipped, %d skip lines in the log, want 1 or 2 of each:\n%s", res.Skipped, len(skips), strings.Join(skips, "\n"))
			}
			if !slices.ContainsFunc(skips, func(l string) bool {
				return strings.Contains(l, "/x/x/x/x/trap.html") && strings.Contains(l, "crawler trap")
			}) {
				t.Errorf("no skip line for the trap page:\n%s", strings.Join(skips, "\n"))
			}
			if n := s.count("http://news.test/x/x/x/x/trap.html"); n != 0 {
				t.Errorf("the trap page was requested %d times", n)
			}
		})
	}
}

// An https page's http: images (CSS backgrounds too) and video are
// fetched upgraded to https (what the browser loads) and as named; its
// http: script and style sheet, which a browser blocks, as named.
func TestRealWebMixedContent(t *testing.T) {
	s := newRealSite(t, realPages)
	res, recs, _ := crawlReal(t, s, crawl.Options{}, "https://secure.test/mixed.html")
	got := responses(s, recs)
	var urls []string
	for u := range got {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	want := []string{
		"http://cdn.test/bg.png", "http://cdn.test/clip.mp4", "http://cdn.test/poster.jpg", "http://secure.test/app.js",
		"http://secure.test/img/photo.jpg", "http://secure.test/s.css",
		"https://cdn.test/bg.png", "https://cdn.test/clip.mp4", "https://cdn.test/poster.jpg", "https://secure.test/icon.png",
		"https://secure.test/img/photo.jpg", "https://secure.test/mixed.html", "https://secure.test/robots.txt",
	}
	if !slices.Equal(urls, want) {
		t.Errorf("archived:\n  %s\nwant:\n  %s", strings.Join(urls, "\n  "), strings.Join(want, "\n  "))
	}
	if len(res.Failures) > 0 || res.Skipped != 0 {
		t.Errorf("failures %v, %d skipped", res.Failures, res.Skipped)
	}
	for _, u := range []string{"https://secure.test/app.js", "https://secure.test/s.css"} {
		if s.count(u) != 0 {
			t.Errorf("%s requested: a browser does not upgrade scripts and style sheets", u)
		}
	}
}

// When the upgraded https: URL cannot be fetched (the host serves plain
// HTTP only), the http: URL the page names is archived and the crawl has
// no failure: a browser would show nothing, and the page is whole. The
// attempt is in the crawl log.
func TestRealWebUpgradeFails(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		fmt.Fprint(w, "plain image "+r.URL.Path)
	}))
	defer plain.Close()
	_, plainPort, _ := net.SplitHostPort(plain.Listener.Addr().String())
	pages := map[string]string{
		"secure.test/page.html": `<html><head><title>T</title><link rel="stylesheet" href="/s.css"></head><body><img src="http://plain.test:` + plainPort + `/img.png"></body></html>`,
		"secure.test/s.css":     `.a{background:url(http://plain.test:` + plainPort + `/bg.png)}`,
	}
	s := newRealSite(t, pages)
	res, recs, log := crawlReal(t, s, crawl.Options{Transport: capture.Options{Resolve: map[string]string{"plain.test": "127.0.0.1"}}, Retries: -1}, "https://secure.test/page.html")
	got := responses(s, recs)
	for _, u := range []string{"http://plain.test:" + plainPort + "/img.png", "http://plain.test:" + plainPort + "/bg.png", "https://secure.test/page.html", "https://secure.test/s.css"} {
		if got[u] != 1 {
			t.Errorf("%s archived %d times, want once; archived: %v", u, got[u], got)
		}
	}
	if len(res.Failures) > 0 {
		t.Errorf("failures: %v", res.Failures)
	}
	tried := 0
	for _, l := range log {
		if strings.Contains(l, `"url":"https://plain.test:`+plainPort+`/`) && strings.Contains(l, `"error":`) {
			tried++
		}
	}
	if tried != 2 {
		t.Errorf("%d crawl-log lines for the failed upgrades, want 2:\n%s", tried, strings.Join(log, "\n"))
	}
}

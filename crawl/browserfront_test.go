package crawl_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/browser"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/crawl/frontier"
	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/warc"
)

// frontSite is an HTTPS test site for the browser's fetches as fetches of
// the crawl: it counts the requests of each path and serves a flaky
// image (503, then 200), pages whose scripts load images, and style
// sheets in br and zstd.
type frontSite struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	png  []byte // a 3×2 PNG
	br   []byte // /css/br.css, brotli-encoded
	zst  []byte // /css/zstd.css, zstd-encoded
}

// sheetCSS is a style sheet with a rule naming img, long enough that
// neither coding leaves the URL in plain text among its literals.
func sheetCSS(img string) string {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, ".r%d { color: #%06x; margin: %dpx }\n", i, i*40503%0xffffff, i%17)
	}
	b.WriteString(".never-used { background: url('" + img + "') }\n")
	return b.String()
}

func newFrontSite(t *testing.T) *frontSite {
	t.Helper()
	s := &frontSite{hits: map[string]int{}}
	var pb bytes.Buffer
	png.Encode(&pb, image.NewGray(image.Rect(0, 0, 3, 2)))
	s.png = pb.Bytes()
	var bb bytes.Buffer
	bw := brotli.NewWriter(&bb)
	bw.Write([]byte(sheetCSS("/img/from-br.png")))
	bw.Close()
	s.br = bb.Bytes()
	zw, _ := zstd.NewWriter(nil)
	s.zst = zw.EncodeAll([]byte(sheetCSS("/img/from-zstd.png")), nil)
	zw.Close()
	if bytes.Contains(s.br, []byte("from-br")) || bytes.Contains(s.zst, []byte("from-zstd")) {
		t.Fatal("an encoded style sheet holds its image's URL in plain text: the test would not show it was decoded")
	}
	page := func(body string) string {
		return "<!doctype html><html><head><title>t</title><link rel=icon href=\"data:,\"></head><body>" + body + "</body></html>"
	}
	loader := func(srcs ...string) string {
		return `<p id=s>waiting</p><script>
let ok = 0, bad = 0, n = ` + fmt.Sprint(len(srcs)) + `;
const done = () => { if (ok + bad == n) document.getElementById('s').textContent = 'loaded ' + ok + ' failed ' + bad; };
for (const src of ` + fmt.Sprintf("%q", strings.Join(srcs, " ")) + `.split(' ')) {
  const i = new Image();
  i.onload = () => { ok++; done(); };
  i.onerror = () => { bad++; done(); };
  i.src = src;
}
</script>`
	}
	pages := map[string]string{
		// The browser loads the flaky image by script.
		"/retry.html": page(loader("/img/flaky.png")),
		// HTTP mode loads the other from the HTML.
		"/retry-http.html": page(`<img src="/img/flaky-http.png">`),
		// both.png is named in the HTML and loaded by the browser;
		// shared.png the browser loads by script here, and the next
		// page names it where HTTP mode alone reads it (data-src);
		// script-only.png no HTML names.
		"/once-a.html": page(`<img src="/img/both.png"><a href="/once-b.html">b</a>` + loader("/img/shared.png", "/img/script-only.png")),
		"/once-b.html": page(`<img data-src="/img/shared.png" alt="">`),
		// Style sheets a script inserts, whose url()s name images
		// no element uses: only parsing the sheets finds them.
		"/sheets.html": page(`<div>styled</div><script>
for (const h of ['/css/br.css', '/css/zstd.css']) {
  const l = document.createElement('link'); l.rel = 'stylesheet'; l.href = h; document.head.appendChild(l);
}
</script>`),
		// Five images by script, on a host capped at three URLs.
		"/cap.html": page(loader("/cap/1.png", "/cap/2.png", "/cap/3.png", "/cap/4.png", "/cap/5.png")),
		// A body a script fetches from an API that answers only with
		// the session cookie (a login or paywall), and sets another.
		"/wall.html": page(`<a href="/after.html">next</a><p id=s>waiting</p><script>
fetch('/api/wall.json').then(r => r.text()).then(t => { document.getElementById('s').textContent = t; });
</script>`),
		"/after.html": page(`<img data-src="/img/after-wall.png" alt="">`),
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		n := s.hits[r.URL.Path]
		s.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		switch p := r.URL.Path; {
		case pages[p] != "":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(pages[p]))
		case (p == "/img/flaky.png" || p == "/img/flaky-http.png") && n == 1:
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("busy, come back\n"))
		case p == "/api/wall.json":
			w.Header().Set("Content-Type", "application/json")
			if c, err := r.Cookie("session"); err != nil || c.Value != "s3cret" {
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"body":"log in first"}`))
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "seen", Value: "wall", Path: "/"})
			w.Write([]byte(`{"body":"the article behind the wall"}`))
		case p == "/img/after-wall.png":
			if c, err := r.Cookie("seen"); err != nil || c.Value != "wall" {
				http.Error(w, "no seen cookie", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "image/png")
			w.Write(s.png)
		case p == "/css/br.css":
			w.Header().Set("Content-Type", "text/css")
			w.Header().Set("Content-Encoding", "br")
			w.Write(s.br)
		case p == "/css/zstd.css":
			w.Header().Set("Content-Type", "text/css")
			w.Header().Set("Content-Encoding", "zstd")
			w.Write(s.zst)
		case strings.HasSuffix(p, ".png"):
			w.Header().Set("Content-Type", "image/png")
			w.Write(s.png)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *frontSite) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

// crawlFront archives seeds of the site, in browser mode when chromium is
// set, and returns the result, the records, the frontier and the pages'
// rendered texts.
func crawlFront(t *testing.T, s *frontSite, chromium string, opts crawl.Options, seeds ...string) (*crawl.Result, []rawRecord, *frontier.Memory, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir, Info: []warc.Field{{Name: "software", Value: "amber-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	front, n := newMemory(t)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	opts.Transport = capture.Options{RootCAs: roots}
	opts.Frontier, opts.Crawl, opts.IgnoreRobots = front, n, true
	opts.RetryBase = 10 * time.Millisecond
	for _, p := range seeds {
		opts.Seeds = append(opts.Seeds, s.URL+p)
	}
	var mu sync.Mutex
	texts := map[string]string{}
	if chromium != "" {
		opts.Browser = &crawl.BrowserOptions{
			Chromium: chromium,
			PageText: func(u, text string) { mu.Lock(); texts[strings.TrimPrefix(u, s.URL)] = text; mu.Unlock() },
			Pool:     browser.Options{QuietTime: 300 * time.Millisecond},
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, recs := runAndRead(t, ctx, opts, w, dir)
	return res, recs, front, texts
}

// exchanges lists the (type, status) of the response and request records
// of a URL, in the order written.
func exchanges(recs []rawRecord, u string) []string {
	var out []string
	for _, r := range recs {
		if r.get("WARC-Target-URI") != u {
			continue
		}
		switch typ := r.get("WARC-Type"); typ {
		case "response", "revisit":
			status := ""
			if line, _, ok := bytes.Cut(r.Block, []byte("\r\n")); ok {
				if f := strings.Fields(string(line)); len(f) > 1 {
					status = f[1]
				}
			}
			out = append(out, typ+" "+status)
		case "request":
			out = append(out, typ)
		}
	}
	return out
}

// checkPNG asserts that the last response record of u holds the site's
// PNG as its payload, with the payload digest over it.
func checkPNG(t *testing.T, s *frontSite, recs []rawRecord, u string) {
	t.Helper()
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.get("WARC-Target-URI") != u || r.get("WARC-Type") != "response" {
			continue
		}
		_, body, _ := bytes.Cut(r.Block, []byte("\r\n\r\n"))
		if !bytes.Equal(body, s.png) {
			t.Errorf("%s: payload %q is not the PNG the server sent", u, body[:min(len(body), 40)])
		}
		if got, want := r.get("WARC-Payload-Digest"), sha1b32(s.png); got != want {
			t.Errorf("%s: WARC-Payload-Digest %s, want %s", u, got, want)
		}
		return
	}
	t.Errorf("%s: no response record", u)
}

// TestBrowserRetries: an image a script loads is answered 503 first and
// 200 then. As HTTP mode does for an image its HTML names, the browser's
// request is retried: the 503 and the 200 are each archived with their
// request record, and the browser gets the image (the page's script
// says it loaded).
func TestBrowserRetries(t *testing.T) {
	chromium := testsite.Chromium(t)
	s := newFrontSite(t)
	_, httpRecs, _, _ := crawlFront(t, s, "", crawl.Options{}, "/retry-http.html")
	res, recs, _, texts := crawlFront(t, s, chromium, crawl.Options{}, "/retry.html")
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	want := strings.Join(exchanges(httpRecs, s.URL+"/img/flaky-http.png"), ", ")
	if want != "response 503, request, response 200, request" {
		t.Fatalf("HTTP mode archived the flaky image as %s", want)
	}
	if got := strings.Join(exchanges(recs, s.URL+"/img/flaky.png"), ", "); got != want {
		t.Errorf("browser mode archived the flaky image as %q, want %q (as HTTP mode)", got, want)
	}
	if n := s.count("/img/flaky.png"); n != 2 {
		t.Errorf("the flaky image was asked for %d times, want 2", n)
	}
	checkPNG(t, s, recs, s.URL+"/img/flaky.png")
	if txt := texts["/retry.html"]; !strings.Contains(txt, "loaded 1 failed 0") {
		t.Errorf("page text %q: the browser did not get the image", txt)
	}
}

// TestBrowserFetchesOnce: the page is asked for once (the browser's
// navigation is answered with HTTP mode's capture); an image the HTML
// names and the browser loads is fetched once; an image the browser
// loaded for one page is not fetched again when the next page names it
// for HTTP mode; what the browser archived is finished in the frontier.
// Style sheets in br and zstd are parsed for the URLs they name.
func TestBrowserFetchesOnce(t *testing.T) {
	chromium := testsite.Chromium(t)
	s := newFrontSite(t)
	res, recs, front, texts := crawlFront(t, s, chromium, crawl.Options{Scope: crawl.ScopeHost}, "/once-a.html", "/sheets.html")
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	for _, p := range []string{"/once-a.html", "/once-b.html", "/sheets.html", "/img/both.png", "/img/shared.png", "/img/script-only.png", "/css/br.css", "/css/zstd.css", "/img/from-br.png", "/img/from-zstd.png"} {
		if n := s.count(p); n != 1 {
			t.Errorf("%s asked for %d times, want once", p, n)
		}
		if got := exchanges(recs, s.URL+p); strings.Join(got, ", ") != "response 200, request" {
			t.Errorf("%s archived as %v, want one response and its request", p, got)
		}
	}
	for _, p := range []string{"/img/both.png", "/img/shared.png", "/img/script-only.png", "/img/from-br.png", "/img/from-zstd.png"} {
		checkPNG(t, s, recs, s.URL+p)
	}
	for p, want := range map[string][]byte{"/css/br.css": s.br, "/css/zstd.css": s.zst} {
		for _, r := range recs {
			if r.get("WARC-Target-URI") == s.URL+p && r.get("WARC-Type") == "response" {
				if _, body, _ := bytes.Cut(r.Block, []byte("\r\n\r\n")); !bytes.Equal(body, want) {
					t.Errorf("%s: the payload is not the encoded bytes the server sent", p)
				}
				if r.get("WARC-Payload-Digest") != sha1b32(want) {
					t.Errorf("%s: payload digest %s, want %s", p, r.get("WARC-Payload-Digest"), sha1b32(want))
				}
			}
		}
	}
	if txt := texts["/once-a.html"]; !strings.Contains(txt, "loaded 2 failed 0") {
		t.Errorf("page text %q: the browser did not get its images", txt)
	}
	// A resumed crawl knows what the browser archived: its keys are in the
	// seen set, done.
	for _, p := range []string{"/img/script-only.png", "/img/shared.png"} {
		key, _ := crawl.Canonicalize(s.URL+p, true)
		if n, err := front.Add(context.Background(), []frontier.Entry{{Key: key, Data: []byte("{}"), Requisite: true}}); n != 0 || err != nil {
			t.Errorf("%s: Add queued it again (%d, %v): not in the seen set", p, n, err)
		}
	}
	if c, _ := front.Counts(context.Background()); c.Queued != 0 || c.Leased != 0 {
		t.Errorf("counts %+v after the crawl", c)
	}
}

// TestBrowserMaxURLsPerHost: the browser's fetches count towards
// MaxURLsPerHost. With a cap of 3 the page and two of the five images its
// script loads are fetched and archived; the other three are answered
// with an error, not archived, and counted as skipped.
func TestBrowserMaxURLsPerHost(t *testing.T) {
	chromium := testsite.Chromium(t)
	s := newFrontSite(t)
	res, recs, _, texts := crawlFront(t, s, chromium, crawl.Options{MaxURLsPerHost: 3}, "/cap.html")
	fetched, archived := 0, 0
	for i := 1; i <= 5; i++ {
		p := fmt.Sprintf("/cap/%d.png", i)
		fetched += s.count(p)
		if len(exchanges(recs, s.URL+p)) > 0 {
			archived++
			checkPNG(t, s, recs, s.URL+p)
		}
	}
	if fetched != 2 || archived != 2 {
		t.Errorf("%d images fetched and %d archived, want 2 of each (the page is the third URL)", fetched, archived)
	}
	if res.Skipped < 3 {
		t.Errorf("%d skipped, want at least the 3 images past the cap", res.Skipped)
	}
	if txt := texts["/cap.html"]; !strings.Contains(txt, "loaded 2 failed 3") {
		t.Errorf("page text %q: want two images loaded and three refused", txt)
	}
}

// TestBrowserSendsCrawlCookies: the crawl's cookies (--cookies, a login
// passed in the user's browser) go with the browser's requests too, so a
// script's request to an API behind the wall gets the article; the
// request record holds the Cookie field as sent. A cookie the API sets
// for the browser is the crawl's too: HTTP mode sends it next.
func TestBrowserSendsCrawlCookies(t *testing.T) {
	chromium := testsite.Chromium(t)
	s := newFrontSite(t)
	u, _ := url.Parse(s.URL + "/")
	opts := crawl.Options{Scope: crawl.ScopeHost, Cookies: []crawl.Cookie{{URL: u, Cookie: &http.Cookie{Name: "session", Value: "s3cret", Path: "/"}}}}
	res, recs, _, texts := crawlFront(t, s, chromium, opts, "/wall.html")
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	if txt := texts["/wall.html"]; !strings.Contains(txt, "the article behind the wall") {
		t.Errorf("page text %q: the script did not get the article", txt)
	}
	api := s.URL + "/api/wall.json"
	if got := strings.Join(exchanges(recs, api), ", "); got != "response 200, request" {
		t.Errorf("the API archived as %q, want one 200 and its request", got)
	}
	for _, r := range recs {
		if r.get("WARC-Type") == "request" && r.get("WARC-Target-URI") == api && !bytes.Contains(r.Block, []byte("session=s3cret")) {
			t.Errorf("the API's request record has no session cookie:\n%s", r.Block)
		}
	}

	// The next page (HTTP mode first) names an image that needs the
	// cookie the API set in the browser's fetch, in data-src, which only
	// HTTP mode reads.
	img := s.URL + "/img/after-wall.png"
	if got := strings.Join(exchanges(recs, img), ", "); got != "response 200, request" {
		t.Errorf("the image after the wall archived as %q, want one 200: the cookie the browser got is not the crawl's", got)
	}
}

package replay

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/amber-archiver/amber/internal/testsite"
	"github.com/amber-archiver/amber/warc"
)

// fetchRaw fetches u over a plain TCP connection and returns the response
// exactly as it came over the wire: chunked framing and gzip intact.
func fetchRaw(t *testing.T, u string) []byte {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET "+p.RequestURI()+" HTTP/1.1\r\nHost: "+p.Host+"\r\nUser-Agent: replay-test\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payloadSHA1 is the payload digest of a raw response: over the body with
// transfer encoding removed and content encoding kept.
func payloadSHA1(t *testing.T, raw []byte) []byte {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(body)
	return sum[:]
}

// captureSite archives the test site's article and its requisites into a
// collection directory without the crawler: each response is fetched raw
// and written as a response record. The article is captured a second time
// an hour later as a revisit, and hero.jpg a second time with other bytes.
func captureSite(t *testing.T, site *testsite.Site, dir string) (t0 time.Time) {
	t.Helper()
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Date(2026, 11, 25, 18, 43, 29, 0, time.UTC)
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath()})
	if err != nil {
		t.Fatal(err)
	}
	write := func(typ, u string, date time.Time, block []byte, digest []byte, extra ...warc.Field) {
		b := w.NewRecord(typ, date)
		b.AddField("WARC-Target-URI", u)
		b.AddField("Content-Type", "application/http;msgtype=response")
		for _, f := range extra {
			b.AddField(f.Name, f.Value)
		}
		b.SetPayloadDigest(digest)
		b.Write(block)
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	urls := []string{site.URL(testsite.Article)}
	for p := range testsite.Requisites {
		urls = append(urls, site.URL(p))
	}
	for p := range testsite.CDNRequisites {
		urls = append(urls, site.CDNURL(p))
	}
	slices.Sort(urls)
	for _, u := range urls {
		raw := fetchRaw(t, u)
		write(warc.TypeResponse, u, t0, raw, payloadSHA1(t, raw))
	}
	// An hour later: the article unchanged (a revisit, headers only) and
	// hero.jpg changed.
	article := fetchRaw(t, site.URL(testsite.Article))
	_, bodyStart := warc.HTTPHeadEnd(article)
	write(warc.TypeRevisit, site.URL(testsite.Article), t0.Add(time.Hour), article[:bodyStart], payloadSHA1(t, article),
		warc.Field{Name: "WARC-Profile", Value: "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"},
		warc.Field{Name: "WARC-Refers-To-Target-URI", Value: site.URL(testsite.Article)})
	later := []byte("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 11\r\n\r\nnewer bytes")
	write(warc.TypeResponse, site.URL("/news/2026/11/img/hero.jpg"), t0.Add(time.Hour), later, payloadSHA1(t, later))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex(w.Index()); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPages([]warc.PageEntry{
		{ID: "1", URL: site.URL(testsite.Article), TS: t0.Format(time.RFC3339), Title: testsite.Headline},
		{ID: "2", URL: site.URL(testsite.Article), TS: t0.Add(time.Hour).Format(time.RFC3339), Title: testsite.Headline},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteDatapackage("amber/test", t0, w.FileHashes()); err != nil {
		t.Fatal(err)
	}
	return t0
}

// browser fetches from the replay server as a browser would, without
// following redirects itself so every hop is checked.
type browser struct {
	t       *testing.T
	server  *httptest.Server
	client  *http.Client
	fetched map[string]int // original URL → status replayed
}

var archivalPath = regexp.MustCompile(`^/(\d{4,14})([a-z]{2}_)?/(https?://.*)$`)

// get fetches an archival URL (a path on the replay server), follows
// redirects, and checks each hop is a replayed capture.
func (b *browser) get(path string, referer string) (*http.Response, []byte) {
	b.t.Helper()
	for hop := 0; hop < 5; hop++ {
		m := archivalPath.FindStringSubmatch(path)
		if m == nil {
			b.t.Errorf("page asks for %q, not an archival URL on the replay server", path)
			return nil, nil
		}
		req, _ := http.NewRequest("GET", b.server.URL+path, nil)
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.t.Fatalf("%s: %v", path, err)
		}
		if loc := archivalPath.FindStringSubmatch(resp.Header.Get("Location")); resp.StatusCode == http.StatusFound && loc != nil && loc[3] == m[3] {
			path = loc[0] // to the capture's own timestamp: the server's redirect, not a replayed one
			continue
		}
		if resp.Header.Get("Memento-Datetime") == "" {
			b.t.Errorf("%s: %d without Memento-Datetime: not found in the archive", m[3], resp.StatusCode)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			b.t.Errorf("%s: no Content-Security-Policy", m[3])
		}
		b.fetched[m[3]] = resp.StatusCode
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
			path = loc
			continue
		}
		return resp, body
	}
	b.t.Fatalf("%s: too many redirects", path)
	return nil, nil
}

// subresources lists what a browser (and a lazy-loading script) would load
// from a page: src, srcset candidates, poster, link href, data-src, and
// url() and @import in style attributes and <style>.
func subresources(t *testing.T, page []byte) []string {
	doc, err := xhtml.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			for _, a := range n.Attr {
				switch a.Key {
				case "src", "poster", "data-src":
					out = append(out, a.Val)
				case "href":
					if n.Data == "link" {
						out = append(out, a.Val)
					}
				case "srcset", "data-srcset":
					for _, cand := range strings.Split(a.Val, ",") {
						if f := strings.Fields(cand); len(f) > 0 {
							out = append(out, f[0])
						}
					}
				case "style":
					out = append(out, cssURLs(a.Val)...)
				}
			}
			if n.Data == "style" && n.FirstChild != nil {
				out = append(out, cssURLs(n.FirstChild.Data)...)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	var kept []string
	for _, u := range out {
		if !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "/_amber/") {
			kept = append(kept, u)
		}
	}
	return kept
}

// cssURLs finds url() and @import "..." with a regular expression: a
// second, independent reading of the style sheets the server rewrote.
var cssURLRe = regexp.MustCompile(`url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]`)

func cssURLs(css string) []string {
	var out []string
	for _, m := range cssURLRe.FindAllStringSubmatch(css, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

// TestReplayServesEveryRequisite opens the archived article through the
// replay server and loads everything the page asks for, recursively
// through style sheets: every request must be an archival URL on the
// replay server and find an archived copy, every requisite of the test
// site must be reached, and no URL of the live site may be left in what
// the server sends. It runs on the collection directory and on its WACZ.
func TestReplayServesEveryRequisite(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	dir := filepath.Join(t.TempDir(), "coll")
	t0 := captureSite(t, site, dir)
	wacz := filepath.Join(t.TempDir(), "coll.wacz")
	if _, err := warc.PackWACZ(dir, wacz, warc.WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"dir": dir, "wacz": wacz} {
		t.Run(name, func(t *testing.T) {
			a, err := Open(src)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			srv := httptest.NewServer(NewHandler(a))
			defer srv.Close()
			b := &browser{t: t, server: srv, fetched: map[string]int{},
				client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

			// The index page links the article at its capture time.
			resp, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			index, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			link := "/" + t0.Format(tsLayout) + "/" + site.URL(testsite.Article)
			if !bytes.Contains(index, []byte(`href="`+link+`"`)) || !bytes.Contains(index, []byte(testsite.Headline)) {
				t.Fatalf("index page lacks a link to %s:\n%s", link, index)
			}

			// A partial timestamp is redirected to the capture's own, where
			// the top frame holds the banner and the page in its frame.
			_, top := b.get("/2026/"+site.URL(testsite.Article), "")
			if !bytes.Contains(top, []byte(`id="amber-replay-banner"`)) || !bytes.Contains(top, []byte("18:43:29 UTC")) ||
				!bytes.Contains(top, []byte(site.URL(testsite.Article)+"</code>")) {
				t.Errorf("no banner with capture time and original URL:\n%s", top)
			}
			frame := regexp.MustCompile(`<iframe id="amber-replay-frame"[^>]* src="([^"]+)"`).FindSubmatch(top)
			if frame == nil {
				t.Fatalf("top frame holds no frame:\n%s", top)
			}
			_, page := b.get(xhtml.UnescapeString(string(frame[1])), "")
			if !bytes.Contains(page, []byte("<h1>"+testsite.Headline+"</h1>")) {
				t.Fatalf("article not replayed:\n%s", page)
			}
			if bytes.Contains(page, []byte("amber-replay-banner")) {
				t.Errorf("the page in its frame has a banner of its own")
			}
			checkNoLiveURLs(t, site, "article", page)

			queue := subresources(t, page)
			pageURL := srv.URL + link
			seen := map[string]bool{}
			for len(queue) > 0 {
				u := queue[0]
				queue = queue[1:]
				if seen[u] {
					continue
				}
				seen[u] = true
				resp, body := b.get(u, pageURL)
				if resp == nil {
					continue
				}
				if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
					checkNoLiveURLs(t, site, u, body)
					queue = append(queue, cssURLs(string(body))...)
				}
			}

			// Every requisite was reached, answering as archived.
			for p, status := range testsite.Requisites {
				got, ok := b.fetched[site.URL(p)]
				if !ok {
					t.Errorf("%s: never requested by the replayed page", p)
				} else if got != status {
					t.Errorf("%s: replayed with status %d, archived with %d", p, got, status)
				}
			}
			for p := range testsite.CDNRequisites {
				if _, ok := b.fetched[site.CDNURL(p)]; !ok {
					t.Errorf("%s: CDN requisite never requested", p)
				}
			}
			t.Logf("%d requests, %d archived URLs replayed", len(seen), len(b.fetched))
		})
	}
}

// checkNoLiveURLs fails if body (banner aside) holds a URL of the live
// site anywhere but inside an archival URL.
func checkNoLiveURLs(t *testing.T, site *testsite.Site, name string, body []byte) {
	t.Helper()
	s := string(body)
	if i := strings.Index(s, `<div id="amber-replay-banner"`); i >= 0 {
		if j := strings.Index(s[i:], "</div>"); j >= 0 {
			s = s[:i] + s[i+j:]
		}
	}
	for _, live := range []string{site.Main.URL, site.CDN.URL} {
		for i := 0; ; {
			j := strings.Index(s[i:], live)
			if j < 0 {
				break
			}
			at := i + j
			if !regexp.MustCompile(`/\d{14}([a-z]{2}_)?/$`).MatchString(s[max(0, at-20):at]) {
				t.Errorf("%s: live URL left unrewritten: …%s…", name, s[max(0, at-40):min(len(s), at+60)])
			}
			i = at + len(live)
		}
	}
}

func TestReplayCaptures(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	dir := filepath.Join(t.TempDir(), "coll")
	t0 := captureSite(t, site, dir)
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(NewHandler(a))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	ts0, ts1 := t0.Format(tsLayout), t0.Add(time.Hour).Format(tsLayout)

	t.Run("closest capture", func(t *testing.T) {
		hero := site.URL("/news/2026/11/img/hero.jpg")
		for _, tt := range []struct{ ts, want string }{
			{ts0, "bytes of /news/2026/11/img/hero.jpg\n"},
			{t0.Add(20 * time.Minute).Format(tsLayout), "bytes of /news/2026/11/img/hero.jpg\n"},
			{t0.Add(40 * time.Minute).Format(tsLayout), "newer bytes"},
			{"2030", "newer bytes"},
		} {
			resp, body := get("/" + tt.ts + "mp_/" + hero)
			if body != tt.want {
				t.Errorf("at %s: %q, want %q", tt.ts, body, tt.want)
			}
			if resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		}
		resp, _ := get("/" + ts0 + "mp_/https://" + strings.TrimPrefix(hero, "http://"))
		if resp.StatusCode != 200 {
			t.Errorf("https:// for an http:// capture: %d, want 200 (the key ignores the scheme)", resp.StatusCode)
		}
	})
	t.Run("revisit", func(t *testing.T) {
		resp, body := get("/" + ts1 + "mp_/" + site.URL(testsite.Article))
		if resp.StatusCode != 200 || !strings.Contains(body, "<h1>"+testsite.Headline+"</h1>") {
			t.Errorf("revisit replayed as %d:\n%s", resp.StatusCode, body)
		}
		if md := resp.Header.Get("Memento-Datetime"); md != t0.Add(time.Hour).Format(http.TimeFormat) {
			t.Errorf("Memento-Datetime %q, want the revisit's time", md)
		}
	})
	t.Run("encodings", func(t *testing.T) {
		// gzip, rewritten: decoded, no Content-Encoding.
		resp, body := get("/" + ts0 + "mp_/" + site.URL("/static/main.css"))
		if resp.Header.Get("Content-Encoding") != "" || !strings.Contains(body, `url("/`+ts0+`mp_/`+site.URL("/static/fonts/serif.woff2")+`")`) {
			t.Errorf("main.css: encoding %q, body:\n%s", resp.Header.Get("Content-Encoding"), body)
		}
		// gzip, passed through: the browser decodes it.
		req, _ := http.NewRequest("GET", srv.URL+"/"+ts0+"mp_/"+site.URL("/static/vendor.js"), nil)
		resp, err := http.DefaultClient.Do(req) // the transport decodes gzip
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "var vendor = 'minified';\n" || !resp.Uncompressed {
			t.Errorf("vendor.js: %q (uncompressed by the client: %t)", b, resp.Uncompressed)
		}
		// chunked: de-chunked.
		resp, body = get("/" + ts0 + "mp_/" + site.URL("/static/app.js"))
		if body != "window.app = {};\nwindow.app.ready = true;\n" || len(resp.TransferEncoding) > 0 && resp.ContentLength >= 0 {
			t.Errorf("app.js: %q", body)
		}
		// identity: as archived.
		_, body = get("/" + ts0 + "id_/" + site.URL("/static/main.css"))
		if strings.Contains(body, ts0) {
			t.Errorf("id_ rewrote the payload")
		}
	})
	t.Run("redirect", func(t *testing.T) {
		resp, _ := get("/" + ts0 + "mp_/" + site.URL("/news/2026/11/img/moved.jpg"))
		if want := "/" + ts0 + "mp_/" + site.URL("/img/final.jpg"); resp.StatusCode != 301 || resp.Header.Get("Location") != want {
			t.Errorf("redirect %d to %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})
	t.Run("not archived", func(t *testing.T) {
		resp, _ := get("/" + ts0 + "mp_/" + site.URL("/nowhere.png"))
		if resp.StatusCode != 404 || resp.Header.Get("Memento-Datetime") != "" {
			t.Errorf("not archived: %d, Memento-Datetime %q", resp.StatusCode, resp.Header.Get("Memento-Datetime"))
		}
		resp, _ = get("/" + ts0 + "mp_/" + site.URL("/news/2026/11/img/missing.png"))
		if resp.StatusCode != 404 || resp.Header.Get("Memento-Datetime") == "" {
			t.Errorf("archived 404: %d, Memento-Datetime %q", resp.StatusCode, resp.Header.Get("Memento-Datetime"))
		}
	})
	t.Run("escaped root-relative URL", func(t *testing.T) {
		resp, _ := get("/static/app.js", "Referer", srv.URL+"/"+ts0+"/"+site.URL(testsite.Article))
		if want := "/" + ts0 + "mp_/" + site.Main.URL + "/static/app.js"; resp.StatusCode != 307 || resp.Header.Get("Location") != want {
			t.Errorf("%d to %q, want 307 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		resp, _ = get("/static/app.js")
		if resp.StatusCode != 404 {
			t.Errorf("without a referer: %d, want 404", resp.StatusCode)
		}
	})
}

// TestOpenWithoutIndex replays a collection whose index was lost: it is
// rebuilt from the WARC files.
func TestOpenWithoutIndex(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	dir := filepath.Join(t.TempDir(), "coll")
	captureSite(t, site, dir)
	if err := os.Remove(filepath.Join(dir, "indexes", "index.cdxj")); err != nil {
		t.Fatal(err)
	}
	a, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Len() != len(testsite.Requisites)+len(testsite.CDNRequisites)+3 {
		t.Errorf("%d captures indexed", a.Len())
	}
	resp, err := a.lookup(site.URL(testsite.Article), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp.Close()
}

// writeCollection writes a collection of response records, one for each
// URL, whose blocks are the raw HTTP responses given, all captured at t0.
func writeCollection(t testing.TB, dir string, t0 time.Time, responses map[string][]byte) {
	t.Helper()
	c, err := warc.OpenCollection(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(warc.WriterOptions{Dir: c.ArchivePath()})
	if err != nil {
		t.Fatal(err)
	}
	urls := make([]string, 0, len(responses))
	for u := range responses {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	for _, u := range urls {
		raw := responses[u]
		hr, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(hr.Body)
		sum := sha1.Sum(body)
		b := w.NewRecord(warc.TypeResponse, t0)
		b.AddField("WARC-Target-URI", u)
		b.AddField("Content-Type", "application/http;msgtype=response")
		b.SetPayloadDigest(sum[:])
		b.Write(raw)
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex(w.Index()); err != nil {
		t.Fatal(err)
	}
}

// TestIndexWARCAsWarc: the streaming index of a WARC file (which the
// capture limit can stop) finds the records warc.IndexWARC does, at the
// same offsets and lengths.
func TestIndexWARCAsWarc(t *testing.T) {
	site := testsite.New()
	defer site.Close()
	dir := filepath.Join(t.TempDir(), "coll")
	captureSite(t, site, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "archive", "*.warc.gz"))
	if len(files) == 0 {
		t.Fatal("no WARC files")
	}
	a, err := OpenWARC(files...)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := 0
	for _, f := range files {
		lines, err := warc.IndexWARC(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			want++
			found := false
			for _, c := range a.captures[key(l.URL)] {
				if c.Offset == l.Offset && c.Length == l.Length && c.Filename == l.Filename && c.Digest == warc.DigestKey(l.Digest) && c.Mime == l.Mime {
					found = true
				}
			}
			if !found {
				t.Errorf("%s@%d %s: not indexed alike", l.Filename, l.Offset, l.URL)
			}
		}
	}
	if a.Len() != want || want == 0 {
		t.Errorf("%d captures indexed, warc.IndexWARC finds %d", a.Len(), want)
	}
}

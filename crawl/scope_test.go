package crawl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/capture"
	"github.com/amber-archiver/amber/warc"
)

// graphSite is a site with a known link graph, served under several names
// that all resolve to one 127.0.0.1 server:
//
//	news.test        the site crawled
//	sub.news.test    a subdomain (in the domain scope)
//	other.test       an external site
type graphSite struct {
	srv  *httptest.Server
	port string

	mu       sync.Mutex
	requests []string // host+path of every request, in order
	times    map[string][]time.Time
}

var graphPages = map[string]string{
	"news.test/section/index.html": `<a href="a.html">a</a> <a href="/section/b.html">b</a> <a href="/other/c.html">c</a>
		<a href="http://other.test:PORT/ext.html">ext</a> <a href="blocked.html">blocked</a> <a href="deep1.html">deep</a>
		<a href="http://sub.news.test:PORT/sub.html">sub</a> <a href="skip-me.html">skip</a> <img src="/img/index.png">`,
	"news.test/section/a.html":         `<img src="/img/a.png"><img src="http://other.test:PORT/cdn.png"><a href="index.html">back</a>`,
	"news.test/section/b.html":         `<link rel="stylesheet" href="/css/b.css"><a href="a.html?utm_source=x">a again</a>`,
	"news.test/section/deep1.html":     `<a href="deep2.html">2</a>`,
	"news.test/section/deep2.html":     `<a href="deep3.html">3</a>`,
	"news.test/section/deep3.html":     `end`,
	"news.test/section/blocked.html":   `blocked`,
	"news.test/section/skip-me.html":   `skip`,
	"news.test/other/c.html":           `<a href="/section/index.html">home</a> <img src="/img/c.png">`,
	"news.test/from-sitemap.html":      `from the sitemap`,
	"sub.news.test/sub.html":           `<img src="/img/sub.png">`,
	"other.test/ext.html":              `<img src="/img/ext.png"><a href="/ext2.html">further</a>`,
	"other.test/ext2.html":             `too far`,
	"news.test/trap/cal":               ``, // generated
	"news.test/redirect/loop1":         ``,
	"news.test/redirect/loop2":         ``,
	"news.test/limited.html":           ``,
	"news.test/big.bin":                ``,
	"news.test/section/from-sitemap-2": ``,
}

func newGraphSite(t *testing.T) *graphSite {
	g := &graphSite{times: map[string][]time.Time{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	_, g.port, _ = net.SplitHostPort(g.srv.Listener.Addr().String())
	return g
}

func (g *graphSite) url(hostPath string) string {
	host, path, _ := strings.Cut(hostPath, "/")
	return "http://" + host + ":" + g.port + "/" + path
}

func (g *graphSite) resolve() map[string]string {
	return map[string]string{"news.test": "127.0.0.1", "sub.news.test": "127.0.0.1", "other.test": "127.0.0.1"}
}

func (g *graphSite) serve(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.Host)
	key := host + r.URL.Path
	g.mu.Lock()
	g.requests = append(g.requests, key)
	g.times[key] = append(g.times[key], time.Now())
	n := len(g.times[key])
	g.mu.Unlock()
	switch {
	case key == "news.test/robots.txt":
		fmt.Fprintf(w, "User-agent: *\nDisallow: /section/blocked.html\nSitemap: http://news.test:%s/sitemap-news.xml\n", g.port)
		return
	case key == "news.test/sitemap-news.xml":
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://news.test:%s/from-sitemap.html</loc></url><url><loc>http://other.test:%s/ext2.html</loc></url></urlset>`, g.port, g.port)
		return
	case key == "news.test/trap/cal":
		m, _ := strconv.Atoi(r.URL.Query().Get("m"))
		fmt.Fprintf(w, `<html><a href="/trap/cal?m=%d">next month</a></html>`, m+1)
		return
	case key == "news.test/redirect/loop1":
		http.Redirect(w, r, "/redirect/loop2", http.StatusFound)
		return
	case key == "news.test/redirect/loop2":
		http.Redirect(w, r, "/redirect/loop1", http.StatusFound)
		return
	case key == "news.test/limited.html":
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "<html>finally</html>")
		return
	case key == "news.test/big.bin":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bytes.Repeat([]byte("0123456789"), 10000))
		return
	}
	body, ok := graphPages[key]
	switch {
	case ok:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><head><title>%s</title></head><body>%s</body></html>", key, strings.ReplaceAll(body, "PORT", g.port))
	case strings.HasPrefix(r.URL.Path, "/img/"), strings.HasPrefix(r.URL.Path, "/css/"), key == "other.test/cdn.png":
		fmt.Fprintf(w, "resource %s", key)
	default:
		http.NotFound(w, r)
	}
}

// fetched returns the host+path of every response archived (robots.txt and
// sitemaps left out), sorted.
func fetched(t *testing.T, recs []rawRecord) []string {
	var out []string
	for _, r := range recs {
		if r.get("WARC-Type") != "response" {
			continue
		}
		u := r.get("WARC-Target-URI")
		u = strings.TrimPrefix(u, "http://")
		host, rest, _ := strings.Cut(u, "/")
		h, _, _ := net.SplitHostPort(host)
		key := h + "/" + rest
		if strings.HasSuffix(key, "/robots.txt") || strings.HasSuffix(key, ".xml") {
			continue
		}
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}

func crawlGraph(t *testing.T, g *graphSite, opts crawl.Options, seed string) (*crawl.Result, []rawRecord) {
	t.Helper()
	dir := t.TempDir()
	w, err := warc.NewWriter(warc.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	opts.Seeds = []string{g.url(seed)}
	opts.Transport.Resolve = g.resolve()
	if opts.RetryBase == 0 {
		opts.RetryBase = time.Millisecond
	}
	res, err := crawl.Run(context.Background(), opts, w)
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
	return res, recs
}

func TestScopes(t *testing.T) {
	index := "news.test/section/index.html"
	indexReqs := []string{"news.test/img/index.png"}
	aReqs := []string{"news.test/img/a.png", "other.test/cdn.png"}
	section := []string{index, "news.test/section/a.html", "news.test/section/b.html", "news.test/section/deep1.html",
		"news.test/section/deep2.html", "news.test/section/deep3.html", "news.test/section/skip-me.html", "news.test/css/b.css"}
	section = append(append(section, indexReqs...), aReqs...)
	host := append([]string{"news.test/other/c.html", "news.test/img/c.png", "news.test/from-sitemap.html"}, section...)
	for _, tc := range []struct {
		name string
		opts crawl.Options
		want []string
	}{
		{"page", crawl.Options{}, append([]string{index}, indexReqs...)},
		{"outlinks", crawl.Options{Outlinks: true}, append([]string{index,
			"news.test/section/a.html", "news.test/section/b.html", "news.test/other/c.html", "other.test/ext.html",
			"news.test/section/deep1.html", "sub.news.test/sub.html", "news.test/section/skip-me.html",
			"news.test/img/a.png", "other.test/cdn.png", "news.test/css/b.css", "news.test/img/c.png",
			"other.test/img/ext.png", "sub.news.test/img/sub.png"}, indexReqs...)},
		{"prefix", crawl.Options{Scope: crawl.ScopePrefix}, section},
		{"host", crawl.Options{Scope: crawl.ScopeHost}, host},
		{"domain", crawl.Options{Scope: crawl.ScopeDomain}, append([]string{"sub.news.test/sub.html", "sub.news.test/img/sub.png"}, host...)},
		{"prefix depth 1", crawl.Options{Scope: crawl.ScopePrefix, Depth: 1}, []string{index, "news.test/section/a.html",
			"news.test/section/b.html", "news.test/section/deep1.html", "news.test/section/skip-me.html",
			"news.test/img/index.png", "news.test/img/a.png", "other.test/cdn.png", "news.test/css/b.css"}},
		{"prefix exclude", crawl.Options{Scope: crawl.ScopePrefix, Exclude: []*regexp.Regexp{regexp.MustCompile(`skip-me|deep`)}},
			[]string{index, "news.test/section/a.html", "news.test/section/b.html",
				"news.test/img/index.png", "news.test/img/a.png", "other.test/cdn.png", "news.test/css/b.css"}},
		{"prefix include", crawl.Options{Scope: crawl.ScopePrefix, Include: []*regexp.Regexp{regexp.MustCompile(`/section/[ab]\.html`)}},
			[]string{index, "news.test/section/a.html", "news.test/section/b.html",
				"news.test/img/index.png", "news.test/img/a.png", "other.test/cdn.png", "news.test/css/b.css"}},
		{"ignore robots", crawl.Options{Scope: crawl.ScopePrefix, IgnoreRobots: true}, append([]string{"news.test/section/blocked.html"}, section...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraphSite(t)
			res, recs := crawlGraph(t, g, tc.opts, index)
			got := fetched(t, recs)
			want := append([]string(nil), tc.want...)
			// Each host with a page archived: its pages name no icon, so
			// a browser (and amber) asks for /favicon.ico.
			icons := map[string]bool{}
			for _, u := range tc.want {
				if host, _, _ := strings.Cut(u, "/"); strings.HasSuffix(u, ".html") && !icons[host] {
					icons[host] = true
					want = append(want, host+"/favicon.ico")
				}
			}
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("archived:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if len(res.Failures) > 0 {
				t.Errorf("failures: %v", res.Failures)
			}
			// robots.txt is fetched once per host and archived; the
			// tracking-parameter variant of a.html is never fetched.
			g.mu.Lock()
			defer g.mu.Unlock()
			robots := 0
			for _, r := range g.requests {
				if r == "news.test/robots.txt" {
					robots++
				}
			}
			if wantRobots := map[bool]int{true: 0, false: 1}[tc.opts.IgnoreRobots]; robots != wantRobots {
				t.Errorf("robots.txt fetched %d times, want %d", robots, wantRobots)
			}
			if len(g.times["news.test/section/a.html"]) > 1 {
				t.Errorf("a.html fetched %d times", len(g.times["news.test/section/a.html"]))
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	g := newGraphSite(t)
	res, recs := crawlGraph(t, g, crawl.Options{}, "news.test/limited.html")
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	var statuses []int
	for _, r := range recs {
		if r.get("WARC-Type") == "response" && strings.HasSuffix(r.get("WARC-Target-URI"), "/limited.html") {
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(r.Block)), nil)
			if err != nil {
				t.Fatal(err)
			}
			statuses = append(statuses, resp.StatusCode)
		}
	}
	if fmt.Sprint(statuses) != "[429 200]" {
		t.Errorf("archived statuses %v, want [429 200]", statuses)
	}
	g.mu.Lock()
	times := g.times["news.test/limited.html"]
	g.mu.Unlock()
	if len(times) != 2 || times[1].Sub(times[0]) < 900*time.Millisecond {
		t.Errorf("retry did not wait for Retry-After: %v", times)
	}
}

func TestRedirectLoop(t *testing.T) {
	g := newGraphSite(t)
	res, _ := crawlGraph(t, g, crawl.Options{}, "news.test/redirect/loop1")
	if len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Err.Error(), "redirect loop") || !res.Failures[0].Seed {
		t.Fatalf("failures %v, want one redirect loop on the seed", res.Failures)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := len(g.requests); n > 4 {
		t.Errorf("%d requests for a two-hop loop", n)
	}
}

func TestTrapBounded(t *testing.T) {
	g := newGraphSite(t)
	res, recs := crawlGraph(t, g, crawl.Options{Scope: crawl.ScopeHost, MaxURLsPerHost: 25}, "news.test/trap/cal")
	n := 0
	for _, k := range fetched(t, recs) {
		if strings.HasPrefix(k, "news.test/trap/cal") {
			n++
		}
	}
	if n == 0 || n > 25 {
		t.Errorf("%d calendar pages archived, want 1..25", n)
	}
	if res.Skipped == 0 {
		t.Error("the cap skipped nothing")
	}
}

func TestMaxSizeTruncates(t *testing.T) {
	g := newGraphSite(t)
	res, recs := crawlGraph(t, g, crawl.Options{Transport: capture.Options{MaxSize: 10000}}, "news.test/big.bin")
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	var rec *rawRecord
	for i, r := range recs {
		if r.get("WARC-Type") == "response" && strings.HasSuffix(r.get("WARC-Target-URI"), "/big.bin") {
			rec = &recs[i]
		}
	}
	if rec == nil {
		t.Fatal("big.bin not archived")
	}
	if rec.get("WARC-Truncated") != "length" || len(rec.Block) != 10000 {
		t.Fatalf("WARC-Truncated %q, block %d bytes; want length, 10000", rec.get("WARC-Truncated"), len(rec.Block))
	}
	// The payload digest describes the payload bytes the record holds.
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(rec.Block)), nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := io.ReadAll(resp.Body) // ends early: the block is cut
	if got := sha1b32(payload); got != rec.get("WARC-Payload-Digest") {
		t.Errorf("payload digest %s, computed over the truncated payload %s", rec.get("WARC-Payload-Digest"), got)
	}
	if res.Truncated != 1 {
		t.Errorf("Result.Truncated = %d", res.Truncated)
	}
}

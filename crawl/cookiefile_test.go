package crawl_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amber-archiver/amber/crawl"
	"github.com/amber-archiver/amber/crawl/capture"
)

func TestReadCookiesFile(t *testing.T) {
	future := time.Now().Add(24 * time.Hour).Unix()
	file := fmt.Sprintf("# Netscape HTTP Cookie File\n"+
		"# This is a generated file! Do not edit.\n\n"+
		".news.example\tTRUE\t/\tTRUE\t%d\tconsent\tyes\n"+
		"#HttpOnly_paywall.example\tFALSE\t/articles\tFALSE\t0\tsession\ts3cret\n"+
		"old.example\tFALSE\t/\tFALSE\t1000\tgone\tx\n", future)
	cs, err := crawl.ReadCookiesFile(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d cookies, want 2 (the expired one left out): %+v", len(cs), cs)
	}
	c0, c1 := cs[0], cs[1]
	if c0.URL.String() != "https://news.example/" || c0.Cookie.Domain != "news.example" || !c0.Cookie.Secure || c0.Cookie.Expires.Unix() != future || c0.Cookie.Name != "consent" || c0.Cookie.Value != "yes" {
		t.Errorf("first cookie: %v %+v", c0.URL, c0.Cookie)
	}
	if c1.URL.String() != "http://paywall.example/articles" || c1.Cookie.Domain != "" || !c1.Cookie.HttpOnly || !c1.Cookie.Expires.IsZero() || c1.Cookie.Path != "/articles" || c1.Cookie.Value != "s3cret" {
		t.Errorf("second cookie: %v %+v", c1.URL, c1.Cookie)
	}
	for _, bad := range []string{
		"news.example\tTRUE\t/\tFALSE\t0\tname\n",
		"news.example\tTRUE\t/\tFALSE\tsoon\tname\tvalue\n",
		"\tTRUE\t/\tFALSE\t0\tname\tvalue\n",
	} {
		if _, err := crawl.ReadCookiesFile(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") || strings.Contains(err.Error(), "value\t") {
			t.Errorf("%q: error %v, want one naming line 1", bad, err)
		}
	}
}

// cookieSite is a site behind a consent wall: /article answers 403 unless
// the request has consent=yes; / sets a session cookie and links /next,
// which records the Cookie header it receives; an image on another host
// records its own.
type cookieSite struct {
	srv   *httptest.Server
	mu    sync.Mutex
	heard map[string]string // path → Cookie header
}

func newCookieSite(t *testing.T) *cookieSite {
	s := &cookieSite{heard: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.heard[r.Host+r.URL.Path] = r.Header.Get("Cookie")
		s.mu.Unlock()
		switch r.URL.Path {
		case "/":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc123", Path: "/"})
			w.Header().Set("Content-Type", "text/html")
			_, port, _ := net.SplitHostPort(r.Host)
			fmt.Fprintf(w, `<html><head><title>front</title><link rel=icon href=/i.png></head><body><a href="/next">next</a><img src="http://other.test:%s/x.png"></body></html>`, port)
		case "/article":
			if c, err := r.Cookie("consent"); err != nil || c.Value != "yes" {
				http.Error(w, "consent wall", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><title>the article</title><link rel=icon href=/i.png></head><body>text</body></html>`)
		default:
			w.Header().Set("Content-Type", "image/png")
			fmt.Fprint(w, "png")
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *cookieSite) cookie(hostPath string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heard[hostPath]
}

func TestCookies(t *testing.T) {
	t.Run("sent back to the site, not to another", func(t *testing.T) {
		s := newCookieSite(t)
		h := strings.TrimPrefix(s.srv.URL, "http://")
		crawlHostile(t, t.Context(), crawl.Options{Seeds: []string{s.srv.URL + "/"}, Scope: crawl.ScopeHost,
			Transport: capture.Options{Resolve: map[string]string{"other.test": "127.0.0.1"}}})
		if got := s.cookie(h + "/next"); got != "session=abc123" {
			t.Errorf("/next got Cookie %q, want the session cookie / set", got)
		}
		_, port, _ := net.SplitHostPort(h)
		if got := s.cookie("other.test:" + port + "/x.png"); got != "" {
			t.Errorf("another host got Cookie %q", got)
		}
	})
	t.Run("--no-cookies", func(t *testing.T) {
		s := newCookieSite(t)
		h := strings.TrimPrefix(s.srv.URL, "http://")
		crawlHostile(t, t.Context(), crawl.Options{Seeds: []string{s.srv.URL + "/"}, Scope: crawl.ScopeHost, NoCookies: true,
			Transport: capture.Options{Resolve: map[string]string{"other.test": "127.0.0.1"}}})
		s.mu.Lock()
		_, fetched := s.heard[h+"/next"]
		s.mu.Unlock()
		if !fetched {
			t.Fatal("/next not fetched")
		}
		if got := s.cookie(h + "/next"); got != "" {
			t.Errorf("/next got Cookie %q with NoCookies", got)
		}
	})
	t.Run("--cookies FILE passes the consent wall", func(t *testing.T) {
		s := newCookieSite(t)
		h := strings.TrimPrefix(s.srv.URL, "http://")
		hostOnly, _, _ := net.SplitHostPort(h)
		cs, err := crawl.ReadCookiesFile(strings.NewReader(hostOnly + "\tFALSE\t/\tFALSE\t0\tconsent\tyes\n"))
		if err != nil {
			t.Fatal(err)
		}
		logf := filepath.Join(t.TempDir(), "crawl.jsonl")
		lf, err := os.Create(logf)
		if err != nil {
			t.Fatal(err)
		}
		run := crawlHostile(t, t.Context(), crawl.Options{Seeds: []string{s.srv.URL + "/article"}, Cookies: cs, Log: lf})
		lf.Close()
		resp, ok := run.responses()[s.srv.URL+"/article"]
		if !ok || !bytes.HasPrefix(resp.Block, []byte("HTTP/1.1 200")) {
			t.Fatalf("the article was not archived past the wall: %q", resp.Block[:min(len(resp.Block), 40)])
		}
		var req []byte
		for _, r := range run.recs {
			if r.get("WARC-Type") == "request" && r.get("WARC-Target-URI") == s.srv.URL+"/article" {
				req = r.Block
			}
		}
		if !bytes.Contains(req, []byte("\r\nCookie: consent=yes\r\n")) {
			t.Errorf("the request record does not hold the cookie as sent:\n%s", req)
		}
		log, _ := os.ReadFile(logf)
		if len(log) == 0 || bytes.Contains(log, []byte("consent=yes")) {
			t.Errorf("crawl log empty, or it names the cookie's value:\n%s", log)
		}
	})
}

package replay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amber-archiver/amber/internal/testsite"
)

// TestFramedReplay checks the server side of framed replay (frame.go):
// the top frame and its policy, the page in its sandboxed frame, the
// redirects that keep a page from being a top-level document, and the
// headers that stop DNS prefetching and WebRTC. What only a browser shows
// (that the sandbox and frame-src hold) is in e2e/.
func TestFramedReplay(t *testing.T) {
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
	get := func(path, dest string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if dest != "" {
			req.Header.Set("Sec-Fetch-Dest", dest)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	ts := t0.Format(tsLayout)
	article := site.URL(testsite.Article)
	top, page := "/"+ts+"/"+article, "/"+ts+"mp_/"+article

	checkGuards := func(name string, resp *http.Response) {
		t.Helper()
		if v := resp.Header.Get("X-DNS-Prefetch-Control"); v != "off" {
			t.Errorf("%s: X-DNS-Prefetch-Control %q, want off", name, v)
		}
		if v := resp.Header.Get("Permissions-Policy"); !strings.Contains(v, "camera=()") || !strings.Contains(v, "microphone=()") {
			t.Errorf("%s: Permissions-Policy %q", name, v)
		}
		if resp.Header.Get("Link") != "" {
			t.Errorf("%s: Link header passed on: %q", name, resp.Header.Get("Link"))
		}
	}

	t.Run("top frame", func(t *testing.T) {
		resp, body := get(top, "document")
		checkGuards("top frame", resp)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"frame-src 'self'", "form-action 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("top frame CSP %q lacks %s", csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline' 'unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe") {
			t.Errorf("top frame CSP lets inline script run: %q", csp)
		}
		want := `<iframe id="amber-replay-frame" name="amber-replay-frame" src="` + page + `" sandbox="` + frameSandbox + `"`
		if resp.StatusCode != 200 || !strings.Contains(body, want) || !strings.Contains(body, `id="amber-replay-banner"`) {
			t.Fatalf("top frame %d:\n%s\nwant %s", resp.StatusCode, body, want)
		}
		for _, flag := range []string{"allow-top-navigation", "allow-popups"} {
			if strings.Contains(body, flag) {
				t.Errorf("the frame's sandbox allows %s", flag)
			}
		}
		if strings.Contains(body, testsite.Headline+"</h1>") {
			t.Errorf("the top frame holds the page itself")
		}
	})
	t.Run("page in its frame", func(t *testing.T) {
		resp, body := get(page, "iframe")
		checkGuards("page", resp)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "sandbox "+frameSandbox) || !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "frame-src 'self'") {
			t.Errorf("page CSP %q", csp)
		}
		i, j := strings.Index(body, injectTag), strings.Index(body, "<script")
		if resp.StatusCode != 200 || i < 0 || i != j || !strings.Contains(body, "<h1>"+testsite.Headline+"</h1>") {
			t.Errorf("page %d, injected script at %d, first script at %d:\n%s", resp.StatusCode, i, j, body)
		}
		if strings.Contains(body, "amber-replay-banner") {
			t.Errorf("page in its frame has the banner")
		}
		for _, p := range []string{injectPath, topPath} {
			resp, js := get(p, "script")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(js) < 100 {
				t.Errorf("%s: %d %q, %d bytes", p, resp.StatusCode, resp.Header.Get("Content-Type"), len(js))
			}
		}
	})
	t.Run("redirects", func(t *testing.T) {
		for _, tt := range []struct{ path, dest, want string }{
			// A page opened as a top-level document outside its frame.
			{page, "document", top},
			// A frame asking for a top frame gets the page itself.
			{top, "iframe", page},
			// A page in its frame at the time of its capture.
			{"/2026mp_/" + article, "iframe", page},
			// Top frames at the capture's own URL.
			{"/2026/" + article, "document", top},
		} {
			resp, _ := get(tt.path, tt.dest)
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.want {
				t.Errorf("%s (Sec-Fetch-Dest %s): %d to %q, want 302 to %q", tt.path, tt.dest, resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		}
		// An embedded resource at another time is served, not redirected.
		resp, _ := get("/2026mp_/"+site.URL("/static/main.css"), "style")
		if resp.StatusCode != 200 {
			t.Errorf("style sheet: %d", resp.StatusCode)
		}
	})
	t.Run("identity", func(t *testing.T) {
		resp, _ := get("/"+ts+"id_/"+article, "document")
		if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != 200 || !strings.HasSuffix(csp, "; sandbox") {
			t.Errorf("id_ page: %d, CSP %q: want a sandbox without scripts", resp.StatusCode, csp)
		}
	})
	t.Run("Link header of an archived response", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "hints")
		writeCollection(t, dir, t0, map[string][]byte{
			"http://news.example/": []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" +
				"Link: <https://live.example>; rel=preconnect, <//cdn.live.example>; rel=dns-prefetch\r\nContent-Length: 4\r\n\r\n<p>x"),
			"http://news.example/doc.pdf": []byte("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 10\r\n\r\n%PDF-1.4 x"),
		})
		a, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		srv := httptest.NewServer(NewHandler(a))
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/" + ts + "mp_/http://news.example/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		checkGuards("archived Link header", resp)

		// A PDF is not framed (Chromium shows none in a sandboxed frame)
		// and carries no sandbox: it runs no page script.
		for _, path := range []string{"/" + ts + "/http://news.example/doc.pdf", "/" + ts + "mp_/http://news.example/doc.pdf"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Sec-Fetch-Dest", "document")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			csp := resp.Header.Get("Content-Security-Policy")
			if resp.StatusCode != 200 || string(body) != "%PDF-1.4 x" || strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("%s: %d %q, CSP %q; want the PDF itself, unsandboxed", path, resp.StatusCode, body, csp)
			}
			checkGuards("pdf", resp)
		}
	})
	t.Run("index and not found", func(t *testing.T) {
		resp, _ := get("/", "document")
		checkGuards("index", resp)
		resp, _ = get("/"+ts+"mp_/"+site.URL("/nowhere"), "iframe")
		checkGuards("not found", resp)
	})
}

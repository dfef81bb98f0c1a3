package replay

import (
	"net/url"
	"strings"
	"testing"
)

func testRewriter(t *testing.T, base string) *urlRewriter {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return &urlRewriter{base: u, ts: "20261125184329"}
}

func TestRewriteURL(t *testing.T) {
	rw := testRewriter(t, "http://news.example/a/b/story.html")
	for _, tt := range []struct{ in, mod, want string }{
		{"img/x.jpg", modEmbed, "/20261125184329mp_/http://news.example/a/b/img/x.jpg"},
		{"/static/x.css", modEmbed, "/20261125184329mp_/http://news.example/static/x.css"},
		{"../up.png?v=1&w=2", modEmbed, "/20261125184329mp_/http://news.example/a/up.png?v=1&w=2"},
		{"//cdn.example/lib.js", modEmbed, "/20261125184329mp_/http://cdn.example/lib.js"},
		{"https://other.example/p#frag", modPage, "/20261125184329/https://other.example/p#frag"},
		{"  spaced.html ", modPage, "/20261125184329/http://news.example/a/b/spaced.html"},
		{"#top", modPage, "#top"},
		{"", modEmbed, ""},
		{"data:image/gif;base64,R0lG", modEmbed, "data:image/gif;base64,R0lG"},
		{"javascript:void(0)", modPage, "javascript:void(0)"},
		{"mailto:desk@example.com", modPage, "mailto:desk@example.com"},
		{"blob:http://x/1", modEmbed, "blob:http://x/1"},
	} {
		if got := rw.rewrite(tt.in, tt.mod); got != tt.want {
			t.Errorf("rewrite(%q, %q) = %q, want %q", tt.in, tt.mod, got, tt.want)
		}
	}
}

func TestRewriteSrcset(t *testing.T) {
	rw := testRewriter(t, "http://news.example/a/")
	for _, tt := range []struct{ in, want string }{
		{"x.jpg 480w, y.jpg 800w", "/T/http://news.example/a/x.jpg 480w, /T/http://news.example/a/y.jpg 800w"},
		{"x.jpg", "/T/http://news.example/a/x.jpg"},
		{" x.jpg 1x,y.jpg 2x ", " /T/http://news.example/a/x.jpg 1x,/T/http://news.example/a/y.jpg 2x "},
		{"x.jpg,y.jpg 2x", "/T/http://news.example/a/x.jpg,y.jpg 2x"}, // one URL, as browsers parse it
		{"x.jpg, y.jpg 2x", "/T/http://news.example/a/x.jpg, /T/http://news.example/a/y.jpg 2x"},
		{"a,b.jpg 1x, c.jpg 2x", "/T/http://news.example/a/a,b.jpg 1x, /T/http://news.example/a/c.jpg 2x"},
		{"data:image/png;base64,AAA 1x, z.png 2x", "data:image/png;base64,AAA 1x, /T/http://news.example/a/z.png 2x"},
	} {
		got := strings.ReplaceAll(rw.rewriteSrcset(tt.in, modEmbed), "/20261125184329mp_/", "/T/")
		if got != tt.want {
			t.Errorf("rewriteSrcset(%q) =\n%q, want\n%q", tt.in, got, tt.want)
		}
	}
}

func TestRewriteCSS(t *testing.T) {
	rw := testRewriter(t, "http://news.example/static/main.css")
	in := `@charset "utf-8";
@import "theme.css";
@import url(print.css) print;
@import 'x\'y.css';
/* url(comment.png) stays */
@font-face { src: url(fonts/a.woff2) format("woff2"), url( 'fonts/b.woff' ) format("woff"); }
body { background: URL("img/bg.png") , url(data:image/png;base64,AAAA); content: "url(not-a-url.png)"; }
.x { background-image: image-set("a.png" 1x, url(b.png) 2x); }
.y { background: url(/abs.png) }
.z { background: url(https://cdn.example/c.png); }
`
	want := `@charset "utf-8";
@import "/T/http://news.example/static/theme.css";
@import url("/T/http://news.example/static/print.css") print;
@import "/T/http://news.example/static/x'y.css";
/* url(comment.png) stays */
@font-face { src: url("/T/http://news.example/static/fonts/a.woff2") format("woff2"), url("/T/http://news.example/static/fonts/b.woff") format("woff"); }
body { background: url("/T/http://news.example/static/img/bg.png") , url("data:image/png;base64,AAAA"); content: "url(not-a-url.png)"; }
.x { background-image: image-set("/T/http://news.example/static/a.png" 1x, url("/T/http://news.example/static/b.png") 2x); }
.y { background: url("/T/http://news.example/abs.png") }
.z { background: url("/T/https://cdn.example/c.png"); }
`
	got := strings.ReplaceAll(string(rewriteCSS([]byte(in), rw)), "/20261125184329mp_/", "/T/")
	if got != want {
		t.Errorf("rewriteCSS:\n%s\nwant\n%s", got, want)
	}
	// The caller's buffer is not touched, even past its length.
	buf := make([]byte, 0, 64)
	buf = append(buf, "a{b:url(x.png)}<"...)
	rewriteCSS(buf[:len(buf)-1], rw)
	if buf[len(buf)-1] != '<' {
		t.Errorf("rewriteCSS overwrote the byte after its input: %q", buf)
	}
}

func TestRewriteHTML(t *testing.T) {
	in := `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<base href="/news/">
<link rel=stylesheet href="s.css" integrity="sha384-abc" crossorigin>
<meta http-equiv="refresh" content="30; url=/news/next.html">
<style>.a { background: url(a.png) }</style>
<script>var s = "<img src='x.png'>";</script>
</head>
<BODY class=main>
<!-- <img src="commented.png"> -->
<a href="story.html" ping="/track">Story</a>
<img src="i.jpg" srcset="i-1.jpg 1x, i-2.jpg 2x" data-src="lazy.jpg" alt="a &amp; b">
<div style="background:url('d.png')">x</div>
<svg><image xlink:href="s.svg"/></svg>
<textarea><img src="t.png"></textarea>
</body></html>`
	hr := &htmlRewriter{urlRewriter: *testRewriter(t, "http://news.example/index.html"), inject: []byte("<script id=first></script>")}
	got := strings.ReplaceAll(string(hr.rewriteHTML([]byte(in))), "/20261125184329", "/T")
	for _, want := range []string{
		`<base href="/Tmp_/http://news.example/news/">`,
		`<link rel="stylesheet" href="/Tmp_/http://news.example/news/s.css" crossorigin="">`,
		`content="30; url=/Tmp_/http://news.example/news/next.html"`,
		`<style>.a { background: url("/Tmp_/http://news.example/news/a.png") }</style>`,
		`<script>var s = "<img src='x.png'>";</script>`,
		"<BODY class=main>\n",
		`<!-- <img src="commented.png"> -->`,
		`<a href="/Tmp_/http://news.example/news/story.html">Story</a>`,
		`<img src="/Tmp_/http://news.example/news/i.jpg" srcset="/Tmp_/http://news.example/news/i-1.jpg 1x, /Tmp_/http://news.example/news/i-2.jpg 2x" data-src="/Tmp_/http://news.example/news/lazy.jpg" alt="a &amp; b">`,
		`<div style="background:url(&quot;/Tmp_/http://news.example/news/d.png&quot;)">x</div>`,
		`<image xlink:href="/Tmp_/http://news.example/news/s.svg" />`,
		`<textarea><img src="t.png"></textarea>`,
		"<!DOCTYPE html>\n<html><head><script id=first></script><meta charset=\"utf-8\">",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten HTML lacks %s\n--- got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "integrity") || strings.Contains(got, "ping") {
		t.Errorf("integrity or ping kept:\n%s", got)
	}

	// No <head>: the injected script goes before the first element that
	// is not <html> or <head>; and once only.
	for in, want := range map[string]string{
		"<!doctype html><title>t</title></head><p>x":            "<!doctype html>[I]<title>t</title></head><p>x",
		"<!doctype html><p>x":                                   "<!doctype html>[I]<p>x",
		"<!doctype html><html lang=en><script>x</script><p>":    "<!doctype html><html lang=en>[I]<script>x</script><p>",
		"<html><HEAD id=h></head><body><head><script></script>": "<html><HEAD id=h>[I]</head><body><head><script></script>",
		"just text": "just text[I]",
		"":          "[I]",
	} {
		hr = &htmlRewriter{urlRewriter: *testRewriter(t, "http://news.example/"), inject: []byte("[I]")}
		if got := string(hr.rewriteHTML([]byte(in))); got != want {
			t.Errorf("rewriteHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseArchival(t *testing.T) {
	for _, tt := range []struct {
		uri             string
		ts, mod, target string
		ok              bool
	}{
		{"/20261125184329/http://x.example/a?b=1", "20261125184329", "", "http://x.example/a?b=1", true},
		{"/20261125184329mp_/https://x.example/", "20261125184329", "mp_", "https://x.example/", true},
		{"/2026id_/http://x.example/", "2026", "id_", "http://x.example/", true},
		{"/20261125184329/http:/x.example/a", "20261125184329", "", "http://x.example/a", true},
		{"/20261125184329/x.example/a", "20261125184329", "", "http://x.example/a", true},
		{"/https://x.example/a", "", "", "https://x.example/a", true},
		{"/static/app.js", "", "", "", false},
		{"/20261125184329zz/http://x/", "", "", "", false},
		{"/123/http://x/", "", "", "", false},
		{"/favicon.ico", "", "", "", false},
	} {
		ts, mod, target, ok := parseArchival(tt.uri)
		if ts != tt.ts || mod != tt.mod || target != tt.target || ok != tt.ok {
			t.Errorf("parseArchival(%q) = %q, %q, %q, %t; want %q, %q, %q, %t", tt.uri, ts, mod, target, ok, tt.ts, tt.mod, tt.target, tt.ok)
		}
	}
}

// TestRewriteHTMLRequisites covers what the crawler fetches besides the
// plain src and href: SVG references (the fragment kept for <use>),
// prefetch links, and markup inside <noscript>; and the hints that make a
// browser resolve or connect to a live host are dropped.
func TestRewriteHTMLRequisites(t *testing.T) {
	in := `<html><head>
<link rel="dns-prefetch" href="//cdn.live.example">
<link rel="preconnect" href="https://fonts.live.example" crossorigin>
<link rel="Preconnect stylesheet" href="p.css">
<link rel="prefetch" href="/next/page.html">
</head><body>
<svg><use href="sprite.svg#icon-a"></use><use xlink:href="/img/sprite.svg#icon-b"/><image href="i.svg"/><image xlink:href="j.svg"/></svg>
<noscript><img src="hero.jpg" srcset="hero-2x.jpg 2x"><link rel=stylesheet href="ns.css"><div style="background:url(bg.png)"></div></noscript>
<noscript>just text &amp; words</noscript>
</body></html>`
	hr := &htmlRewriter{urlRewriter: *testRewriter(t, "http://news.example/a/index.html")}
	got := strings.ReplaceAll(string(hr.rewriteHTML([]byte(in))), "/20261125184329", "/T")
	for _, want := range []string{
		`<use href="/Tmp_/http://news.example/a/sprite.svg#icon-a">`,
		`<use xlink:href="/Tmp_/http://news.example/img/sprite.svg#icon-b" />`,
		`<image href="/Tmp_/http://news.example/a/i.svg" />`,
		`<image xlink:href="/Tmp_/http://news.example/a/j.svg" />`,
		`<link rel="prefetch" href="/Tmp_/http://news.example/next/page.html">`,
		`<noscript><img src="/Tmp_/http://news.example/a/hero.jpg" srcset="/Tmp_/http://news.example/a/hero-2x.jpg 2x"><link rel="stylesheet" href="/Tmp_/http://news.example/a/ns.css"><div style="background:url(&quot;/Tmp_/http://news.example/a/bg.png&quot;)"></div></noscript>`,
		`<noscript>just text &amp; words</noscript>`,
		`<link rel="" href="/Tmp_/http://cdn.live.example">`,
		`<link rel="" href="/Tmp_/https://fonts.live.example" crossorigin="">`,
		`<link rel="stylesheet" href="/Tmp_/http://news.example/a/p.css">`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten HTML lacks %s\n--- got:\n%s", want, got)
		}
	}
	for _, bad := range []string{"dns-prefetch", "reconnect", `"hero.jpg"`, "(bg.png)"} {
		if strings.Contains(got, bad) {
			t.Errorf("rewritten HTML still has %s:\n%s", bad, got)
		}
	}
}

// TestRewriteRefreshInvalidUTF8: the url= of a meta refresh is found in
// the attribute itself; lower-casing invalid UTF-8 changes its length
// (each bad byte becomes U+FFFD), which once sliced out of range.
func TestRewriteRefreshInvalidUTF8(t *testing.T) {
	hr := &htmlRewriter{urlRewriter: *testRewriter(t, "http://news.example/index.html")}
	for _, v := range []string{"\xff\xff\xffurl=", "0;\xffURL=/next", "5; Url=/a"} {
		got := hr.rewriteRefresh(v) // must not panic
		if i := indexFoldASCII(v, "url="); i < 0 || !strings.HasPrefix(got, v[:i+4]) {
			t.Errorf("rewriteRefresh(%q) = %q", v, got)
		}
	}
	if indexFoldASCII("no refresh here", "url=") != -1 || indexFoldASCII("x URL=y", "url=") != 2 || indexFoldASCII("u[l=", "u{l=") != -1 {
		t.Error("indexFoldASCII")
	}
}

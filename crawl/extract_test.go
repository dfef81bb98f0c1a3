package crawl

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// Lazy-loading variants are fetched: the replay rewrites the same
// attributes (data-lazy-srcset included), so what it points to is there.
func TestExtractHTMLLazy(t *testing.T) {
	page, _ := url.Parse("http://h.example/a/")
	links, err := ExtractHTML(page, strings.NewReader(`<img data-src=a.jpg data-lazy-src=b.jpg data-srcset="c.jpg 1x, d.jpg 2x" data-lazy-srcset="e.jpg 2x"><picture><source data-lazy-srcset="f.webp"></picture>`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://h.example/a/a.jpg", "http://h.example/a/b.jpg", "http://h.example/a/c.jpg", "http://h.example/a/d.jpg", "http://h.example/a/e.jpg", "http://h.example/a/f.webp"}
	if !reflect.DeepEqual(links.Requisites, want) {
		t.Errorf("requisites %q, want %q", links.Requisites, want)
	}
}

func TestExtractCSS(t *testing.T) {
	base, _ := url.Parse("https://news.example/static/css/main.css")
	css := `@import "reset.css";
@import url(print.css) print;
@IMPORT url('theme.css');
@font-face { font-family: X; src: url(../fonts/x.woff2) format("woff2"), url("../fonts/x.woff") format("woff"); }
.a { background: url( "/img/a.png" ) }
.b { background-image: image-set("b1.png" 1x, url(b2.png) 2x); }
.c { background: url(data:image/png;base64,AAAA) }
.d { cursor: url(cur\(1\).cur), auto; }
.e { content: "not-a-url.png"; }
/* url(commented.png) */
.f { background: url(//cdn.example/f.png#frag) }
.broken { background: url(unterminated.png`
	want := []string{
		"https://news.example/static/css/reset.css",
		"https://news.example/static/css/print.css",
		"https://news.example/static/css/theme.css",
		"https://news.example/static/fonts/x.woff2",
		"https://news.example/static/fonts/x.woff",
		"https://news.example/img/a.png",
		"https://news.example/static/css/b1.png",
		"https://news.example/static/css/b2.png",
		"https://news.example/static/css/cur(1).cur",
		"https://cdn.example/f.png",
	}
	got := ExtractCSS(base, strings.NewReader(css))
	if len(got) > len(want) && got[len(want)] == "https://news.example/static/css/unterminated.png" {
		got = got[:len(want)] // a bad url token may or may not be kept
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExtractCSS:\n got %q\nwant %q", got, want)
	}
}

func TestExtractHTMLBaseAndSchemes(t *testing.T) {
	page, _ := url.Parse("https://news.example/a/b/page.html")
	html := `<html><head><title> T </title><base href="https://static.example/x/"></head><body>
<img src="i.png"><img src="javascript:alert(1)"><a href="p2.html#top">n</a><a href="mailto:x@y">m</a>
<iframe src="/embed"></iframe><link rel="alternate stylesheet" href="alt.css"><link rel="canonical" href="/canon">
</body></html>`
	links, err := ExtractHTML(page, strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	if links.Title != "T" {
		t.Errorf("title %q", links.Title)
	}
	wantReq := []string{"https://static.example/x/i.png", "https://static.example/embed", "https://static.example/x/alt.css"}
	if !reflect.DeepEqual(links.Requisites, wantReq) {
		t.Errorf("requisites %q, want %q", links.Requisites, wantReq)
	}
	if want := []string{"https://static.example/x/p2.html", "https://static.example/canon"}; !reflect.DeepEqual(links.Pages, want) {
		t.Errorf("pages %q, want %q", links.Pages, want)
	}
}

func FuzzExtractCSS(f *testing.F) {
	f.Add(`@import "a.css"; .x{background:url(b.png)}`)
	f.Add(`url(`)
	base, _ := url.Parse("http://h/")
	f.Fuzz(func(t *testing.T, s string) { ExtractCSS(base, strings.NewReader(s)) })
}

func FuzzExtractHTML(f *testing.F) {
	f.Add(`<html><base href="/x/"><img srcset="a.jpg 1x, b.jpg 2x" src=c.png><style>@import "d.css"</style><a href=e.html>`)
	f.Add(`<meta http-equiv=refresh content="0;url='/next'"><div style="background:url(`)
	f.Add(`<img src="javascript:x"><source data-srcset=",,, ,">`)
	page, _ := url.Parse("http://h/p/q.html")
	f.Fuzz(func(t *testing.T, s string) {
		links, err := ExtractHTML(page, strings.NewReader(s))
		if err != nil {
			return
		}
		for _, u := range append(links.Requisites, links.Pages...) {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("extracted a non-HTTP URL %q", u)
			}
		}
	})
}

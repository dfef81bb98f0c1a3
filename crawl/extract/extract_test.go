package extract

import (
	"fmt"
	"html"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// Lazy-loading variants are fetched: the replay rewrites the same
// attributes (data-lazy-srcset included), so what it points to is there.
func TestExtractHTMLLazy(t *testing.T) {
	page, _ := url.Parse("http://h.example/a/")
	links, err := ReadHTML(page, strings.NewReader(`<img data-src=a.jpg data-lazy-src=b.jpg data-srcset="c.jpg 1x, d.jpg 2x" data-lazy-srcset="e.jpg 2x"><picture><source data-lazy-srcset="f.webp"></picture>`))
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
	got := ReadCSS(base, strings.NewReader(css))
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
	links, err := ReadHTML(page, strings.NewReader(html))
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
	f.Add(`@import url("a.css`)
	f.Add(`.a{background:image-set(url(` + strings.Repeat("(", 10000))
	f.Add(strings.Repeat(`.a{background:url(/x.png)}`, 5000))
	f.Add(`@font-face{src:url(` + strings.Repeat("a", 100000) + `)}`)
	base, _ := url.Parse("http://h/")
	f.Fuzz(func(t *testing.T, s string) { ReadCSS(base, strings.NewReader(s)) })
}

func FuzzExtractHTML(f *testing.F) {
	f.Add(`<html><base href="/x/"><img srcset="a.jpg 1x, b.jpg 2x" src=c.png><style>@import "d.css"</style><a href=e.html>`)
	f.Add(`<meta http-equiv=refresh content="0;url='/next'"><div style="background:url(`)
	f.Add(`<img src="javascript:x"><source data-srcset=",,, ,">`)
	f.Add(`<noscript><img src=a.png><picture><source srcset="b.webp"></picture></noscript><noscript`)
	f.Add(`<svg><use href="s.svg#x"/><image xlink:href="i.png"/></svg><link rel=prefetch href=p.js>`)
	f.Add(`<img src="` + strings.Repeat("x", 100000) + `">`)
	f.Add(`<a href="<img src='<` + strings.Repeat(`<img src=`, 1000))
	f.Add(strings.Repeat(`<img src=/i.png><a href=/p.html>`, 5000))
	page, _ := url.Parse("https://h/p/q.html")
	f.Fuzz(func(t *testing.T, s string) {
		links, err := ReadHTML(page, strings.NewReader(s))
		if err != nil {
			return
		}
		for _, list := range [][]string{links.Requisites, links.Pages} {
			seen := map[string]bool{}
			for _, u := range list {
				if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
					t.Fatalf("extracted a non-HTTP URL %q", u)
				}
				if strings.ContainsAny(u, "#\r\n\x00") {
					t.Fatalf("extracted URL %q holds a fragment or a control character", u)
				}
				if seen[u] {
					t.Fatalf("%q listed twice", u)
				}
				seen[u] = true
			}
			// An https page's http: media count twice (upgraded and as named).
			if len(list) > 2*DefaultMaxLinksPerPage {
				t.Fatalf("%d URLs past the cap", len(list))
			}
		}

	})
}

// A browser with scripting off reads <noscript> as markup: its images,
// picture sources, frames, style sheets and style blocks are requisites.
func TestExtractHTMLNoscript(t *testing.T) {
	page, _ := url.Parse("http://h.example/a/")
	doc := `<head><noscript><link rel=stylesheet href=ns.css><style>.x{background:url(ns-bg.png)}</style></noscript></head>
<body><div data-lazy='{"src":"lazy.jpg"}'></div><noscript><img src="hero.jpg"></noscript>
<noscript><picture><source srcset="p.webp 1x"><img src="p.jpg"></picture><iframe src="frame.html"></iframe></noscript>`
	links, err := ReadHTML(page, strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://h.example/a/ns.css", "http://h.example/a/ns-bg.png", "http://h.example/a/hero.jpg",
		"http://h.example/a/p.webp", "http://h.example/a/p.jpg", "http://h.example/a/frame.html"}
	if !reflect.DeepEqual(links.Requisites, want) {
		t.Errorf("requisites %q, want %q", links.Requisites, want)
	}
}

// A URL named both as a link and as a requisite is in both lists.
func TestExtractHTMLLinkAndRequisite(t *testing.T) {
	page, _ := url.Parse("http://h.example/a/")
	links, err := ReadHTML(page, strings.NewReader(`<a href="hero.jpg"><img src="hero.jpg"></a><a href=hero.jpg>again</a><img src=./hero.jpg>`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://h.example/a/hero.jpg"}; !reflect.DeepEqual(links.Requisites, want) || !reflect.DeepEqual(links.Pages, want) {
		t.Errorf("requisites %q, pages %q, want %q in each", links.Requisites, links.Pages, want)
	}
}

func TestExtractHTMLSVGAndHints(t *testing.T) {
	page, _ := url.Parse("http://h.example/a/")
	doc := `<svg><use href="sprite.svg#icon-a"></use><use xlink:href="/s/sprite2.svg#b"/><use href="#local"/>
<image href="pic.png"/><image xlink:href="pic2.png"/><filter><feImage href="fe.png"/></filter></svg><image src="html-image.png">
<link rel=prefetch href=next-bundle.js><link rel=prerender href=next.html><link rel=dns-prefetch href=//cdn.example/>
<link rel=apple-touch-icon href=touch.png>`
	links, err := ReadHTML(page, strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://h.example/a/sprite.svg", "http://h.example/s/sprite2.svg", "http://h.example/a/pic.png",
		"http://h.example/a/pic2.png", "http://h.example/a/fe.png", "http://h.example/a/html-image.png",
		"http://h.example/a/next-bundle.js", "http://h.example/a/touch.png"}
	if !reflect.DeepEqual(links.Requisites, want) {
		t.Errorf("requisites %q, want %q", links.Requisites, want)
	}
	if want := []string{"http://h.example/a/next.html"}; !reflect.DeepEqual(links.Pages, want) {
		t.Errorf("pages %q, want %q", links.Pages, want)
	}
	if links.Icon {
		t.Error("an apple-touch-icon counted as the page's icon: Chromium still asks for /favicon.ico")
	}
	for _, icon := range []string{`<link rel=icon href=i.png>`, `<link rel="Shortcut Icon" href=/f.ico>`} {
		if l, _ := ReadHTML(page, strings.NewReader(icon)); !l.Icon {
			t.Errorf("%s: no icon", icon)
		}
	}
	if l, _ := ReadHTML(page, strings.NewReader(`<link rel=icon>`)); l.Icon {
		t.Error("an icon link without href counted")
	}
}

// On an https page, http: images, audio and video are listed upgraded
// (what the browser loads) and as named; scripts, style sheets and frames
// as named only (a browser blocks them).
func TestExtractHTMLMixedContent(t *testing.T) {
	doc := `<img src="http://h.example/i.png"><img srcset="http://h.example:80/s.png 2x"><video poster="http://c.example:8080/p.jpg" src="http://c.example/v.mp4"></video>
<script src="http://h.example/a.js"></script><link rel=stylesheet href="http://h.example/a.css"><iframe src="http://h.example/f.html"></iframe>
<link rel=preload as=image href="http://h.example/late.png"><img src="http://h.example/late.png">`
	page, _ := url.Parse("https://h.example/")
	links, _ := ReadHTML(page, strings.NewReader(doc))
	want := []string{"https://h.example/i.png", "http://h.example/i.png", "https://h.example/s.png", "http://h.example:80/s.png",
		"https://c.example:8080/p.jpg", "http://c.example:8080/p.jpg", "https://c.example/v.mp4", "http://c.example/v.mp4",
		"http://h.example/a.js", "http://h.example/a.css", "http://h.example/f.html",
		"https://h.example/late.png", "http://h.example/late.png"}
	if !reflect.DeepEqual(links.Requisites, want) {
		t.Errorf("https page: requisites\n %q\nwant %q", links.Requisites, want)
	}
	page, _ = url.Parse("http://h.example/")
	links, _ = ReadHTML(page, strings.NewReader(doc))
	if len(links.Requisites) != 8 {
		t.Errorf("http page: requisites %q, want the 8 URLs as named", links.Requisites)
	}
}

// Past the cap, references are counted, not kept; requisites and pages
// have a cap each.
func TestExtractHTMLCap(t *testing.T) {
	var sb strings.Builder
	for i := range 100 {
		fmt.Fprintf(&sb, `<img src="/i/%d.jpg"><a href="/p/%d.html">`, i, i)
	}
	sb.WriteString(`<img src="/i/0.jpg"><a href="/p/1.html">`) // repeats of kept ones
	page, _ := url.Parse("http://h.example/")
	links := HTML(page, []byte(sb.String()), 30)
	if len(links.Requisites) != 30 || len(links.Pages) != 30 || links.Dropped != 140 {
		t.Errorf("%d requisites, %d pages, %d dropped; want 30, 30, 140", len(links.Requisites), len(links.Pages), links.Dropped)
	}
	if links.Requisites[29] != "http://h.example/i/29.jpg" {
		t.Errorf("last requisite kept %q", links.Requisites[29])
	}
}

// In CSS on an https page or sheet, http: images are upgraded too; fonts
// and imports are not.
func TestExtractCSSMixedContent(t *testing.T) {
	sheet := `@import "http://h.example/i.css"; @import url(http://h.example/j.css);
@font-face { font-family: F; src: url(http://h.example/f.woff2) format("woff2"), url("http://h.example/f.woff"); }
.a { background: url(http://h.example/a.png) } .b { background-image: image-set("http://h.example/b.png" 1x) }
@media print { .c { background: url(http://h.example/c.png) } }`
	base, _ := url.Parse("https://h.example/s.css")
	want := []string{"http://h.example/i.css", "http://h.example/j.css", "http://h.example/f.woff2", "http://h.example/f.woff",
		"https://h.example/a.png", "http://h.example/a.png", "https://h.example/b.png", "http://h.example/b.png",
		"https://h.example/c.png", "http://h.example/c.png"}
	if got := ReadCSS(base, strings.NewReader(sheet)); !reflect.DeepEqual(got, want) {
		t.Errorf("https sheet:\n got %q\nwant %q", got, want)
	}
	base, _ = url.Parse("http://h.example/s.css")
	if got := ReadCSS(base, strings.NewReader(sheet)); len(got) != 7 {
		t.Errorf("http sheet: %q, want the 7 URLs as written", got)
	}
	page, _ := url.Parse("https://h.example/")
	links, _ := ReadHTML(page, strings.NewReader(`<div style="background:url(http://h.example/d.png)"></div><body background="http://h.example/e.png"><style>@font-face{src:url(http://h.example/g.woff)}</style>`))
	want = []string{"https://h.example/d.png", "http://h.example/d.png", "https://h.example/e.png", "http://h.example/e.png", "http://h.example/g.woff"}
	if !reflect.DeepEqual(links.Requisites, want) {
		t.Errorf("https page:\n got %q\nwant %q", links.Requisites, want)
	}
}

// The document of an <iframe srcdoc> is read too (its URLs resolve
// against the page's base); its title, base and refresh are its own.
func TestExtractHTMLSrcdoc(t *testing.T) {
	page, _ := url.Parse("http://h.example/a/")
	doc := `<title>Page</title><iframe srcdoc="<title>embed</title><base href=/elsewhere/><meta http-equiv=refresh content='0;url=/x'><img src=embed.png><style>.a{background:url(bg.png)}</style><iframe srcdoc='&lt;img src=deeper.png&gt;'></iframe>"></iframe><img src=after.png>`
	links, err := ReadHTML(page, strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://h.example/a/embed.png", "http://h.example/a/bg.png", "http://h.example/a/deeper.png", "http://h.example/a/after.png"}
	if !reflect.DeepEqual(links.Requisites, want) || links.Title != "Page" || links.Refresh != "" {
		t.Errorf("requisites %q, title %q, refresh %q; want %q, Page, none", links.Requisites, links.Title, links.Refresh, want)
	}
	// maxSrcdocDepth levels are read, no more.
	for levels, want := range map[int]int{maxSrcdocDepth: 1, maxSrcdocDepth + 1: 0} {
		nest := `<img src=deep.png>`
		for range levels {
			nest = `<iframe srcdoc="` + html.EscapeString(nest) + `"></iframe>`
		}
		if links, _ := ReadHTML(page, strings.NewReader(nest)); len(links.Requisites) != want {
			t.Errorf("srcdoc %d levels deep: %q, want %d", levels, links.Requisites, want)
		}
	}
}

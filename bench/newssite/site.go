package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

type config struct {
	base, cdn, ext string // "http://127.0.0.1:PORT/"
	articles       int
	seed           uint64
}

type site struct {
	config
	site, cdnHost, extHost *host
	arts                   []*article
	bySection              [][]int // article ids per section, newest first
	extPages               int
	pool                   []byte // random bytes the binary blobs are cut from
}

type article struct {
	id, section int
	path        string
	title       string
	teaser      string
	author      string
	date        time.Time
	related     []int
	external    []int
}

var sections = []string{"world", "politics", "business", "technology", "science", "health", "sports", "culture"}

// articleImages are the images of every article, under /img/ID/. The
// comments say how each page refers to them.
var articleImages = []struct{ name, ctype string }{
	{"thumb.jpg", "image/jpeg"},      // <img src> on index pages and in related-article lists
	{"hero-400.jpg", "image/jpeg"},   // <picture>: <img srcset> candidate
	{"hero-800.jpg", "image/jpeg"},   // <picture>: <img src> and srcset candidate
	{"hero-1200.jpg", "image/jpeg"},  // <picture>: <img srcset> candidate
	{"hero-800.webp", "image/webp"},  // <picture><source srcset>
	{"hero-1200.webp", "image/webp"}, // <picture><source srcset>
	{"photo-1.jpg", "image/jpeg"},    // plain <img src>
	{"photo-2.jpg", "image/jpeg"},    // plain <img src loading=lazy>
	{"chart.png", "image/png"},       // <img src srcset="… 1x, … 2x, … 3x">
	{"chart-2x.png", "image/png"},    // srcset candidate
	{"chart-3x.png", "image/png"},    // srcset candidate
	{"gallery-1.jpg", "image/jpeg"},  // lazy: data-src and data-srcset candidate
	{"gallery-1-1200.jpg", "image/jpeg"},
	{"gallery-2.jpg", "image/jpeg"}, // lazy: data-src only
}

const perIndexPage = 40 // articles listed on one section page

func buildSite(c config) *site {
	s := &site{
		config:  c,
		site:    &host{base: c.base, res: map[string]*resource{}},
		cdnHost: &host{base: c.cdn, res: map[string]*resource{}},
		extHost: &host{base: c.ext, res: map[string]*resource{}},
	}
	s.extPages = max(20, c.articles/10)
	s.makePool(8 << 20)
	s.planArticles()
	s.addStatic()
	s.addArticles()
	s.addIndexPages()
	s.addRobotsAndSitemaps()
	s.addExternal()
	return s
}

func (s *site) rng(stream, n uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, stream<<40|n))
}

func (s *site) makePool(n int) {
	r := s.rng(1, 0)
	s.pool = make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			s.pool[i+j] = byte(v >> (8 * j))
		}
	}
}

var magic = map[string]string{
	"image/jpeg":   "\xff\xd8\xff\xe0\x00\x10JFIF\x00",
	"image/png":    "\x89PNG\r\n\x1a\n",
	"image/webp":   "RIFF\x00\x00\x00\x00WEBPVP8 ",
	"image/gif":    "GIF89a",
	"image/x-icon": "\x00\x00\x01\x00",
	"font/woff2":   "wOF2",
	"font/woff":    "wOFF",
}

// addBlob serves a binary body of size bytes at path: a header naming the
// path (so that every blob's digest differs) and then random bytes.
func (h *host) addBlob(s *site, r *rand.Rand, path, ctype string, size int) *resource {
	head := []byte(magic[ctype] + " amber-bench " + h.base + path[1:] + "\n")
	n := size - len(head)
	off := r.IntN(len(s.pool) - n)
	res := &resource{ctype: ctype, parts: [][]byte{head, s.pool[off : off+n]}, length: size, inList: true}
	h.res[path] = res
	return res
}

func (s *site) planArticles() {
	base := time.Date(2025, 6, 1, 6, 0, 0, 0, time.UTC)
	s.arts = make([]*article, s.config.articles)
	s.bySection = make([][]int, len(sections))
	for id := range s.arts {
		r := s.rng(2, uint64(id))
		a := &article{id: id, section: r.IntN(len(sections))}
		a.date = base.Add(-time.Duration(id) * 47 * time.Minute)
		words := make([]string, 6+r.IntN(7))
		for i := range words {
			words[i] = vocabulary[r.IntN(len(vocabulary))]
		}
		a.title = capitalize(strings.Join(words, " "))
		slug := strings.Join(words[:min(len(words), 5)], "-")
		a.path = fmt.Sprintf("/%s/%s-%05d.html", a.date.Format("2006/01/02"), slug, id)
		a.teaser = capitalize(strings.Join(pick(r, vocabulary, 18+r.IntN(12)), " ")) + "."
		a.author = firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
		if s.config.articles > 1 {
			nrel := min(5+r.IntN(6), s.config.articles-1)
			seen := map[int]bool{id: true}
			for len(a.related) < nrel {
				o := r.IntN(s.config.articles)
				if !seen[o] {
					seen[o] = true
					a.related = append(a.related, o)
				}
			}
		}
		for range 1 + r.IntN(2) {
			a.external = append(a.external, r.IntN(s.extPages))
		}
		s.arts[id] = a
		s.bySection[a.section] = append(s.bySection[a.section], id)
	}
}

func (s *site) sectionPath(sec, page int) string {
	if page <= 1 {
		return "/section/" + sections[sec] + "/"
	}
	return fmt.Sprintf("/section/%s/page/%d/", sections[sec], page)
}

func (s *site) sectionPages(sec int) int {
	return max(1, (len(s.bySection[sec])+perIndexPage-1)/perIndexPage)
}

func (s *site) addArticles() {
	type out struct {
		html, gz []byte
		imgs     map[string]*resource
	}
	outs := make([]out, len(s.arts))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				// Blobs go into a private map first: the shared one is
				// filled in below, by one goroutine.
				h := &host{base: s.base, res: map[string]*resource{}}
				ri := s.rng(3, uint64(id))
				for _, im := range articleImages {
					h.addBlob(s, ri, fmt.Sprintf("/img/%05d/%s", id, im.name), im.ctype, 10<<10+ri.IntN(50<<10+1))
				}
				html := s.articleHTML(s.arts[id])
				outs[id] = out{html: html, gz: gzipBytes(html), imgs: h.res}
			}
		}()
	}
	for id := range s.arts {
		next <- id
	}
	close(next)
	wg.Wait()
	for id, o := range outs {
		s.site.res[s.arts[id].path] = &resource{ctype: "text/html; charset=utf-8", parts: [][]byte{o.html}, length: len(o.html), gz: o.gz, page: true, inList: true}
		for p, r := range o.imgs {
			s.site.res[p] = r
		}
	}
}

// page is an HTML document being written.
type page struct {
	bytes.Buffer
	r *rand.Rand
}

func (p *page) f(format string, args ...any) { fmt.Fprintf(&p.Buffer, format, args...) }

func (p *page) sentence() {
	n := 7 + p.r.IntN(18)
	for i := range n {
		w := vocabulary[p.r.IntN(len(vocabulary))]
		switch {
		case i == 0:
			p.WriteString(capitalize(w))
		case p.r.IntN(40) == 0:
			p.WriteString(" <em>" + w + "</em>")
		default:
			p.WriteByte(' ')
			p.WriteString(w)
		}
		if i > 2 && i < n-2 && p.r.IntN(12) == 0 {
			p.WriteByte(',')
		}
	}
	p.WriteString(". ")
}

func (p *page) paragraph() {
	p.WriteString("<p>")
	for range 3 + p.r.IntN(5) {
		p.sentence()
	}
	p.WriteString("</p>\n")
}

func (s *site) head(p *page, title, canonical, extra string) {
	p.f(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s | The Amber Gazette</title>
<link rel="canonical" href="%s">
<link rel="preload" href="%sfonts/amber-serif.woff2" as="font" type="font/woff2" crossorigin>
<link rel="stylesheet" href="/static/site.css">
<link rel="icon" href="/favicon.ico" sizes="any">
<link rel="apple-touch-icon" href="/static/img/touch-icon.png">
%s<script src="%sjs/vendor.min.js" defer></script>
<script src="/static/app.js" defer></script>
</head>
`, title, canonical, s.cdn, extra, s.cdn)
	p.f(`<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="masthead">
<div class="wrap">
<a class="logo" href="/"><img src="/static/img/logo.png" alt="The Amber Gazette" width="240" height="40"></a>
<nav class="sections" aria-label="Sections">
<ul>
`)
	for i, name := range sections {
		p.f("<li><a href=\"%s\">%s</a></li>\n", s.sectionPath(i, 1), capitalize(name))
	}
	p.WriteString("</ul>\n</nav>\n<button class=\"menu-toggle\" aria-expanded=\"false\"><span class=\"icon icon-menu\"></span>Menu</button>\n</div>\n</header>\n")
}

func (s *site) footer(p *page) {
	p.WriteString("<footer class=\"site-footer\">\n<div class=\"wrap\">\n<ul class=\"footer-sections\">\n")
	for i, name := range sections {
		p.f("<li><a href=\"%s\">%s</a></li>\n", s.sectionPath(i, 1), capitalize(name))
	}
	p.WriteString(`</ul>
<p class="copyright">&copy; 2025 The Amber Gazette. A synthetic site for benchmarks; every word is generated.</p>
</div>
</footer>
</body>
</html>
`)
}

func (s *site) articleHTML(a *article) []byte {
	r := s.rng(4, uint64(a.id))
	target := 30<<10 + r.IntN(47<<10) // 30–77 KB before the footer
	p := &page{r: r}
	p.Grow(target + 8<<10)
	img := func(name string) string { return fmt.Sprintf("/img/%05d/%s", a.id, name) }
	sec := sections[a.section]
	extra := fmt.Sprintf(`<meta name="description" content="%s">
<meta name="author" content="%s">
<meta property="og:type" content="article">
<meta property="og:title" content="%s">
<meta property="og:image" content="%s">
<meta property="article:published_time" content="%s">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"%s","datePublished":"%s","author":{"@type":"Person","name":"%s"},"image":["%s"]}</script>
`, a.teaser, a.author, a.title, s.base+img("hero-1200.jpg")[1:], a.date.Format(time.RFC3339),
		a.title, a.date.Format(time.RFC3339), a.author, s.base+img("hero-1200.jpg")[1:])
	s.head(p, a.title, s.base+a.path[1:], extra)

	p.f(`<main id="main" class="wrap">
<article class="story section-%s">
<header class="story-header">
<p class="kicker"><a href="%s">%s</a></p>
<h1>%s</h1>
<p class="standfirst">%s</p>
<p class="byline">By <span class="author">%s</span> &middot; <time datetime="%s">%s</time></p>
</header>
<figure class="hero">
<picture>
<source type="image/webp" srcset="%s 800w, %s 1200w" sizes="(max-width: 820px) 100vw, 800px">
<img src="%s" srcset="%s 400w, %s 800w, %s 1200w" sizes="(max-width: 820px) 100vw, 800px" width="800" height="450" alt="%s">
</picture>
<figcaption>`, sec, s.sectionPath(a.section, 1), capitalize(sec), a.title, a.teaser, a.author,
		a.date.Format(time.RFC3339), a.date.Format("2 January 2006, 15:04"),
		img("hero-800.webp"), img("hero-1200.webp"),
		img("hero-800.jpg"), img("hero-400.jpg"), img("hero-800.jpg"), img("hero-1200.jpg"), a.title)
	p.sentence()
	p.WriteString("<span class=\"credit\">Photo: Amber Wire</span></figcaption>\n</figure>\n<div class=\"story-body\">\n")

	for i := 0; p.Len() < target; i++ {
		switch i {
		case 2:
			p.f("<figure class=\"inline\"><img src=\"%s\" width=\"640\" height=\"427\" alt=\"\"><figcaption>", img("photo-1.jpg"))
			p.sentence()
			p.WriteString("</figcaption></figure>\n")
		case 4:
			ext := a.external[0]
			p.f("<p>")
			p.sentence()
			p.f("According to <a href=\"%sref/%d.html\" rel=\"noopener\">a report by the Amber Wire</a>, ", s.ext, ext)
			p.sentence()
			p.WriteString("</p>\n")
			continue
		case 5:
			p.f("<figure class=\"chart\"><img src=\"%s\" srcset=\"%s 1x, %s 2x, %s 3x\" width=\"600\" height=\"340\" alt=\"Chart\"><figcaption>", img("chart.png"), img("chart.png"), img("chart-2x.png"), img("chart-3x.png"))
			p.sentence()
			p.WriteString("</figcaption></figure>\n")
		case 7:
			if len(a.related) > 0 {
				o := s.arts[a.related[0]]
				p.f("<aside class=\"pullout\"><p>Read more: <a href=\"%s\">%s</a></p></aside>\n", o.path, o.title)
			}
		case 8:
			p.f(`<figure class="gallery">
<img class="lazyload" src="/static/img/placeholder.gif" data-src="%s" data-srcset="%s 600w, %s 1200w" data-sizes="auto" width="600" height="400" alt="">
<img class="lazyload" src="/static/img/placeholder.gif" data-src="%s" width="600" height="400" alt="">
<figcaption>`, img("gallery-1.jpg"), img("gallery-1.jpg"), img("gallery-1-1200.jpg"), img("gallery-2.jpg"))
			p.sentence()
			p.WriteString("</figcaption></figure>\n")
		case 11:
			p.f("<figure class=\"inline\"><img src=\"%s\" loading=\"lazy\" width=\"640\" height=\"427\" alt=\"\"><figcaption>", img("photo-2.jpg"))
			p.sentence()
			p.WriteString("</figcaption></figure>\n")
		case 13:
			if len(a.external) > 1 {
				p.f("<p>")
				p.sentence()
				p.f("The full statement is <a href=\"%sref/%d.html\">published here</a>. ", s.ext, a.external[1])
				p.sentence()
				p.WriteString("</p>\n")
				continue
			}
		}
		p.paragraph()
	}
	p.WriteString("</div>\n</article>\n<aside class=\"related\">\n<h2>Related</h2>\n<ul>\n")
	for _, o := range a.related {
		ra := s.arts[o]
		p.f("<li><a href=\"%s\"><img src=\"/img/%05d/thumb.jpg\" width=\"160\" height=\"90\" alt=\"\" loading=\"lazy\"> %s</a></li>\n", ra.path, ra.id, ra.title)
	}
	p.WriteString("</ul>\n</aside>\n</main>\n")
	s.footer(p)
	return p.Bytes()
}

func (s *site) listing(p *page, ids []int) {
	p.WriteString("<ol class=\"story-list\">\n")
	for _, id := range ids {
		a := s.arts[id]
		p.f(`<li class="story-card"><a href="%s"><img src="/img/%05d/thumb.jpg" width="320" height="180" alt=""></a>
<h3><a href="%s">%s</a></h3><p>%s</p><p class="meta">%s &middot; <time datetime="%s">%s</time></p></li>
`, a.path, a.id, a.path, a.title, a.teaser, a.author, a.date.Format(time.RFC3339), a.date.Format("2 Jan 2006"))
	}
	p.WriteString("</ol>\n")
}

func (s *site) addPage(path string, body []byte) {
	s.site.res[path] = &resource{ctype: "text/html; charset=utf-8", parts: [][]byte{body}, length: len(body), gz: gzipBytes(body), page: true, inList: true}
}

func (s *site) addIndexPages() {
	// Home: the newest stories, then a block per section.
	p := &page{r: s.rng(5, 0)}
	s.head(p, "Home", s.base, "<meta name=\"description\" content=\"The Amber Gazette: news from a synthetic world.\">\n")
	p.WriteString("<main id=\"main\" class=\"wrap home\">\n<h1 class=\"visually-hidden\">The Amber Gazette</h1>\n<section class=\"top-stories\">\n<h2>Top stories</h2>\n")
	top := make([]int, 0, 30)
	for id := 0; id < len(s.arts) && id < 30; id++ {
		top = append(top, id)
	}
	s.listing(p, top)
	p.WriteString("</section>\n")
	for i, name := range sections {
		ids := s.bySection[i][:min(5, len(s.bySection[i]))]
		p.f("<section class=\"section-block\">\n<h2><a href=\"%s\">%s</a></h2>\n", s.sectionPath(i, 1), capitalize(name))
		s.listing(p, ids)
		p.f("<p class=\"more\"><a href=\"%s\">More %s</a></p>\n</section>\n", s.sectionPath(i, 1), name)
	}
	p.WriteString("</main>\n")
	s.footer(p)
	s.addPage("/", p.Bytes())

	// Section indexes with pagination.
	for i, name := range sections {
		n := s.sectionPages(i)
		for pg := 1; pg <= n; pg++ {
			p := &page{r: s.rng(6, uint64(i<<20|pg))}
			extra := ""
			if pg > 1 {
				extra += fmt.Sprintf("<link rel=\"prev\" href=\"%s\">\n", s.sectionPath(i, pg-1))
			}
			if pg < n {
				extra += fmt.Sprintf("<link rel=\"next\" href=\"%s\">\n", s.sectionPath(i, pg+1))
			}
			title := capitalize(name)
			if pg > 1 {
				title += fmt.Sprintf(" (page %d)", pg)
			}
			s.head(p, title, s.base+s.sectionPath(i, pg)[1:], extra)
			p.f("<main id=\"main\" class=\"wrap section-index\">\n<h1>%s</h1>\n", title)
			lo := (pg - 1) * perIndexPage
			s.listing(p, s.bySection[i][lo:min(lo+perIndexPage, len(s.bySection[i]))])
			p.WriteString("<nav class=\"pagination\" aria-label=\"Pages\">\n")
			if pg > 1 {
				p.f("<a rel=\"prev\" href=\"%s\">Newer</a>\n", s.sectionPath(i, pg-1))
			}
			for k := 1; k <= n; k++ {
				if k == pg {
					p.f("<span aria-current=\"page\">%d</span>\n", k)
				} else {
					p.f("<a href=\"%s\">%d</a>\n", s.sectionPath(i, k), k)
				}
			}
			if pg < n {
				p.f("<a rel=\"next\" href=\"%s\">Older</a>\n", s.sectionPath(i, pg+1))
			}
			p.WriteString("</nav>\n</main>\n")
			s.footer(p)
			s.addPage(s.sectionPath(i, pg), p.Bytes())
		}
	}
}

func (s *site) addRobotsAndSitemaps() {
	robots := []byte("User-agent: *\nAllow: /\n\nSitemap: " + s.base + "sitemap.xml\n")
	s.site.add("/robots.txt", "text/plain; charset=utf-8", robots, false)
	s.cdnHost.add("/robots.txt", "text/plain; charset=utf-8", []byte("User-agent: *\nAllow: /\n"), false)
	s.extHost.add("/robots.txt", "text/plain; charset=utf-8", []byte("User-agent: *\nAllow: /\n"), false)

	// /sitemap.xml is a sitemap index: one plain sitemap of the index
	// pages, and gzipped sitemaps of up to 1000 articles each.
	var idx, pages bytes.Buffer
	idx.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
	pages.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
	fmt.Fprintf(&pages, "<url><loc>%s</loc><changefreq>hourly</changefreq></url>\n", s.base)
	for i := range sections {
		for pg := 1; pg <= s.sectionPages(i); pg++ {
			fmt.Fprintf(&pages, "<url><loc>%s%s</loc></url>\n", s.base, s.sectionPath(i, pg)[1:])
		}
	}
	pages.WriteString("</urlset>\n")
	s.site.add("/sitemaps/pages.xml", "application/xml", pages.Bytes(), true)
	fmt.Fprintf(&idx, "<sitemap><loc>%ssitemaps/pages.xml</loc></sitemap>\n", s.base)
	for lo, n := 0, 1; lo < len(s.arts); lo, n = lo+1000, n+1 {
		var b bytes.Buffer
		b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
		for _, a := range s.arts[lo:min(lo+1000, len(s.arts))] {
			fmt.Fprintf(&b, "<url><loc>%s%s</loc><lastmod>%s</lastmod></url>\n", s.base, a.path[1:], a.date.Format(time.RFC3339))
		}
		b.WriteString("</urlset>\n")
		path := fmt.Sprintf("/sitemaps/articles-%d.xml.gz", n)
		s.site.add(path, "application/gzip", gzipBytes(b.Bytes()), false)
		fmt.Fprintf(&idx, "<sitemap><loc>%s%s</loc></sitemap>\n", s.base, path[1:])
	}
	idx.WriteString("</sitemapindex>\n")
	s.site.add("/sitemap.xml", "application/xml", idx.Bytes(), true)
}

// addExternal serves the pages articles cite on the external host: small
// leaf pages that link only among themselves.
func (s *site) addExternal() {
	for i := range s.extPages {
		r := s.rng(7, uint64(i))
		p := &page{r: r}
		p.f("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Amber Wire report %d</title>\n<link rel=\"stylesheet\" href=\"/wire.css\">\n</head>\n<body>\n<h1>Amber Wire report %d</h1>\n", i, i)
		p.paragraph()
		p.paragraph()
		p.f("<p>See also <a href=\"/ref/%d.html\">report %d</a>.</p>\n</body>\n</html>\n", (i+1)%s.extPages, (i+1)%s.extPages)
		s.extHost.add(fmt.Sprintf("/ref/%d.html", i), "text/html; charset=utf-8", p.Bytes(), true)
	}
	s.extHost.add("/wire.css", "text/css; charset=utf-8", []byte("body { font: 16px/1.5 Georgia, serif; max-width: 40em; margin: 2em auto; }\n"), true)
}

func (s *site) addStatic() {
	r := s.rng(8, 0)
	// site.css imports base.css (relative URL), declares CDN web fonts
	// with woff2 and woff sources, and has url() backgrounds.
	var css bytes.Buffer
	fmt.Fprintf(&css, `@charset "utf-8";
@import url("base.css");
@font-face {
  font-family: "Amber Serif";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url("%[1]sfonts/amber-serif.woff2") format("woff2"), url("%[1]sfonts/amber-serif.woff") format("woff");
}
@font-face {
  font-family: "Amber Sans";
  font-style: normal;
  font-weight: 700;
  font-display: swap;
  src: url(%[1]sfonts/amber-sans-bold.woff2) format("woff2"), url(%[1]sfonts/amber-sans-bold.woff) format("woff");
}
body { font-family: "Amber Serif", Georgia, serif; color: #1a1a1a; background: #fffdf8; margin: 0; }
h1, h2, h3, .kicker, nav { font-family: "Amber Sans", "Helvetica Neue", Arial, sans-serif; }
.masthead { background: #f6b73c url(img/masthead.png) repeat-x 0 0; border-bottom: 3px solid #1a1a1a; }
.icon { display: inline-block; width: 24px; height: 24px; background-image: url('/static/img/icons.svg'); }
.icon-menu { background-position: -24px 0; }
.lazyload { background: #eee url(img/spinner.gif) center no-repeat; }
`, s.cdn)
	for i := 0; css.Len() < 24<<10; i++ {
		fmt.Fprintf(&css, ".c-%s-%d { margin: %dpx %dpx; padding: %.2frem; color: #%06x; }\n",
			vocabulary[r.IntN(len(vocabulary))], i, r.IntN(40), r.IntN(40), r.Float64()*3, r.IntN(1<<24))
		if i%25 == 24 {
			fmt.Fprintf(&css, "@media (min-width: %dpx) { .wrap { max-width: %dpx; } .c-%d { display: none; } }\n", 600+i*4, 560+i*4, i)
		}
	}
	s.site.add("/static/site.css", "text/css; charset=utf-8", css.Bytes(), true).inList = true

	base := []byte(`/* base.css: reset and layout, imported by site.css */
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
img { max-width: 100%; height: auto; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 16px; }
.site-footer { background: #1a1a1a url("img/pattern.png") repeat; color: #eee; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`)
	s.site.add("/static/base.css", "text/css; charset=utf-8", base, true).inList = true

	var js bytes.Buffer
	js.WriteString("/* app.js: lazy loading and the menu */\n(function () {\n  'use strict';\n")
	for i := 0; js.Len() < 28<<10; i++ {
		fmt.Fprintf(&js, "  function %s%d(el) { if (!el) { return %d; } el.dataset.%s = '%s'; return el.children.length + %d; }\n",
			vocabulary[r.IntN(len(vocabulary))], i, i, vocabulary[r.IntN(len(vocabulary))], vocabulary[r.IntN(len(vocabulary))], r.IntN(1000))
	}
	js.WriteString("  document.querySelectorAll('img.lazyload').forEach(function (img) { img.src = img.dataset.src; if (img.dataset.srcset) { img.srcset = img.dataset.srcset; } });\n})();\n")
	s.site.add("/static/app.js", "text/javascript; charset=utf-8", js.Bytes(), true).inList = true

	var svg bytes.Buffer
	svg.WriteString("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"96\" height=\"24\" viewBox=\"0 0 96 24\">\n")
	for i := range 4 {
		fmt.Fprintf(&svg, "<rect x=\"%d\" y=\"4\" width=\"16\" height=\"16\" rx=\"3\" fill=\"#%06x\"/>\n", i*24+4, r.IntN(1<<24))
	}
	svg.WriteString("</svg>\n")
	s.site.add("/static/img/icons.svg", "image/svg+xml", svg.Bytes(), true).inList = true

	// A real 1×1 transparent GIF as the lazy-loading placeholder.
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	s.site.add("/static/img/placeholder.gif", "image/gif", gif, false).inList = true

	for _, b := range []struct {
		path, ctype string
		size        int
	}{
		{"/favicon.ico", "image/x-icon", 5430},
		{"/static/img/touch-icon.png", "image/png", 9120},
		{"/static/img/logo.png", "image/png", 14200},
		{"/static/img/masthead.png", "image/png", 21400},
		{"/static/img/pattern.png", "image/png", 3800},
		{"/static/img/spinner.gif", "image/gif", 6700},
	} {
		s.site.addBlob(s, r, b.path, b.ctype, b.size)
	}
	for _, b := range []struct {
		path, ctype string
		size        int
	}{
		{"/fonts/amber-serif.woff2", "font/woff2", 38400},
		{"/fonts/amber-serif.woff", "font/woff", 51200},
		{"/fonts/amber-sans-bold.woff2", "font/woff2", 29700},
		{"/fonts/amber-sans-bold.woff", "font/woff", 40100},
	} {
		s.cdnHost.addBlob(s, r, b.path, b.ctype, b.size)
	}
	var vendor bytes.Buffer
	vendor.WriteString("/*! vendor.min.js (synthetic) */\n")
	for i := 0; vendor.Len() < 80<<10; i++ {
		fmt.Fprintf(&vendor, "var %s_%d=function(a,b){return a%s%d+b};", vocabulary[r.IntN(len(vocabulary))], i, "*", r.IntN(100))
	}
	vendor.WriteString("\n")
	s.cdnHost.add("/js/vendor.min.js", "text/javascript; charset=utf-8", vendor.Bytes(), true).inList = true
}

func (s *site) manifest() []string {
	var urls []string
	for _, h := range []*host{s.site, s.cdnHost} {
		for path, r := range h.res {
			if r.inList {
				urls = append(urls, h.base+path[1:])
			}
		}
	}
	sort.Strings(urls)
	return urls
}

// articleURLs are the URLs of the articles, in the order of their ids.
func (s *site) articleURLs() []string {
	urls := make([]string, len(s.arts))
	for i, a := range s.arts {
		urls[i] = s.base + a.path[1:]
	}
	return urls
}

// seedManifest is what an archive of the articles alone (given as seeds,
// no link followed) must contain: the articles, their images, the shared
// style sheets, scripts, fonts and icons, and the thumbnails of the
// related-article lists; not the section pages nor the thumbnails only
// they show.
func (s *site) seedManifest() []string {
	related := map[int]bool{}
	for _, a := range s.arts {
		for _, o := range a.related {
			related[o] = true
		}
	}
	var urls []string
	for _, h := range []*host{s.site, s.cdnHost} {
		for path, r := range h.res {
			if !r.inList || r.page && !strings.HasPrefix(path, "/20") {
				continue // the section pages and the front page
			}
			var id int
			var name string
			if n, _ := fmt.Sscanf(path, "/img/%05d/%s", &id, &name); n == 2 && name == "thumb.jpg" && !related[id] {
				continue
			}
			urls = append(urls, h.base+path[1:])
		}
	}
	sort.Strings(urls)
	return urls
}

func writeLines(name string, lines []string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type siteStats struct {
	pages, resources         int
	bytes, htmlBytes, htmlGz int64
}

func (s *site) stats() siteStats {
	var st siteStats
	for _, h := range []*host{s.site, s.cdnHost} {
		for _, r := range h.res {
			if !r.inList {
				continue
			}
			st.bytes += int64(r.length)
			if r.page {
				st.pages++
				st.htmlBytes += int64(r.length)
				st.htmlGz += int64(len(r.gz))
			} else {
				st.resources++
			}
		}
	}
	return st
}

func capitalize(w string) string {
	if w == "" || w[0] < 'a' || w[0] > 'z' {
		return w
	}
	return string(w[0]-'a'+'A') + w[1:]
}

func pick(r *rand.Rand, from []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = from[r.IntN(len(from))]
	}
	return out
}

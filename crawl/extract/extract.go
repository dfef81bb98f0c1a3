package extract

import (
	"bytes"
	"io"
	"net/url"
	"strings"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"
	"golang.org/x/net/html"

	"github.com/amber-archiver/amber/internal/cssurl"
	"github.com/amber-archiver/amber/internal/srcset"
)

// Links is what a page refers to.
type Links struct {
	Title      string
	Requisites []string // absolute URLs a browser loads to render the page
	Pages      []string // absolute URLs of linked pages (a, area, canonical, next, prev, prerender)
	Refresh    string   // target of a <meta http-equiv=refresh>, absolute
	// Icon reports a <link rel=icon> (or "shortcut icon") with an href:
	// a browser asks for /favicon.ico only when the page names none.
	Icon bool
	// Dropped counts the distinct references past the cap on requisites
	// or on pages of one document (DefaultMaxLinksPerPage).
	Dropped int
	// Upgraded lists the requisites that are http: URLs of an https page
	// upgraded to https: (mixed content), each also in Requisites, after
	// the URL as written. A browser that cannot load one shows nothing; it
	// is not the page's failure.
	Upgraded []string
}

// DefaultMaxLinksPerPage bounds the distinct requisites, and apart from
// them the distinct page links, taken from one HTML document. Real
// articles name a few hundred of each; the bound keeps a page of a million
// links from holding a million URLs in memory at once.
const DefaultMaxLinksPerPage = 25000

// requisiteAttrs lists, by element, the attributes whose URLs a browser
// fetches to render a page (lazy-loading variants included). srcset-style
// attributes are parsed separately. "image" is SVG's (href, xlink:href),
// and in HTML an alias the parser turns into img (src).
var requisiteAttrs = map[string][]string{
	"img":     {"src", "data-src", "data-original", "data-lazy-src"},
	"source":  {"src", "data-src"},
	"script":  {"src"},
	"video":   {"poster", "src"},
	"audio":   {"src"},
	"track":   {"src"},
	"embed":   {"src"},
	"object":  {"data"},
	"iframe":  {"src"},
	"frame":   {"src"},
	"use":     {"href", "xlink:href"}, // SVG sprite sheets: the fragment is dropped
	"image":   {"href", "xlink:href", "src"},
	"feimage": {"href", "xlink:href"},
}

// upgradeTags are the elements whose http: URLs a browser upgrades to
// https: on an https page (mixed-content autoupgrade: images, audio,
// video); the others' are blocked. Images in CSS are upgraded too.
var upgradeTags = map[string]bool{"img": true, "source": true, "video": true, "audio": true, "image": true, "input": true}

var srcsetAttrs = map[string][]string{
	"img":    {"srcset", "data-srcset", "data-lazy-srcset"},
	"source": {"srcset", "data-srcset", "data-lazy-srcset"},
	"link":   {"imagesrcset"},
}

// linkRelRequisite lists <link rel> values whose href a browser loads.
var linkRelRequisite = map[string]bool{
	"stylesheet": true, "icon": true, "shortcut": true, "apple-touch-icon": true,
	"apple-touch-icon-precomposed": true, "mask-icon": true, "preload": true,
	"manifest": true, "modulepreload": true, "prefetch": true,
}

// linkRelPage lists <link rel> values that name another page.
var linkRelPage = map[string]bool{"canonical": true, "next": true, "prev": true, "prerender": true}

// ReadHTML finds the requisites and links of an HTML document fetched
// from pageURL, resolving against <base href> when present. It reads the
// document once, builds no tree, and never fails on malformed markup. The
// document is read as a browser with scripting off reads it: the content
// of <noscript> is markup.
func ReadHTML(pageURL *url.URL, body io.Reader) (Links, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return Links{}, err
	}
	return HTML(pageURL, b, DefaultMaxLinksPerPage), nil
}

// HTML is ReadHTML on a document in memory, keeping up to max
// distinct requisites and max distinct page links. It scans the tags with
// htmlScanner, which tokenizes them as golang.org/x/net/html does.
func HTML(pageURL *url.URL, doc []byte, max int) Links {
	x := newHTMLExtractor(pageURL, max)
	x.nested = func(doc string) { scanHTML(x, []byte(doc)) }
	scanHTML(x, doc)
	return x.finish()
}

// scanHTML feeds the tags of doc to x.
func scanHTML(x *htmlExtractor, doc []byte) {
	z := newHTMLScanner(doc)
	// attr returns the decoded value of the current tag's attribute name.
	attr := func(name string) (string, bool) {
		for _, a := range z.attrs {
			if asciiLowerEqualString(a.key, name) {
				return attrValue(a.val), true
			}
		}
		return "", false
	}
	for {
		switch z.next() {
		case tokEOF:
			return
		case tokRaw:
			x.text(z.textTag, func() string { return rawText(z.text, z.textTag) })
		case tokEnd:
			x.end(string(z.name))
		case tokStart:
			x.start(string(z.name), z.selfClosing, len(z.attrs) > 0, attr)
		}
	}
}

// htmlExtractor turns the tokens of a document into its Links. The
// scanner and the tokenizer (the fuzz oracle) feed it alike.
type htmlExtractor struct {
	page    *url.URL
	max     int
	refs    []htmlRef
	seen    [2]map[string]int // raw references kept (index in refs), requisites [0] and pages [1]
	out     Links
	baseRaw string
	baseSet bool
	inTitle bool
	inStyle bool
	// nested reads the document of an <iframe srcdoc> into the extractor,
	// with the same tokenizer; depth counts the srcdoc levels.
	nested func(doc string)
	depth  int
}

// maxSrcdocDepth bounds <iframe srcdoc> documents inside srcdoc documents.
const maxSrcdocDepth = 3

type htmlRef struct {
	raw     string
	page    bool // a linked page, else a requisite
	upgrade bool // an image, audio or video: upgraded on an https page
}

func newHTMLExtractor(page *url.URL, max int) *htmlExtractor {
	if max <= 0 {
		max = DefaultMaxLinksPerPage
	}
	return &htmlExtractor{page: page, max: max, seen: [2]map[string]int{{}, {}}}
}

// ref notes a reference, once per kind, up to the cap. Pages and
// requisites are kept apart: <a href=hero.jpg><img src=hero.jpg></a>
// names hero.jpg as both, and a browser loads the image.
func (x *htmlExtractor) ref(raw string, page, upgrade bool) {
	if raw == "" {
		return
	}
	k := 0
	if page {
		k = 1
	}
	if i, ok := x.seen[k][raw]; ok {
		x.refs[i].upgrade = x.refs[i].upgrade || upgrade // <link rel=preload href=X><img src=X>
		return
	}
	if len(x.seen[k]) >= x.max {
		x.out.Dropped++ // repeats of one dropped reference count each time
		return
	}
	x.seen[k][raw] = len(x.refs)
	x.refs = append(x.refs, htmlRef{raw: raw, page: page, upgrade: upgrade})
}

// css notes the URLs of a style sheet or style attribute, resolved later
// against the document's base like every other reference.
func (x *htmlExtractor) css(src string) {
	cssRefs([]byte(src), func(raw string, image bool) { x.ref(raw, false, image) })
}

func (x *htmlExtractor) text(tag string, text func() string) {
	if x.inTitle && x.out.Title == "" {
		x.out.Title = strings.TrimSpace(html.UnescapeString(text()))
	}
	if x.inStyle {
		x.css(text())
	}
}

func (x *htmlExtractor) end(tag string) {
	switch tag {
	case "title":
		x.inTitle = false
	case "style":
		x.inStyle = false
	}
}

// start takes a start tag; attr returns an attribute's decoded value.
func (x *htmlExtractor) start(tag string, selfClosing, hasAttrs bool, attr func(string) (string, bool)) {
	if !selfClosing {
		x.inTitle = tag == "title"
		x.inStyle = tag == "style"
	}
	if !hasAttrs {
		return
	}
	up := upgradeTags[tag]
	for _, a := range requisiteAttrs[tag] {
		if v, ok := attr(a); ok {
			x.ref(v, false, up)
		}
	}
	for _, a := range srcsetAttrs[tag] {
		if v, ok := attr(a); ok {
			for _, u := range ParseSrcset(v) {
				x.ref(u, false, up)
			}
		}
	}
	if v, ok := attr("background"); ok {
		x.ref(v, false, true)
	}
	if v, ok := attr("style"); ok {
		x.css(v)
	}
	switch tag {
	case "base":
		if v, ok := attr("href"); ok && !x.baseSet && x.depth == 0 {
			x.baseRaw, x.baseSet = v, true
		}
	case "iframe":
		// An iframe srcdoc document's URLs resolve against this document's
		// base (about:srcdoc inherits it), and a browser loads them.
		if v, ok := attr("srcdoc"); ok && x.nested != nil && x.depth < maxSrcdocDepth {
			title, inTitle, inStyle, refresh := x.out.Title, x.inTitle, x.inStyle, x.out.Refresh
			x.depth++
			x.inTitle, x.inStyle = false, false
			x.nested(v)
			x.depth--
			x.out.Title, x.inTitle, x.inStyle, x.out.Refresh = title, inTitle, inStyle, refresh
		}
	case "a", "area":
		if v, ok := attr("href"); ok {
			x.ref(v, true, false)
		}
	case "input":
		if t, _ := attr("type"); strings.EqualFold(t, "image") {
			src, _ := attr("src")
			x.ref(src, false, true)
		}
	case "link":
		href, ok := attr("href")
		if !ok {
			break
		}
		rels, _ := attr("rel")
		requisite, page := false, false
		for _, rel := range strings.Fields(strings.ToLower(rels)) {
			requisite = requisite || linkRelRequisite[rel]
			page = page || linkRelPage[rel]
			if rel == "icon" && strings.TrimSpace(href) != "" {
				x.out.Icon = true
			}
		}
		if requisite {
			x.ref(href, false, false)
		} else if page {
			x.ref(href, true, false)
		}
	case "meta":
		if he, _ := attr("http-equiv"); strings.EqualFold(he, "refresh") {
			content, _ := attr("content")
			x.out.Refresh = refreshTarget(content)
		}
	}
}

// finish resolves the references against the document's base. On an https
// page, an http: image, audio or video URL is listed twice: upgraded to
// https: (what a browser loads) and as named (what the page says, so a
// replay finds either).
func (x *htmlExtractor) finish() Links {
	base := x.page
	if x.baseSet {
		if b, err := x.page.Parse(strings.TrimSpace(x.baseRaw)); err == nil {
			base = b
		}
	}
	out := x.out
	secure := x.page.Scheme == "https"
	seen := [2]map[string]struct{}{{}, {}}
	add := func(r htmlRef, u string) {
		k, list := 0, &out.Requisites
		if r.page {
			k, list = 1, &out.Pages
		}
		if _, ok := seen[k][u]; !ok {
			seen[k][u] = struct{}{}
			*list = append(*list, u)
		}
	}
	for _, r := range x.refs {
		u := Resolve(base, r.raw)
		if u == "" {
			continue
		}
		if secure && r.upgrade && strings.HasPrefix(u, "http:") {
			up := upgradeURL(u)
			if _, ok := seen[0][up]; !ok {
				out.Upgraded = append(out.Upgraded, up)
			}
			add(r, up)
		}
		add(r, u)
	}
	if out.Refresh != "" {
		out.Refresh = Resolve(base, out.Refresh)
	}
	return out
}

// upgradeURL is u (http:) as a browser upgrades mixed content: https:,
// and port 80 becomes the default port (443); another port stays.
func upgradeURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Scheme = "https"
	if p.Port() == "80" {
		p.Host = p.Hostname()
		if strings.Contains(p.Host, ":") {
			p.Host = "[" + p.Host + "]"
		}
	}
	return p.String()
}

// asciiLowerEqualString compares a, ASCII letters folded, with the
// lower-case name s.
func asciiLowerEqualString(a []byte, s string) bool {
	if len(a) != len(s) {
		return false
	}
	for i := range a {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// refreshTarget returns the URL of a meta refresh content value,
// "5; url=/next" (the url= part may be quoted or bare), or "".
func refreshTarget(content string) string {
	_, target, ok := strings.Cut(content, ";")
	if !ok {
		return ""
	}
	target = strings.TrimSpace(target)
	if len(target) >= 4 && strings.EqualFold(target[:4], "url=") {
		target = strings.TrimSpace(target[4:])
	}
	return strings.Trim(target, `"'`)
}

// Resolve makes raw absolute against base and drops the fragment. It
// returns "" for empty references and schemes that are not fetched.
func Resolve(base *url.URL, raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "#") {
		return ""
	}
	u, err := base.Parse(raw)
	if err != nil {
		return ""
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "" // data:, javascript:, mailto:, tel:, blob: ...
	}
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

// ParseSrcset returns the URLs of a srcset attribute ("a.jpg 1x, b.jpg
// 2x"), split as the HTML standard does (a URL may contain commas).
func ParseSrcset(s string) []string { return srcset.URLs(s) }

// ReadCSS returns the absolute URLs a style sheet loads: url(...) values
// (backgrounds, fonts in @font-face src lists, cursors, ...), @import
// targets and image-set() strings, resolved against base.
func ReadCSS(base *url.URL, r io.Reader) []string {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil
	}
	out, _ := CSS(base, src)
	return out
}

// CSS is ReadCSS on a sheet in memory; it also returns the
// URLs upgraded from http: (Links.Upgraded).
func CSS(base *url.URL, src []byte) (out, upgraded []string) {
	seen := map[string]bool{}
	add := func(u string) bool {
		if seen[u] {
			return false
		}
		seen[u] = true
		out = append(out, u)
		return true
	}
	secure := base.Scheme == "https"
	cssRefs(src, func(raw string, image bool) {
		u := Resolve(base, raw)
		if u == "" {
			return
		}
		if secure && image && strings.HasPrefix(u, "http:") {
			// Mixed content: images are upgraded, as in HTML.
			if up := upgradeURL(u); add(up) {
				upgraded = append(upgraded, up)
			}
		}
		add(u)
	})
	return out, upgraded
}

// cssRefs calls fn with each URL of a style sheet, as written; image
// tells a URL that loads an image (not an @import, not a font of an
// @font-face rule), which a browser upgrades from http: on an https page.
func cssRefs(src []byte, fn func(raw string, image bool)) {
	l := css.NewLexer(parse.NewInputBytes(src))
	afterImport := false
	stringFunc := 0 // nesting depth inside url( / image-set( whose strings are URLs
	fontFace := false
	fontDepth := 0 // brace depth inside an @font-face rule
	for {
		tt, data := l.Next()
		switch tt {
		case css.ErrorToken:
			return
		case css.AtKeywordToken:
			afterImport = bytes.EqualFold(data, []byte("@import"))
			fontFace = bytes.EqualFold(data, []byte("@font-face"))
			continue
		case css.LeftBraceToken:
			if fontDepth > 0 || fontFace {
				fontDepth++
			}
			fontFace = false
		case css.RightBraceToken:
			if fontDepth > 0 {
				fontDepth--
			}
		case css.SemicolonToken:
			fontFace = false
		case css.URLToken:
			fn(cssurl.URLValue(data), !afterImport && fontDepth == 0)
		case css.FunctionToken:
			name := strings.ToLower(string(data))
			if stringFunc > 0 {
				stringFunc++
			} else if name == "url(" || name == "src(" || strings.HasSuffix(name, "image-set(") {
				stringFunc = 1
			}
		case css.RightParenthesisToken:
			if stringFunc > 0 {
				stringFunc--
			}
		case css.StringToken:
			if stringFunc > 0 || afterImport {
				fn(cssurl.Unquote(data), !afterImport && fontDepth == 0)
			}
		case css.WhitespaceToken, css.CommentToken:
			continue
		}
		afterImport = false
	}
}

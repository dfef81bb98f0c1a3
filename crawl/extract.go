package crawl

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
	Pages      []string // absolute URLs of linked pages (a, area, canonical, next, prev)
	Refresh    string   // target of a <meta http-equiv=refresh>, absolute
}

// requisiteAttrs lists, by element, the attributes whose URLs a browser
// fetches to render a page (lazy-loading variants included). srcset-style
// attributes are parsed separately.
var requisiteAttrs = map[string][]string{
	"img":    {"src", "data-src", "data-original", "data-lazy-src"},
	"source": {"src", "data-src"},
	"script": {"src"},
	"video":  {"poster", "src"},
	"audio":  {"src"},
	"track":  {"src"},
	"embed":  {"src"},
	"object": {"data"},
	"iframe": {"src"},
	"frame":  {"src"},
}

var srcsetAttrs = map[string][]string{
	"img":    {"srcset", "data-srcset", "data-lazy-srcset"},
	"source": {"srcset", "data-srcset", "data-lazy-srcset"},
	"link":   {"imagesrcset"},
}

// linkRelRequisite lists <link rel> values whose href a browser loads.
var linkRelRequisite = map[string]bool{
	"stylesheet": true, "icon": true, "shortcut": true, "apple-touch-icon": true,
	"apple-touch-icon-precomposed": true, "mask-icon": true, "preload": true,
	"manifest": true, "modulepreload": true,
}

// linkRelPage lists <link rel> values that name another page.
var linkRelPage = map[string]bool{"canonical": true, "next": true, "prev": true}

// ExtractHTML finds the requisites and links of an HTML document fetched
// from pageURL, resolving against <base href> when present. It reads the
// document once, builds no tree, and never fails on malformed markup.
func ExtractHTML(pageURL *url.URL, body io.Reader) (Links, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return Links{}, err
	}
	return extractHTML(pageURL, b), nil
}

// extractHTML is ExtractHTML on a document in memory. It scans the tags
// with htmlScanner, which tokenizes them as golang.org/x/net/html does.
func extractHTML(pageURL *url.URL, doc []byte) Links {
	type ref struct {
		raw  string
		page bool // a linked page, else a requisite
	}
	var (
		refs    []ref
		styles  []string // <style> blocks and style attributes, resolved at the end
		out     Links
		baseRaw string
		baseSet bool
		inTitle bool
		inStyle bool
	)
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
			base := pageURL
			if baseSet {
				if b, err := pageURL.Parse(strings.TrimSpace(baseRaw)); err == nil {
					base = b
				}
			}
			seen := map[string]bool{}
			add := func(list *[]string, raw string) {
				if u := resolve(base, raw); u != "" && !seen[u] {
					seen[u] = true
					*list = append(*list, u)
				}
			}
			for _, r := range refs {
				if r.page {
					add(&out.Pages, r.raw)
				} else if r.raw != "" {
					add(&out.Requisites, r.raw)
				}
			}
			for _, css := range styles {
				for _, u := range ExtractCSS(base, strings.NewReader(css)) {
					add(&out.Requisites, u)
				}
			}
			if out.Refresh != "" {
				out.Refresh = resolve(base, out.Refresh)
			}
			return out
		case tokRaw:
			if inTitle && out.Title == "" {
				out.Title = strings.TrimSpace(html.UnescapeString(rawText(z.text, z.textTag)))
			}
			if inStyle {
				styles = append(styles, rawText(z.text, z.textTag))
			}
		case tokEnd:
			switch string(z.name) {
			case "title":
				inTitle = false
			case "style":
				inStyle = false
			}
		case tokStart:
			tag := string(z.name)
			if !z.selfClosing {
				inTitle = tag == "title"
				inStyle = tag == "style"
			}
			if len(z.attrs) == 0 {
				continue
			}
			for _, a := range requisiteAttrs[tag] {
				if v, ok := attr(a); ok {
					refs = append(refs, ref{raw: v})
				}
			}
			for _, a := range srcsetAttrs[tag] {
				if v, ok := attr(a); ok {
					for _, u := range ParseSrcset(v) {
						refs = append(refs, ref{raw: u})
					}
				}
			}
			if v, ok := attr("background"); ok {
				refs = append(refs, ref{raw: v})
			}
			if v, ok := attr("style"); ok {
				styles = append(styles, v)
			}
			switch tag {
			case "base":
				if v, ok := attr("href"); ok && !baseSet {
					baseRaw, baseSet = v, true
				}
			case "a", "area":
				if v, ok := attr("href"); ok {
					refs = append(refs, ref{raw: v, page: true})
				}
			case "input":
				if t, _ := attr("type"); strings.EqualFold(t, "image") {
					src, _ := attr("src")
					refs = append(refs, ref{raw: src})
				}
			case "link":
				href, ok := attr("href")
				if !ok {
					break
				}
				rels, _ := attr("rel")
				for _, rel := range strings.Fields(strings.ToLower(rels)) {
					if linkRelRequisite[rel] {
						refs = append(refs, ref{raw: href})
						break
					}
					if linkRelPage[rel] {
						refs = append(refs, ref{raw: href, page: true})
						break
					}
				}
			case "meta":
				if he, _ := attr("http-equiv"); strings.EqualFold(he, "refresh") {
					content, _ := attr("content")
					out.Refresh = refreshTarget(content)
				}
			}
		}
	}
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

// resolve makes raw absolute against base and drops the fragment. It
// returns "" for empty references and schemes that are not fetched.
func resolve(base *url.URL, raw string) string {
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

// ExtractCSS returns the absolute URLs a style sheet loads: url(...) values
// (backgrounds, fonts in @font-face src lists, cursors, ...), @import
// targets and image-set() strings, resolved against base.
func ExtractCSS(base *url.URL, r io.Reader) []string {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil
	}
	l := css.NewLexer(parse.NewInputBytes(src))
	var out []string
	seen := map[string]bool{}
	add := func(raw string) {
		if u := resolve(base, raw); u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	afterImport := false
	stringFunc := 0 // nesting depth inside url( / image-set( whose strings are URLs
	for {
		tt, data := l.Next()
		switch tt {
		case css.ErrorToken:
			return out
		case css.AtKeywordToken:
			afterImport = bytes.EqualFold(data, []byte("@import"))
			continue
		case css.URLToken:
			add(cssurl.URLValue(data))
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
				add(cssurl.Unquote(data))
			}
		case css.WhitespaceToken, css.CommentToken:
			continue
		}
		afterImport = false
	}
}
